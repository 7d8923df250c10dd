# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Collection statistics, arrears aging and the overdue bills (BILL-7)

Every figure comes from the lines of the billing runs whose invoice is
posted or paid: a line is billed for its amount and still owes the share of
its invoice's amount to pay (what Tryton's amount_to_pay counts: the
unreconciled receivable lines of the invoice and its unreconciled payment
lines), shared among the lines of the invoice by their amounts.  The
queries start from the lines of an estate and period (an index of the
billing lines) and only look at the receivable lines of the invoices found.
"""
import datetime as dt

from sql import Literal, Null
from sql.aggregate import Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Round

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .billing import PERIOD
from .exceptions import BillingReportError

AGING_BUCKETS = [
    ('days_30', 1, 30),
    ('days_60', 31, 60),
    ('days_90', 61, 90),
    ('days_more', 91, None),
    ]


def _check_period(period):
    if period and not PERIOD.fullmatch(period):
        raise BillingReportError(gettext(
                'property_billing.msg_report_period_invalid', period=period))


def _without_jit():
    """Turn off PostgreSQL's JIT compilation for the transaction

    The sub-queries per line make the planner overestimate the cost of the
    reports: it then spends seconds compiling plans that run in
    milliseconds.
    """
    if backend.name == 'postgresql':
        cursor = Transaction().connection.cursor()
        cursor.execute('SET LOCAL jit = off')


def _context_date():
    pool = Pool()
    Date = pool.get('ir.date')
    date = Transaction().context.get('date')
    if isinstance(date, dt.datetime):
        date = date.date()
    return date or Date.today()


class CollectionQuery:
    "Build the SQL of the billed lines with the share they still owe"
    __slots__ = ()

    @classmethod
    def _line_where(cls, line, unit, context):
        "The condition on the billing lines and their units from the context"
        where = line.company == context.get('company', -1)
        if context.get('estate'):
            where &= line.estate == context['estate']
        if context.get('building'):
            where &= unit.building == context['building']
        if context.get('unit'):
            where &= line.unit == context['unit']
        if context.get('party'):
            where &= line.party == context['party']
        if context.get('from_period'):
            _check_period(context['from_period'])
            where &= line.period >= context['from_period']
        if context.get('to_period'):
            _check_period(context['to_period'])
            where &= line.period <= context['to_period']
        return where

    @classmethod
    def _lines_query(cls, states=('posted', 'paid'), periods=True,
            building=False, due_date=False):
        """Return the query of the billed lines of the context

        Its columns are id, company, estate, unit, party, period, invoice,
        state, amount, due (what the line still owes), building with
        building and due_date (the earliest maturity of the invoice still
        to pay) with due_date.
        """
        pool = Pool()
        Line = pool.get('property.billing.line')
        InvoiceLine = pool.get('account.invoice.line')
        Invoice = pool.get('account.invoice')
        Unit = pool.get('property.unit')
        _without_jit()
        context = dict(Transaction().context)
        if not periods:
            context.pop('from_period', None)
            context.pop('to_period', None)
        building = building or context.get('building')

        def billed(states):
            line = Line.__table__()
            invoice_line = InvoiceLine.__table__()
            invoice = Invoice.__table__()
            unit = Unit.__table__()
            query = (line
                .join(invoice_line,
                    condition=line.invoice_line == invoice_line.id)
                .join(invoice,
                    condition=invoice_line.invoice == invoice.id))
            if building:
                query = query.join(unit, condition=line.unit == unit.id)
            where = (cls._line_where(line, unit, context)
                & invoice.state.in_(list(states)))
            return query, where, line, invoice, unit

        # What each posted invoice owes, computed once per invoice
        query, where, _, invoice, _ = billed(['posted'])
        to_pay, paid, maturity = cls._dues(invoice)
        dues = query.select(
            invoice.id.as_('invoice'),
            (Coalesce(to_pay, 0) + Coalesce(paid, 0)).as_('amount'),
            maturity.as_('due_date'),
            where=where,
            group_by=[invoice.id])

        query, where, line, invoice, unit = billed(states)
        query = query.join(dues, 'LEFT', condition=dues.invoice == invoice.id)
        columns = []
        if building:
            columns.append(unit.building.as_('building'))
        if due_date:
            columns.append(dues.due_date.as_('due_date'))
        due = Case(
            ((invoice.state == 'posted')
                & (Coalesce(invoice.total_amount_cache, 0) != 0),
                line.amount * Coalesce(dues.amount, 0)
                / invoice.total_amount_cache),
            else_=Literal(0))
        return query.select(
            line.id.as_('id'),
            line.company.as_('company'),
            line.estate.as_('estate'),
            line.unit.as_('unit'),
            line.party.as_('party'),
            line.period.as_('period'),
            invoice.id.as_('invoice'),
            invoice.state.as_('state'),
            line.amount.as_('amount'),
            due.as_('due'),
            *columns,
            where=where)

    @classmethod
    def _dues(cls, invoice):
        """Return the sub-queries of what invoice still owes: its
        unreconciled receivable lines and payments, and the earliest
        maturity of the former"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        PaymentLine = pool.get('account.invoice-account.move.line')
        move_line = MoveLine.__table__()
        where = ((move_line.move == invoice.move)
            & (move_line.account == invoice.account)
            & (move_line.reconciliation == Null))
        to_pay = move_line.select(
            Sum(move_line.debit - move_line.credit), where=where)
        maturity = move_line.select(
            Min(move_line.maturity_date), where=where)
        payment_line = PaymentLine.__table__()
        move_line = MoveLine.__table__()
        paid = (payment_line
            .join(move_line, condition=payment_line.line == move_line.id)
            .select(
                Sum(move_line.debit - move_line.credit),
                where=(payment_line.invoice == invoice.id)
                & (move_line.reconciliation == Null)))
        return to_pay, paid, maturity


