# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The receipt of a paid payment (BILL-8): paid online with WeChat Pay or
received by the finance system

The template is HTML.  Tryton turns HTML into PDF with WeasyPrint, which
needs the Pango system libraries; without it the receipt is made with
xhtml2pdf, pure Python, whose built-in Chinese font (STSong-Light, an Adobe
Asian font the PDF readers provide) shows Chinese text without a font file.
"""
import datetime as dt
import io
import logging
from types import SimpleNamespace

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)


def receipted_payments(party, offset=0, limit=20):
    """Return a page of the payments of party that have a receipt, the
    latest first (paid online, received by the finance system), and their
    total count"""
    pool = Pool()
    Attempt = pool.get('property.payment.attempt')
    FinancePayment = pool.get('property.finance.payment')
    party_id = party.id if party else -1
    lists = [
        (Attempt, [('party', '=', party_id), ('state', '=', 'paid')],
            [('paid_at', 'DESC'), ('id', 'DESC')]),
        (FinancePayment, [
                ('invoice.party', '=', party_id), ('state', '=', 'posted'),
                ], [('date', 'DESC'), ('id', 'DESC')]),
        ]
    records, total = [], 0
    for Model, domain, order in lists:
        # the page of the merged lists is in the first offset + limit of each
        records += Model.search(domain, limit=offset + limit, order=order)
        total += Model.search_count(domain)
    records.sort(key=_receipt_time, reverse=True)
    return records[offset:offset + limit], total


def _receipt_time(record):
    "When the payment was paid (online) or received (finance system)"
    if record.__name__ == 'property.payment.attempt':
        return record.paid_at.date(), record.paid_at
    return record.date, dt.datetime.combine(record.date, dt.time())


def html_to_pdf(html):
    "Return the PDF of the XHTML document html (str or bytes)"
    from xhtml2pdf import pisa
    if isinstance(html, bytes):
        html = html.decode('utf-8')
    output = io.BytesIO()
    result = pisa.CreatePDF(html, dest=output, encoding='utf-8')
    if result.err:
        raise ValueError("receipt not rendered")
    return output.getvalue()


class Receipt(Report):
    __name__ = 'property.payment.receipt'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        model = data.get('model')
        if data.get('action_id'):
            model = ActionReport(data['action_id']).model or model
        for record in pool.get(model).browse(ids):
            cls.check_receipt(record)
        return super().execute(ids, data)

    @classmethod
    def check_receipt(cls, record):
        "Raise when record has no receipt"
        if record.__name__ == 'property.finance.payment':
            if record.state != 'posted':
                raise AccessError(gettext(
                        'property_billing.msg_receipt_finance_not_posted',
                        payment=record.rec_name))
        elif record.state != 'paid':
            raise AccessError(gettext(
                    'property_billing.msg_receipt_not_paid',
                    payment=record.rec_name))

    @classmethod
    def get_receipt(cls, record, lang):
        "Return what the receipt of record shows"
        if record.__name__ == 'property.finance.payment':
            return SimpleNamespace(
                online=False,
                company=record.company,
                number=record.reference,
                paid_at=cls.format_date(record.date, lang),
                payer=record.invoice.party,
                invoice=record.invoice,
                transaction='',
                amount=record.amount,
                currency=record.currency)
        return SimpleNamespace(
            online=True,
            company=record.company,
            number=record.out_trade_no,
            paid_at=cls.format_datetime(record.paid_at, lang,
                format='%Y-%m-%d %H:%M', timezone=record.company.timezone),
            payer=record.party,
            invoice=record.invoice,
            transaction=record.transaction_id or '',
            amount=record.amount_yuan,
            currency=record.currency)

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        context = super().get_context(records, header, data)
        lang = Lang.get()

        def amount(value, currency):
            return cls.format_currency(value, lang, currency)

        context['receipt'] = lambda record: cls.get_receipt(record, lang)
        context['amount'] = amount
        context['bill_lines'] = lambda receipt: [
            l for l in receipt.invoice.lines if l.type == 'line']
        return context

    @classmethod
    def convert(cls, report, data, timeout=5 * 60, retry=5):
        output_format = report.extension or report.template_extension
        if (report.template_extension in {'html', 'xhtml'}
                and output_format == 'pdf'):
            try:
                import weasyprint  # noqa: F401
            except (ImportError, OSError):
                return output_format, html_to_pdf(data)
        return super().convert(report, data, timeout=timeout, retry=retry)

    @classmethod
    def render_receipt(cls, record, format_='pdf'):
        """Return the receipt of the payment record (a WeChat Pay order or a
        finance system payment) as (extension, content)

        format_ 'html' gives the printable page without converting it.
        """
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        action, = ActionReport.search([
                ('report_name', '=', cls.__name__),
                ('model', '=', record.__name__),
                ], limit=1)
        with Transaction().set_context(
                company=record.company.id, with_rec_name=False):
            if format_ == 'html':
                cls.check_receipt(record)
                context = cls.get_context([record], {}, {})
                return 'html', cls.render(action, context)
            extension, content, _, _ = cls.execute([record.id], {
                    'action_id': action.id,
                    'model': record.__name__,
                    })
        return extension, content
