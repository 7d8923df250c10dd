# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Collection statistics, arrears aging and the overdue bills (BILL-7)

Every figure comes from the lines of the billing runs and the late fees
billed whose invoice is posted or paid: a line is billed for its amount
and still owes the share of its invoice's amount to pay (what Tryton's
amount_to_pay counts: the unreconciled receivable lines of the invoice and
its unreconciled payment lines), shared among the lines of the invoice by
their amounts.  The
queries start from the lines of an estate and period (an index of the
billing lines) and only look at the receivable lines of the invoices found.
A property company reports the fees and the late fees apart: the
collection rate is that of the fees; the arrears count both.
"""
import datetime as dt

from sql import Literal, Null, Union
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
    def _billed_lines(cls):
        """Return the query of the lines billed: the fees of the billing
        runs and the late fees, told apart by late_fee"""
        pool = Pool()
        Line = pool.get('property.billing.line')
        LateFee = pool.get('property.billing.late_fee')
        names = ['company', 'estate', 'unit', 'party', 'period', 'amount',
            'invoice_line']
        line = Line.__table__()
        late_fee = LateFee.__table__()
        # ids of both kinds must not collide in the reports grouping them
        fees = line.select((line.id * 2).as_('id'),
            *[getattr(line, n).as_(n) for n in names],
            Literal(False).as_('late_fee'))
        late_fees = late_fee.select((late_fee.id * 2 + 1).as_('id'),
            *[getattr(late_fee, n).as_(n) for n in names],
            Literal(True).as_('late_fee'),
            where=late_fee.estate != Null)
        return Union(fees, late_fees, all_=True)

    @classmethod
    def _lines_query(cls, states=('posted', 'paid'), periods=True,
            building=False, due_date=False):
        """Return the query of the billed lines of the context

        Its columns are id, company, estate, unit, party, period, invoice,
        state, amount, due (what the line still owes), late_fee (whether
        it is a late fee), building with
        building and due_date (the earliest maturity of the invoice still
        to pay) with due_date.
        """
        pool = Pool()
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
            line = cls._billed_lines()
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
            line.late_fee.as_('late_fee'),
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


class ReportContextMixin:
    "The company, estate and building a report is of"
    __slots__ = ()
    company = fields.Many2One('company.company', "Company", required=True)
    estate = fields.Many2One('property.estate', "Estate",
        domain=[('company', '=', Eval('company', -1))])
    building = fields.Many2One('property.building', "Building",
        domain=[
            If(Eval('estate'), ('estate', '=', Eval('estate', -1)), ()),
            ])

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_estate(cls):
        return Transaction().context.get('estate')

    @fields.depends('estate', 'building')
    def on_change_estate(self):
        if self.building and self.building.estate != self.estate:
            self.building = None


class CollectionContext(ReportContextMixin, ModelView):
    __name__ = 'property.billing.collection.context'
    from_period = fields.Char("From Period", help="YYYY-MM")
    to_period = fields.Char("To Period", help="YYYY-MM")

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


class ReportMixin(CollectionQuery, ModelSQL, ModelView):
    "Figures of a company, in its currency"
    __slots__ = ()
    company = fields.Many2One('company.company', "Company", required=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    outstanding = Monetary(
        "Outstanding", currency='currency', digits='currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('company')

    @classmethod
    def _group_names(cls):
        "The columns of the lines the figures are grouped by"
        return ['company']

    def get_currency(self, name):
        return self.company.currency.id


class CollectionMixin(ReportMixin):
    "What is billed and paid per period"
    __slots__ = ()
    period = fields.Char("Period")
    billed = Monetary("Billed", currency='currency', digits='currency',
        help="The fees billed, without the late fees.")
    paid = Monetary("Paid", currency='currency', digits='currency')
    rate = fields.Numeric("Collection Rate (%)", digits=(3, 2),
        help="The percentage of the fees billed that is paid.")
    late_fees = Monetary("Late Fees", currency='currency', digits='currency',
        help="The late fees billed on the bills of the period.")
    late_fees_paid = Monetary(
        "Late Fees Paid", currency='currency', digits='currency')
    late_fees_outstanding = Monetary(
        "Late Fees Outstanding", currency='currency', digits='currency')

    @classmethod
    def table_query(cls):
        lines = cls._lines_query(
            building='building' in cls._group_names())
        names = cls._group_names()
        groups = [getattr(lines, n) for n in names]

        def fees(column):
            return Case((lines.late_fee, Literal(0)), else_=column)

        def late_fees(column):
            return Case((lines.late_fee, column), else_=Literal(0))

        # what is owed is computed once per line
        totals = lines.select(
            Min(lines.id).as_('id'),
            *[c.as_(n) for c, n in zip(groups, names)],
            Sum(fees(lines.amount)).as_('billed'),
            Round(Sum(fees(lines.due)), 2).as_('outstanding'),
            Sum(late_fees(lines.amount)).as_('late_fees'),
            Round(Sum(late_fees(lines.due)), 2).as_('late_fees_outstanding'),
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
                else_=Null).as_('rate'),
            totals.late_fees,
            (totals.late_fees - totals.late_fees_outstanding).as_(
                'late_fees_paid'),
            totals.late_fees_outstanding)


class CollectionEstate(CollectionMixin):
    "Collection per estate and period"
    __name__ = 'property.billing.collection.estate'
    estate = fields.Many2One('property.estate', "Estate")

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

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group_names(cls):
        return super()._group_names() + ['period']


class ArrearsContext(ReportContextMixin, ModelView):
    __name__ = 'property.billing.arrears.context'
    date = fields.Date("Date", required=True,
        help="The day the days overdue are counted to.")

    @classmethod
    def default_date(cls):
        return _context_date()


class AgingMixin(ReportMixin):
    "What is owed by how many days it is overdue"
    __slots__ = ()
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
        cls._order = [('overdue', 'DESC'), ('id', 'ASC')]

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


class Overdue(ReportMixin):
    "Overdue bill"
    __name__ = 'property.billing.overdue'
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
    dunning_level = fields.Function(fields.Char("Dunning Level"),
        'get_dunning_level')

    @classmethod
    def __setup__(cls):
        super().__setup__()
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
