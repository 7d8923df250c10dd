# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Late fees billed (BILL-7, BILL-8)

When a dunning level charges a late fee, the payer gets a bill of it: a
posted customer invoice "late fee" with a line per unit and period of the
overdue bill, sharing the fee by what each of them was billed.  The payer
pays it online like any bill, and the collection statistics count it
apart from the fees.
"""
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


def split_by_amounts(total, amounts, rounding):
    """Split total over parts proportional to amounts, each rounded with
    rounding, the last taking the rest so that they add up to total"""
    base = sum(amounts)
    if not base:
        return [total] + [Decimal(0)] * (len(amounts) - 1)
    parts = [rounding(total * a / base) for a in amounts[:-1]]
    return parts + [total - sum(parts)]


class LateFee(ModelSQL, ModelView):
    "The late fee of a unit and period, billed to its payer"
    __name__ = 'property.billing.late_fee'
    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    charge = fields.Many2One('account.dunning.fee.dunning_level', "Charge",
        required=True, ondelete='CASCADE', readonly=True,
        help="The late fee charged by a dunning level.")
    bill = fields.Many2One('account.invoice', "Overdue Bill",
        ondelete='RESTRICT', readonly=True)
    estate = fields.Many2One('property.estate', "Estate",
        ondelete='RESTRICT', readonly=True)
    unit = fields.Many2One('property.unit', "Unit",
        ondelete='RESTRICT', readonly=True)
    period = fields.Char("Period", readonly=True)
    party = fields.Many2One('party.party', "Payer", required=True,
        ondelete='RESTRICT', readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    amount = fields.Numeric("Amount", digits=(16, 2), required=True,
        readonly=True)
    invoice_line = fields.Many2One('account.invoice.line', "Invoice Line",
        ondelete='SET NULL', readonly=True)
    invoice = fields.Function(
        fields.Many2One('account.invoice', "Late Fee Bill"), 'get_invoice')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.estate, Index.Range()),
                    (t.period, Index.Equality())),
                Index(t, (t.invoice_line, Index.Range())),
                Index(t, (t.charge, Index.Range())),
                })
        cls._order = [('id', 'DESC')]

    def get_invoice(self, name):
        if self.invoice_line and self.invoice_line.invoice:
            return self.invoice_line.invoice.id

    def get_rec_name(self, name):
        return self.charge.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('charge.rec_name',) + tuple(clause[1:])]

    @classmethod
    def bill_charges(cls, charges):
        """Bill the late fees of charges to their payers: a posted invoice
        per charge; return the invoices"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = []
        for charge in charges:
            invoice = cls._get_invoice(charge)
            invoice.save()
            invoices.append(invoice)
            charge.invoice = invoice
        pool.get('account.dunning.fee.dunning_level').save(charges)
        cls.link_invoice_lines(invoices)
        # The bill overdue was accepted: warnings about its dates were seen
        with Transaction().set_context(_skip_warnings=True):
            Invoice.post(invoices)
        return invoices

    @classmethod
    def _shares(cls, charge):
        "Return the (estate, unit, period) of the overdue bill with amounts"
        pool = Pool()
        Line = pool.get('property.billing.line')
        bill = charge.dunning.invoice
        shares = defaultdict(Decimal)
        if bill:
            for line in Line.search([
                        ('invoice_line.invoice', '=', bill.id),
                        ], order=[('id', 'ASC')]):
                shares[(line.estate, line.unit, line.period)] += line.amount
        return shares or {(None, None, None): Decimal(1)}

    @classmethod
    def _get_invoice(cls, charge):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        Configuration = pool.get('property.billing.configuration')
        Address = pool.get('party.address')
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        dunning = charge.dunning
        company = dunning.company
        currency = company.currency
        bill = dunning.invoice
        fee = charge.level.fee
        configuration = Configuration(1)
        values = {
            'bill': bill.number if bill else dunning.line.move.rec_name,
            'first': lang.strftime(charge.from_date),
            'last': lang.strftime(charge.to_date),
            'days': (charge.to_date - charge.from_date).days + 1,
            }
        account = fee.get_revenue_account(dunning)
        shares = cls._shares(charge)
        keys = list(shares)
        amounts = split_by_amounts(charge.amount,
            [shares[k] for k in keys], currency.round)
        lines = []
        for (estate, unit, period), amount in zip(keys, amounts):
            if not amount:
                continue
            late_fee = cls(company=company, charge=charge, bill=bill,
                estate=estate, unit=unit, period=period,
                party=dunning.party, amount=amount)
            late_fee.save()
            description = gettext(
                'property_billing.msg_late_fee_line', **values)
            if unit:
                description = gettext(
                    'property_billing.msg_late_fee_line_unit',
                    unit=unit.rec_name, period=period, **values)
            lines.append(InvoiceLine(
                    type='line', company=company, currency=currency,
                    invoice_type='out', party=dunning.party,
                    account=account, description=description,
                    quantity=1, unit_price=amount, origin=late_fee,
                    taxes=[]))
        if bill:
            address = bill.invoice_address
        else:
            address = dunning.party.address_get(type='invoice')
            if not address:
                address = Address(party=dunning.party)
                address.save()
        return Invoice(
            company=company, type='out', party=dunning.party,
            invoice_address=address, invoice_date=charge.to_date,
            currency=currency, account=dunning.line.account,
            journal=configuration.get_invoice_journal(company=company.id),
            payment_term=configuration.get_payment_term(company=company.id),
            description=gettext(
                'property_billing.msg_late_fee_bill', **values),
            lines=lines)

    @classmethod
    def link_invoice_lines(cls, invoices):
        "Set the invoice line of the late fees that are their origin"
        late_fees = []
        for invoice in invoices:
            for line in invoice.lines:
                origin = line.origin
                if getattr(origin, '__name__', None) == cls.__name__:
                    origin.invoice_line = line
                    late_fees.append(origin)
        cls.save(late_fees)


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['property.billing.late_fee']


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @property
    def late_fee_of(self):
        "The overdue bill the late fee bill is charged on"
        for line in self.lines:
            if self._is_late_fee_line(line):
                return line.origin.bill

    @staticmethod
    def _is_late_fee_line(line):
        return (getattr(line.origin, '__name__', None)
            == 'property.billing.late_fee')

    @property
    def is_late_fee(self):
        return any(self._is_late_fee_line(l) for l in self.lines)
