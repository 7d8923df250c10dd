# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The receipt of a paid payment (BILL-8)

The template is HTML.  Tryton turns HTML into PDF with WeasyPrint, which
needs the Pango system libraries; without it the receipt is made with
xhtml2pdf, pure Python, whose built-in Chinese font (STSong-Light, an Adobe
Asian font the PDF readers provide) shows Chinese text without a font file.
"""
import io
import logging

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)


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
        Attempt = pool.get('property.payment.attempt')
        for attempt in Attempt.browse(ids):
            if attempt.state != 'paid':
                raise AccessError(gettext(
                        'property_billing.msg_receipt_not_paid',
                        payment=attempt.rec_name))
        return super().execute(ids, data)

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        context = super().get_context(records, header, data)
        lang = Lang.get()

        def paid_at(attempt):
            return cls.format_datetime(attempt.paid_at, lang,
                format='%Y-%m-%d %H:%M',
                timezone=attempt.company.timezone)

        def amount(value, currency):
            return cls.format_currency(value, lang, currency)

        context['paid_at'] = paid_at
        context['amount'] = amount
        context['bill_lines'] = lambda attempt: [
            l for l in attempt.invoice.lines if l.type == 'line']
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
    def render_receipt(cls, attempt, format_='pdf'):
        """Return the receipt of the attempt as (extension, content)

        format_ 'html' gives the printable page without converting it.
        """
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        action, = ActionReport.search([
                ('report_name', '=', cls.__name__),
                ], limit=1)
        with Transaction().set_context(
                company=attempt.company.id, with_rec_name=False):
            if format_ == 'html':
                context = cls.get_context([attempt], {}, {})
                return 'html', cls.render(action, context)
            extension, content, _, _ = cls.execute([attempt.id], {
                    'action_id': action.id,
                    'model': 'property.payment.attempt',
                    })
        return extension, content
