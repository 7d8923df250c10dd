# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Dunning of overdue bills: levels with reminders and late fees (BILL-7)

The levels are those of account_dunning (e.g. reminder at 7 days, second
reminder at 15, formal notice at 30).  A level may charge a late fee of
account_dunning_fee computed per day overdue on what the bill still owes
(0.05 % a day by contract), never more in all than that principal: each
level charges what accrued for the days not charged yet, billed to the
payer as a late fee bill (late_fee.py).
"""
import datetime as dt
import logging
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

# The mini-program page of a bill
BILL_PAGE = 'pages/billing/bill/bill?id=%s'


class Level(metaclass=PoolMeta):
    __name__ = 'account.dunning.level'
    name = fields.Char("Name", translate=True,
        help="What the payer is told, e.g. \"Second Reminder\".")
    send_reminder = fields.Boolean("Send Reminder",
        help="Send the payer a message when the bill reaches the level.")

    @classmethod
    def default_send_reminder(cls):
        return True

    def get_rec_name(self, name):
        if self.name:
            return self.name
        return super().get_rec_name(name)


class Fee(metaclass=PoolMeta):
    __name__ = 'account.dunning.fee'
    daily_rate = fields.Numeric("Daily Rate", digits=(None, 8),
        states={
            'invisible': Eval('compute_method') != 'late_fee',
            'required': Eval('compute_method') == 'late_fee',
            },
        help="The share of the amount overdue charged per day overdue, "
        "e.g. 0.0005 for 0.05 % a day.\n"
        "The late fees of a bill never add up to more than the amount "
        "overdue.")
    account = fields.Many2One('account.account', "Revenue Account",
        domain=[
            ('closed', '!=', True),
            ('type.revenue', '=', True),
            ],
        states={
            'invisible': Eval('compute_method') != 'late_fee',
            },
        help="Leave empty to use the late fee account of the billing "
        "configuration.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.compute_method.selection.append(('late_fee', "Late Fee per Day"))
        # a late fee is not a product sold
        cls.product.required = False
        cls.product.states = cls.product.states.copy()
        cls.product.states['required'] = Eval('compute_method') != 'late_fee'
        cls.product.states['invisible'] = (
            Eval('compute_method') == 'late_fee')

    @classmethod
    def default_daily_rate(cls):
        return Decimal('0.0005')

    def get_amount(self, dunning):
        if self.compute_method == 'late_fee':
            currency = dunning.company.currency
            return dunning.late_fee_due(self), currency
        return super().get_amount(dunning)

    def get_revenue_account(self, dunning):
        "Return the account the fee is income of"
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        if self.compute_method != 'late_fee' or self.product:
            return self.product.account_revenue_used
        if self.account:
            return self.account
        return Configuration(1).get_fee_account(
            'late_fee', company=dunning.company.id)


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.dunning'
    invoice = fields.Function(fields.Many2One('account.invoice', "Bill"),
        'get_invoice')
    amount_due = fields.Function(fields.Numeric(
            "Amount Due", digits=(16, 2)), 'get_amount_due')

    @classmethod
    def _get_dunning(cls, line, date):
        # A late fee bears no late fee: the payer is reminded of it with
        # the bill it is charged on
        origin = line.move.origin
        if (getattr(origin, '__name__', None) == 'account.invoice'
                and origin.is_late_fee):
            return
        return super()._get_dunning(line, date)

    def get_invoice(self, name):
        origin = self.line.move.origin
        if getattr(origin, '__name__', None) == 'account.invoice':
            return origin.id

    def get_amount_due(self, name):
        """Return what the line still owes: the amount to pay of its bill
        when it is the bill's only line to pay"""
        amount = self.line.debit - self.line.credit
        invoice = self.invoice
        if invoice and len(invoice.lines_to_pay) == 1:
            if invoice.state == 'paid':
                return Decimal(0)
            return min(amount, invoice.amount_to_pay)
        return amount

    @property
    def days_overdue(self):
        pool = Pool()
        Date = pool.get('ir.date')
        date = Transaction().context.get('dunning_date')
        if date is None:
            with Transaction().set_context(company=self.company.id):
                date = Date.today()
        if not self.line.maturity_date:
            return 0
        return max((date - self.line.maturity_date).days, 0)

    def late_fee_due(self, fee):
        """Return the late fee of fee accrued and not yet charged

        It is daily_rate of the amount due per day overdue, in all at most
        the amount due; days already charged are not charged again.
        """
        first, last = self.late_fee_days()
        if first > last:
            return Decimal(0)
        currency = self.company.currency
        principal = self.amount_due
        accrued = min(
            currency.round(principal * fee.daily_rate * self.days_overdue),
            principal)
        charged = sum((f.amount for f in self.fees if f.amount),
            Decimal(0))
        return max(accrued - charged, Decimal(0))

    def late_fee_days(self):
        """Return the first and last day overdue not yet charged, up to the
        dunning date"""
        last_charged = max((f.to_date for f in self.fees if f.to_date),
            default=self.line.maturity_date)
        first = last_charged + dt.timedelta(days=1)
        return first, self.line.maturity_date + dt.timedelta(
            days=self.days_overdue)

    @property
    def late_fees(self):
        return sum((f.amount for f in self.fees if f.amount), Decimal(0))

    @classmethod
    def run_reminders(cls, date=None):
        """Dun the overdue bills and send the reminders, for the company of
        the context or else for every company

        A scheduled job created without companies runs with no company in
        the context: it then works for all of them.
        """
        pool = Pool()
        Company = pool.get('company.company')
        company_id = Transaction().context.get('company')
        if company_id:
            companies = [Company(company_id)]
        else:
            companies = Company.search([])
        for company in companies:
            with Transaction().set_context(company=company.id):
                cls._run_company_reminders(company, date)

    @classmethod
    def _run_company_reminders(cls, company, date=None):
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        with Transaction().set_context(dunning_date=date):
            cls.generate_dunnings(date=date)
            dunnings = cls.search([
                    ('company', '=', company.id),
                    ('state', '=', 'draft'),
                    ('blocked', '=', False),
                    ])
            if not dunnings:
                return
            cls.process(dunnings)
            dunnings = cls.browse(dunnings)
            cls.send_reminders(
                [d for d in dunnings if d.level.send_reminder])
        logger.info("company %s: %s dunnings processed",
            company.id, len(dunnings))

    @classmethod
    def send_reminders(cls, dunnings):
        "Tell the accounts of the payers of dunnings about their bills"
        pool = Pool()
        WebUser = pool.get('web.user')
        parties = {d.party for d in dunnings if d.party}
        users = {}
        for user in WebUser.search([
                    ('party', 'in', [p.id for p in parties]),
                    ]):
            users.setdefault(user.party, []).append(user)
        for dunning in dunnings:
            accounts = users.get(dunning.party)
            if not accounts:
                continue
            # in the language of the payer
            lang = dunning.party.lang
            with Transaction().set_context(
                    language=lang.code if lang else None):
                dunning.send_reminder(accounts)

    def send_reminder(self, accounts):
        "Send the reminder of the level of the dunning to accounts"
        pool = Pool()
        Message = pool.get('property.message')
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        invoice = self.invoice
        currency = self.company.currency
        values = {
            'bill': invoice.number if invoice else self.line.move.rec_name,
            'amount': lang.currency(
                self.amount_due, currency, grouping=True),
            'due_date': lang.strftime(self.maturity_date),
            'days': self.days_overdue,
            'fees': lang.currency(
                self.late_fees, currency, grouping=True),
            }
        body = gettext('property_billing.msg_dunning_reminder_body', **values)
        if self.late_fees:
            body += ' ' + gettext(
                'property_billing.msg_dunning_reminder_fees', **values)
        title = self.level.rec_name
        return Message.notify(accounts, 'bill_reminder',
            title=title,
            body=body,
            link=BILL_PAGE % invoice.id if invoice else None,
            origin=self,
            data={
                'title': title,
                'bill': values['bill'],
                'amount': f'{self.amount_due:.2f}',
                'date': self.maturity_date,
                'note': gettext(
                    'property_billing.msg_dunning_reminder_note', **values),
                })