class InvoicePaymentLine(metaclass=PoolMeta):
    __name__ = 'account.invoice-account.move.line'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # The reports look up the payments of the invoices they show
        cls._sql_indexes.add(Index(t, (t.invoice, Index.Range())))


class CollectionContext(ModelView):
    __name__ = 'property.billing.collection.context'
    company = fields.Many2One('company.company', "Company", required=True)
    estate = fields.Many2One('property.estate', "Estate",
        domain=[('company', '=', Eval('company', -1))])
    building = fields.Many2One('property.building', "Building",
        domain=[
            If(Eval('estate'), ('estate', '=', Eval('estate', -1)), ()),
            ])
    from_period = fields.Char("From Period", help="YYYY-MM")
    to_period = fields.Char("To Period", help="YYYY-MM")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_estate(cls):
        return Transaction().context.get('estate')

    @classmethod
    def default_building(cls):
        return Transaction().context.get('building')

    @classmethod
    def default_from_period(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        context = Transaction().context
        if 'from_period' in context:
            return context['from_period']
        return Date.today().replace(month=1).strftime('%Y-%m')

    @classmethod
    def default_to_period(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        context = Transaction().context
        if 'to_period' in context:
            return context['to_period']
        return Date.today().strftime('%Y-%m')

    @fields.depends('estate', 'building')
    def on_change_estate(self):
        if self.building and self.building.estate != self.estate:
            self.building = None


class CollectionMixin(CollectionQuery, ModelSQL, ModelView):
    __slots__ = ()
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    billed = Monetary("Billed", currency='currency', digits='currency')
    paid = Monetary("Paid", currency='currency', digits='currency')
    outstanding = Monetary(
        "Outstanding", currency='currency', digits='currency')
    rate = fields.Numeric("Collection Rate (%)", digits=(3, 2),
        help="The percentage of the amount billed that is paid.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('company')

    @classmethod
    def _group_names(cls):
        "The columns of the lines the figures are grouped by"
        return ['company']

    @classmethod
    def table_query(cls):
        lines = cls._lines_query(
            building='building' in cls._group_names())
        names = cls._group_names()
        groups = [getattr(lines, n) for n in names]
        # what is owed is computed once per line
        totals = lines.select(
            Min(lines.id).as_('id'),
            *[c.as_(n) for c, n in zip(groups, names)],
            Sum(lines.amount).as_('billed'),
            Round(Sum(lines.due), 2).as_('outstanding'),
            group_by=groups)
        return totals.select(
            totals.id,
            *[getattr(totals, n) for n in names],
            totals.billed,
            (totals.billed - totals.outstanding).as_('paid'),
            totals.outstanding,
            Case((totals.billed != 0,
                    Round((totals.billed - totals.outstanding) * 100
                        / totals.billed, 2)),
                else_=Null).as_('rate'))

    def get_currency(self, name):
        return self.company.currency.id


class CollectionEstate(CollectionMixin):
    "Collection per estate and period"
    __name__ = 'property.billing.collection.estate'
    estate = fields.Many2One('property.estate', "Estate")
    period = fields.Char("Period")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'DESC'), ('estate', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group_names(cls):
        return super()._group_names() + ['estate', 'period']


class CollectionBuilding(CollectionMixin):
    "Collection per building and period"
    __name__ = 'property.billing.collection.building'
    estate = fields.Many2One('property.estate', "Estate")
    building = fields.Many2One('property.building', "Building")
    period = fields.Char("Period")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'DESC'), ('building', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group_names(cls):
        return super()._group_names() + ['estate', 'building', 'period']


class CollectionUnit(CollectionMixin):
    "Collection per unit and period"
    __name__ = 'property.billing.collection.unit'
    estate = fields.Many2One('property.estate', "Estate")
    building = fields.Many2One('property.building', "Building")
    unit = fields.Many2One('property.unit', "Unit")
    period = fields.Char("Period")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'DESC'), ('unit', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group_names(cls):
        return super()._group_names() + [
            'estate', 'building', 'unit', 'period']


class CollectionPeriod(CollectionMixin):
    "Collection per period, of every estate of the context"
    __name__ = 'property.billing.collection.period'
    period = fields.Char("Period")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group_names(cls):
        return super()._group_names() + ['period']


class ArrearsContext(ModelView):
    __name__ = 'property.billing.arrears.context'
    company = fields.Many2One('company.company', "Company", required=True)
    estate = fields.Many2One('property.estate', "Estate",
        domain=[('company', '=', Eval('company', -1))])
    building = fields.Many2One('property.building', "Building",
        domain=[
            If(Eval('estate'), ('estate', '=', Eval('estate', -1)), ()),
            ])
    date = fields.Date("Date", required=True,
        help="The day the days overdue are counted to.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_estate(cls):
        return Transaction().context.get('estate')

    @classmethod
    def default_date(cls):
        return _context_date()

    @fields.depends('estate', 'building')
    def on_change_estate(self):
        if self.building and self.building.estate != self.estate:
            self.building = None


class AgingMixin(CollectionQuery, ModelSQL, ModelView):
    "What is owed by how many days it is overdue"
    __slots__ = ()
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    outstanding = Monetary(
        "Outstanding", currency='currency', digits='currency')
    not_due = Monetary("Not Due", currency='currency', digits='currency')
    days_30 = Monetary("0-30 Days", currency='currency', digits='currency',
        help="Overdue for 1 to 30 days.")
    days_60 = Monetary("31-60 Days", currency='currency', digits='currency')
    days_90 = Monetary("61-90 Days", currency='currency', digits='currency')
    days_more = Monetary(
        "Over 90 Days", currency='currency', digits='currency')
    overdue = Monetary("Overdue", currency='currency', digits='currency')
    oldest_due_date = fields.Date("Oldest Due Date")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('company')
        cls._order = [('overdue', 'DESC'), ('id', 'ASC')]

    @classmethod
    def _group_names(cls):
        return ['company']

    @classmethod
    def table_query(cls):
        lines = cls._lines_query(states=['posted'], periods=False,
            building='building' in cls._group_names(), due_date=True)
        date = _context_date()
        days = Literal(date) - lines.due_date

        def bucket(condition):
            return Round(Sum(Case((condition, lines.due), else_=0)), 2)

        columns = [
            bucket((lines.due_date == Null) | (days <= 0)).as_('not_due')]
        for name, first, last in AGING_BUCKETS:
            condition = days >= first
            if last is not None:
                condition &= days <= last
            columns.append(bucket(condition).as_(name))
        groups = [getattr(lines, n) for n in cls._group_names()]
        return lines.select(
            Min(lines.id).as_('id'),
            *[c.as_(n) for c, n in zip(groups, cls._group_names())],
            Round(Sum(lines.due), 2).as_('outstanding'),
            *columns,
            bucket(days > 0).as_('overdue'),
            Min(lines.due_date).as_('oldest_due_date'),
            where=lines.due != 0,
            group_by=groups)

    def get_currency(self, name):
        return self.company.currency.id


class AgingParty(AgingMixin):
    "Arrears aging per payer"
    __name__ = 'property.billing.aging.party'
    party = fields.Many2One('party.party', "Payer",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})

    @classmethod
    def _group_names(cls):
        return super()._group_names() + ['party']


class AgingUnit(AgingMixin):
    "Arrears aging per unit and payer"
    __name__ = 'property.billing.aging.unit'
    estate = fields.Many2One('property.estate', "Estate")
    building = fields.Many2One('property.building', "Building")
    unit = fields.Many2One('property.unit', "Unit")
    party = fields.Many2One('party.party', "Payer",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})

    @classmethod
    def _group_names(cls):
        return super()._group_names() + [
            'estate', 'building', 'unit', 'party']


class Overdue(CollectionQuery, ModelSQL, ModelView):
    "Overdue bill"
    __name__ = 'property.billing.overdue'
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    invoice = fields.Many2One('account.invoice', "Bill")
    party = fields.Many2One('party.party', "Payer",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    estate = fields.Many2One('property.estate', "Estate")
    period = fields.Char("Period")
    due_date = fields.Date("Due Date")
    days = fields.Integer("Days Overdue")
    amount = Monetary("Billed", currency='currency', digits='currency')
    outstanding = Monetary(
        "Outstanding", currency='currency', digits='currency')
    dunning_level = fields.Function(fields.Char("Dunning Level"),
        'get_dunning_level')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('company')
        cls._order = [('days', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        lines = cls._lines_query(
            states=['posted'], periods=False, due_date=True)
        date = _context_date()
        return lines.select(
            lines.invoice.as_('id'),
            lines.company.as_('company'),
            lines.invoice.as_('invoice'),
            lines.party.as_('party'),
            Min(lines.estate).as_('estate'),
            Min(lines.period).as_('period'),
            lines.due_date.as_('due_date'),
            (Literal(date) - lines.due_date).as_('days'),
            Sum(lines.amount).as_('amount'),
            Round(Sum(lines.due), 2).as_('outstanding'),
            where=(lines.due != 0) & (lines.due_date < date),
            group_by=[lines.invoice, lines.company, lines.party,
                lines.due_date])

    def get_currency(self, name):
        return self.company.currency.id

    @classmethod
    def get_dunning_level(cls, overdues, name):
        "Return the name of the last dunning level reached by each bill"
        pool = Pool()
        Dunning = pool.get('account.dunning')
        result = {o.id: None for o in overdues}
        moves = {o.invoice.move.id: o.id for o in overdues if o.invoice.move}
        for dunning in Dunning.search([
                    ('line.move', 'in', list(moves)),
                    ], order=[('id', 'ASC')]):
            result[moves[dunning.line.move.id]] = dunning.level.rec_name
        return result
