# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Payments received by the existing finance system (BILL-5)

The finance system reports them through an authenticated endpoint or in its
exported payment statistics (CSV/XLSX).  Both ways receive a payment once
per external reference, pay the bill it designates through accounting and
keep the rows that designate no bill as unmatched for a person.
"""
import datetime as dt
import hashlib
import secrets
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, Model, ModelSQL, ModelView, Unique, Workflow,
    fields)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.modules.property_community.sheet import SheetMixin
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .payment import lock_for_update, reconcile_invoice

KEY_PREFIX = 'fin_'
MAX_AMOUNT = Decimal('9999999999.99')


def hash_key(key):
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


def parse_amount(value):
    "Return a positive Decimal of at most 2 decimals, or None"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, float):
        value = repr(value)
    if not isinstance(value, str):
        return None
    value = value.strip().replace(',', '').lstrip('\u00a5\uffe5')
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    if (not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT
            or amount != amount.quantize(Decimal('0.01'))):
        return None
    return amount.quantize(Decimal('0.01'))


class Integration(DeactivableMixin, ModelSQL, ModelView):
    "A system allowed to report payments received, with its key"
    __name__ = 'property.finance.integration'
    name = fields.Char("Name", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    key_hash = fields.Char("Key Digest", readonly=True, strip=False)
    key_hint = fields.Char("Key", readonly=True,
        help="The beginning of the key, to recognize it.")
    key_issued_at = fields.Timestamp("Key Issued at", readonly=True)
    last_used = fields.Timestamp("Last Used", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_hash_unique', Unique(t, t.key_hash),
                'property_billing.msg_finance_integration_key_unique'),
            ]
        cls._buttons.update({
                'issue_key': {
                    'icon': 'tryton-launch',
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def copy(cls, integrations, default=None):
        default = default.copy() if default is not None else {}
        for name in ['key_hash', 'key_hint', 'key_issued_at', 'last_used']:
            default.setdefault(name, None)
        return super().copy(integrations, default=default)

    @classmethod
    @ModelView.button_action('property_billing.wizard_finance_issue_key')
    def issue_key(cls, integrations):
        pass

    def new_key(self):
        "Replace the key of the integration; return it (shown only once)"
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.key_hash = hash_key(key)
        self.key_hint = key[:len(KEY_PREFIX) + 4] + '...'
        self.key_issued_at = dt.datetime.now()
        self.save()
        return key

    @classmethod
    def authenticate(cls, key):
        "Return the active integration of the key or None"
        if not key or not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        integrations = cls.search([
                ('key_hash', '=', hash_key(key)),
                ], limit=1)
        if integrations:
            integration, = integrations
            integration.last_used = dt.datetime.now()
            integration.save()
            return integration


class IssueKeyShow(ModelView):
    __name__ = 'property.finance.integration.issue_key.show'
    key = fields.Char("Key", readonly=True,
        help="Give it to the finance system now: it is not shown again.")


class IssueKey(Wizard):
    __name__ = 'property.finance.integration.issue_key'
    start_state = 'issue'
    issue = StateTransition()
    show = StateView('property.finance.integration.issue_key.show',
        'property_billing.finance_issue_key_show_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_issue(self):
        self.show.key = self.record.new_key()
        return 'show'

    def default_show(self, fields):
        key, self.show.key = self.show.key, None
        return {'key': key}


class Payment(Workflow, ModelSQL, ModelView):
    "A payment received reported by the finance system"
    __name__ = 'property.finance.payment'
    _states = {
        'readonly': Eval('state') != 'unmatched',
        }
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    reference = fields.Char("Reference", required=True, readonly=True,
        help="The reference of the payment in the finance system.")
    source = fields.Selection([
            ('api', "Finance System"),
            ('import', "Import"),
            ], "Source", required=True, readonly=True)
    integration = fields.Many2One(
        'property.finance.integration', "Integration", readonly=True,
        ondelete='RESTRICT')
    filename = fields.Char("File", readonly=True)
    bill_number = fields.Char("Bill Number", readonly=True)
    payer = fields.Char("Payer", readonly=True)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, readonly=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    date = fields.Date("Date", required=True, readonly=True)
    invoice = fields.Many2One('account.invoice', "Bill",
        ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '=', 'out'),
            If(Eval('state') == 'unmatched',
                ('state', '=', 'posted'),
                ('state', 'in', ['posted', 'paid'])),
            ],
        states=_states,
        help="Set the bill of an unmatched payment, then post it.")
    move = fields.Many2One('account.move', "Move", readonly=True)
    state = fields.Selection([
            ('unmatched', "Unmatched"),
            ('posted', "Posted"),
            ('ignored', "Ignored"),
            ], "State", required=True, readonly=True, sort=False)
    message = fields.Char("Why Unmatched", readonly=True,
        states={
            'invisible': Eval('state') != 'unmatched',
            })
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('reference_unique', Unique(t, t.company, t.reference),
                'property_billing.msg_finance_payment_reference_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.invoice, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('unmatched', 'posted'),
            ('unmatched', 'ignored'),
            ('ignored', 'unmatched'),
            }
        cls._buttons.update({
                'match': {
                    'invisible': Eval('state') != 'unmatched',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'ignore': {
                    'invisible': Eval('state') != 'unmatched',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'ignored',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'unmatched'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        return self.reference

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('reference', operator, value),
            ('bill_number', operator, value),
            ('payer', operator, value),
            ]

    @classmethod
    def receive(cls, company, rows, source, integration=None,
            filename=None):
        """Receive payments; return (payment, created) for each row

        rows are dicts of reference, amount, date and bill_number or payer.
        A reference already received returns the payment received then.
        """
        references = [r['reference'] for r in rows]
        existing = {p.reference: p for p in cls.search([
                    ('company', '=', company.id),
                    ('reference', 'in', references),
                    ])}
        result = []
        for row in rows:
            payment = existing.get(row['reference'])
            if payment:
                result.append((payment, False))
                continue
            payment = cls(
                company=company, source=source, integration=integration,
                filename=filename, reference=row['reference'],
                bill_number=row.get('bill_number') or None,
                payer=row.get('payer') or None,
                amount=row['amount'], date=row['date'])
            payment.save()
            existing[payment.reference] = payment
            cls.post([payment])
            result.append((cls(payment.id), True))
        return result

    @classmethod
    @ModelView.button
    def match(cls, payments):
        "Post unmatched payments to the bill set or found"
        cls.post(payments)

    @classmethod
    def post(cls, payments):
        for payment in payments:
            if payment.state != 'unmatched':
                continue
            invoice, message = payment.find_invoice()
            if invoice:
                lock_for_update(Pool().get('account.invoice'), [invoice])
                invoice, message = payment.check_invoice(invoice.__class__(
                        invoice.id))
            if not invoice:
                cls.write([payment], {'message': message})
                continue
            cls.write([payment], {'invoice': invoice.id, 'message': None})
            cls.write([payment], {'move': payment.pay(invoice).id})
            cls.posted([payment])

    def _parties(self):
        Party = Pool().get('party.party')
        return Party.search(['OR',
                ('name', '=', self.payer),
                ('code', '=', self.payer),
                ])

    def find_invoice(self):
        "Return the bill the payment designates, or None and why"
        Invoice = Pool().get('account.invoice')
        if self.invoice:
            return self.invoice, None
        if self.bill_number:
            invoices = Invoice.search([
                    ('company', '=', self.company.id),
                    ('type', '=', 'out'),
                    ('number', '=', self.bill_number),
                    ('state', 'in', ['posted', 'paid']),
                    ], limit=1)
            if not invoices:
                return None, gettext(
                    'property_billing.msg_finance_unmatched_invoice_not_found',
                    number=self.bill_number)
            return invoices[0], None
        if not self.payer:
            return None, gettext(
                'property_billing.msg_finance_unmatched_no_reference')
        parties = self._parties()
        if not parties:
            return None, gettext(
                'property_billing.msg_finance_unmatched_payer_unknown',
                payer=self.payer)
        invoices = Invoice.search([
                ('company', '=', self.company.id),
                ('type', '=', 'out'),
                ('party', 'in', [p.id for p in parties]),
                ('state', '=', 'posted'),
                ], order=[('invoice_date', 'ASC'), ('number', 'ASC')])
        for invoice in invoices:
            # The oldest bill of the exact amount is the one paid
            if invoice.amount_to_pay == self.amount:
                return invoice, None
        return None, gettext(
            'property_billing.msg_finance_unmatched_no_bill',
            payer=self.payer, amount=self.amount)

    def check_invoice(self, invoice):
        "Return the bill if the payment can pay it, or None and why"
        if invoice.state != 'posted' or invoice.amount_to_pay <= 0:
            return None, gettext(
                'property_billing.msg_finance_unmatched_invoice_paid',
                number=invoice.number)
        if self.amount > invoice.amount_to_pay:
            return None, gettext(
                'property_billing.msg_finance_unmatched_amount_exceeds',
                amount=self.amount, due=invoice.amount_to_pay,
                number=invoice.number)
        if (self.payer and self.bill_number
                and invoice.party not in self._parties()):
            return None, gettext(
                'property_billing.msg_finance_unmatched_payer',
                payer=self.payer, number=invoice.number)
        return invoice, None

    def pay(self, invoice):
        "Post the payment to the bill; return the move"
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        Invoice = pool.get('account.invoice')
        with Transaction().set_context(company=self.company.id):
            method = Configuration(1).get_payment_method(
                'finance_payment_method', company=self.company.id)
            lines = invoice.pay_invoice(self.amount, method, self.date,
                description=self.reference)
            reconcile_invoice(Invoice(invoice.id))
        return lines[0].move

    @classmethod
    @Workflow.transition('posted')
    def posted(cls, payments):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('ignored')
    def ignore(cls, payments):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('unmatched')
    def reopen(cls, payments):
        pass

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if mode == 'delete':
            for payment in payments:
                if payment.state == 'posted':
                    raise AccessError(gettext(
                            'property_billing.msg_finance_payment_delete',
                            payment=payment.rec_name))


class PaymentSheet(SheetMixin, Model):
    "Payment statistics exported by the finance system"
    __name__ = 'property.finance.payment.sheet'

    @classmethod
    def columns(cls):
        return [
            ('reference', True),
            ('bill_number', False),
            ('payer', False),
            ('amount', True),
            ('date', True),
            ]

    @classmethod
    def header_label(cls, key, language=None):
        args = (language,) if language else ()
        return gettext(f'property_billing.msg_finance_column_{key}', *args)

    @classmethod
    def parse_rows(cls, rows, errors):
        result = []
        seen = {}
        for number, row in rows:
            bad = len(errors)
            values = {
                'reference': cls.parse_text(
                    errors, number, row, 'reference', max_length=64),
                'bill_number': cls.parse_text(
                    errors, number, row, 'bill_number', required=False,
                    max_length=64),
                'payer': cls.parse_text(
                    errors, number, row, 'payer', required=False,
                    max_length=120),
                'date': cls.parse_date(errors, number, row, 'date'),
                }
            value = row.get('amount', '')
            values['amount'] = parse_amount(value)
            if values['amount'] is None:
                errors.append({
                        'row': number,
                        'column': cls.header_label('amount'),
                        'value': str(value)[:100],
                        'message': gettext(
                            'property_billing.msg_finance_amount_invalid'),
                        })
            if len(errors) > bad:
                continue
            # A file repeating a reference is read once, like the endpoint
            if values['reference'] in seen:
                continue
            seen[values['reference']] = number
            result.append((number, values))
        return result

    @classmethod
    def import_file(cls, data, company, filename=None):
        """Receive the payments of the file and return the outcome

        Rows that cannot be read are reported and the others received:
        receiving is idempotent, a corrected file may be imported again.
        """
        Payment = Pool().get('property.finance.payment')
        rows = cls.read(data)
        errors = []
        parsed = cls.parse_rows(rows, errors)
        received = Payment.receive(company, [v for _, v in parsed],
            'import', filename=filename)
        outcome = {
            'rows': len(rows),
            'bad': len({e['row'] for e in errors}),
            'created': 0, 'duplicate': 0, 'paid': 0, 'unmatched': 0,
            'errors': errors,
            }
        for (number, values), (payment, created) in zip(parsed, received):
            outcome['created' if created else 'duplicate'] += 1
            if not created:
                continue
            if payment.state == 'posted':
                outcome['paid'] += 1
            else:
                outcome['unmatched'] += 1
                errors.append({
                        'row': number,
                        'column': cls.header_label('reference'),
                        'value': payment.reference,
                        'message': gettext(
                            'property_billing.msg_finance_import_unmatched',
                            reason=payment.message),
                        })
        errors.sort(key=lambda e: e['row'])
        return outcome


class ImportStart(ModelView):
    __name__ = 'property.finance.import.start'
    company = fields.Many2One('company.company', "Company", required=True)
    file = fields.Binary("File", required=True, filename='filename',
        help="The payment statistics exported by the finance system: "
        "an XLSX or CSV file whose first row names the columns.")
    filename = fields.Char("File Name")
    columns = fields.Char("Columns", readonly=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_columns(cls):
        Sheet = Pool().get('property.finance.payment.sheet')
        return ', '.join(Sheet.header())


class ImportResult(ModelView):
    __name__ = 'property.finance.import.result'
    summary = fields.Text("Summary", readonly=True)
    errors = fields.One2Many(
        'property.sheet.import.error', None, "Rows Not Posted",
        readonly=True)


class Import(Wizard):
    "Import the payment statistics of the finance system"
    __name__ = 'property.finance.import'
    start = StateView('property.finance.import.start',
        'property_billing.finance_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-import', default=True),
            ])
    import_ = StateTransition()
    result = StateView('property.finance.import.result',
        'property_billing.finance_import_result_view_form', [
            Button("Back", 'start', 'tryton-back'),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_import_(self):
        pool = Pool()
        Sheet = pool.get('property.finance.payment.sheet')
        Error = pool.get('property.sheet.import.error')
        outcome = Sheet.import_file(self.start.file, self.start.company,
            filename=self.start.filename)
        self.result.summary = gettext(
            'property_billing.msg_finance_import_summary',
            rows=outcome['rows'], created=outcome['created'],
            paid=outcome['paid'], unmatched=outcome['unmatched'],
            duplicate=outcome['duplicate'], bad=outcome['bad'])
        self.result.errors = [Error(**e) for e in outcome['errors'][:500]]
        return 'result'

    def default_result(self, fields):
        errors = [{
                'row': e.row, 'column': e.column, 'value': e.value,
                'message': e.message} for e in self.result.errors]
        self.result.errors = []
        return {
            'summary': self.result.summary,
            'errors': errors,
            }