class FeeDunningLevel(metaclass=PoolMeta):
    __name__ = 'account.dunning.fee.dunning_level'
    from_date = fields.Date("From", readonly=True,
        help="The first day overdue the late fee is charged for.")
    to_date = fields.Date("To", readonly=True,
        help="The last day overdue the late fee is charged for.")
    invoice = fields.Many2One('account.invoice', "Late Fee Bill",
        readonly=True, ondelete='RESTRICT')
    late_fees = fields.One2Many('property.billing.late_fee', 'charge',
        "Late Fees", readonly=True)

    @classmethod
    def process(cls, fees):
        pool = Pool()
        LateFee = pool.get('property.billing.late_fee')
        # nothing accrued since the last level
        fees = [f for f in fees if f.amount]
        late_fees = [f for f in fees if f.is_late_fee]
        for fee in late_fees:
            fee.from_date, fee.to_date = fee.dunning.late_fee_days()
        cls.save(late_fees)
        LateFee.bill_charges(late_fees)
        super().process([f for f in fees if not f.is_late_fee])

    @property
    def is_late_fee(self):
        "Whether the fee is a late fee billed to the payer"
        fee = self.level.fee
        return fee.compute_method == 'late_fee' and not fee.product


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('account.dunning|run_reminders',
                "Dun Overdue Bills and Send Reminders"))
