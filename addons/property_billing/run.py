# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Billing runs: fees of every unit of an estate for a period (BILL-3)"
import logging
import time
from collections import namedtuple
from decimal import Decimal
from itertools import groupby

from sql import Null
from sql.functions import CurrentTimestamp
from sql.operators import Concat, Equal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.account.exceptions import FiscalYearNotFoundError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, TransactionError

from .billing import (
    PERIOD, payer_segments, period_dates, segment_days, split_by_days)
from .exceptions import BillingRunError
from .fee import (
    FEE_KINDS, IN_MAX, METERED_KINDS, MONTHLY_KINDS, round_fen)
from .invoice import RUN_CONTEXT
from .meter import apportion

logger = logging.getLogger(__name__)
BATCH_SIZE = 100
RETRIES = 5
STATES = [
    ('draft', "Draft"),
    ('computed', "Computed"),
    ('invoiced', "Invoiced"),
    ('posted', "Posted"),
    ]
_Occupancy = namedtuple(
    '_Occupancy', ['id', 'party', 'role', 'start_date', 'end_date'])


class Run(Workflow, ModelSQL, ModelView):
    __name__ = 'property.billing.run'
    _states = {
        'readonly': Eval('state') != 'draft',
        }
    company = fields.Many2One('company.company', "Company", required=True,
        states=_states)
    estate = fields.Many2One('property.estate', "Estate", required=True,
        ondelete='RESTRICT', states=_states,
        domain=[('company', '=', Eval('company', -1))])
    period = fields.Char("Period", required=True, states=_states,
        help="The month billed as YYYY-MM.")
    invoice_date = fields.Date("Invoice Date", required=True,
        states={'readonly': Eval('state').in_(['invoiced', 'posted'])},
        help="The bills fall due from this date.")
    state = fields.Selection(STATES, "State", readonly=True, sort=False)
    lines = fields.One2Many('property.billing.line', 'run', "Lines",
        readonly=True)
    unit_count = fields.Integer("Units", readonly=True)
    line_count = fields.Integer("Lines", readonly=True)
    payer_count = fields.Integer("Payers", readonly=True)
    amount = fields.Numeric("Amount", digits=(16, 2), readonly=True)
    invoice_count = fields.Integer("Invoices Created", readonly=True)
    posted_count = fields.Integer("Invoices Posted", readonly=True)
    notes = fields.Text("Notes", readonly=True,
        help="The units and fees that were not billed and why.")
    invoices = fields.Function(fields.Many2Many(
            'account.invoice', None, None, "Invoices"), 'get_invoices')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.estate, Index.Range()), (t.period, Index.Equality())))
        cls._order = [('period', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'computed'),
            ('computed', 'computed'),
            ('computed', 'draft'),
            }
        cls._buttons.update({
                'compute': {
                    'invisible': ~Eval('state').in_(['draft', 'computed']),
                    'readonly': Eval('invoice_count', 0) > 0,
                    'depends': ['state', 'invoice_count'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'computed',
                    'readonly': Eval('invoice_count', 0) > 0,
                    'depends': ['state', 'invoice_count'],
                    },
                'invoice': {
                    'invisible': Eval('state') != 'computed',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': Eval('state') != 'invoiced',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_invoice_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_period(cls):
        today = Pool().get('ir.date').today()
        return today.strftime('%Y-%m')

    @classmethod
    def default_unit_count(cls):
        return 0

    default_line_count = default_unit_count
    default_payer_count = default_unit_count
    default_invoice_count = default_unit_count
    default_posted_count = default_unit_count

    @classmethod
    def default_amount(cls):
        return Decimal(0)

    def get_rec_name(self, name):
        return f'{self.estate.rec_name} {self.period}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('period', operator, value),
            ('estate.rec_name', operator, value),
            ]

    @classmethod
    def get_invoices(cls, runs, name):
        pool = Pool()
        Line = pool.get('property.billing.line')
        InvoiceLine = pool.get('account.invoice.line')
        line = Line.__table__()
        invoice_line = InvoiceLine.__table__()
        cursor = Transaction().connection.cursor()
        result = {r.id: [] for r in runs}
        for sub_ids in grouped_slice([r.id for r in runs], IN_MAX):
            cursor.execute(*line.join(invoice_line,
                    condition=line.invoice_line == invoice_line.id
                    ).select(line.run, invoice_line.invoice,
                    where=fields.SQL_OPERATORS['in'](line.run, sub_ids),
                    group_by=[line.run, invoice_line.invoice],
                    order_by=[invoice_line.invoice]))
            for run_id, invoice_id in cursor:
                result[run_id].append(invoice_id)
        return result

    @classmethod
    def validate_fields(cls, runs, field_names):
        super().validate_fields(runs, field_names)
        for run in runs:
            if not PERIOD.fullmatch(run.period or ''):
                raise BillingRunError(gettext(
                        'property_billing.msg_run_period_invalid',
                        period=run.period))

    @classmethod
    def check_modification(cls, mode, runs, values=None, external=False):
        super().check_modification(
            mode, runs, values=values, external=external)
        if mode == 'delete':
            for run in runs:
                if run.state != 'draft':
                    raise AccessError(gettext(
                            'property_billing.msg_run_delete_draft',
                            run=run.rec_name))

    @classmethod
    def copy(cls, runs, default=None):
        default = default.copy() if default is not None else {}
        for name in ['lines', 'notes']:
            default.setdefault(name, None)
        for name in ['unit_count', 'line_count', 'payer_count',
                'invoice_count', 'posted_count']:
            default.setdefault(name, 0)
        default.setdefault('amount', Decimal(0))
        return super().copy(runs, default=default)

    @property
    def period_dates(self):
        return period_dates(self.period)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, runs):
        cls._delete_draft_lines(runs)
        cls.write(runs, {
                'unit_count': 0, 'line_count': 0, 'payer_count': 0,
                'amount': Decimal(0), 'notes': None,
                })

    @classmethod
    def _delete_draft_lines(cls, runs):
        Line = Pool().get('property.billing.line')
        for run in runs:
            if run.invoice_count:
                raise AccessError(gettext(
                        'property_billing.msg_run_invoiced_reset',
                        run=run.rec_name))
        lines = Line.search([
                ('run', 'in', [r.id for r in runs]),
                ('invoice_line', '=', None),
                ])
        Line.delete(lines)

    @classmethod
    @ModelView.button
    @Workflow.transition('computed')
    def compute(cls, runs):
        "Compute the billing lines of every unit as a preview"
        Line = Pool().get('property.billing.line')
        cls._delete_draft_lines(runs)
        for run in runs:
            values, notes, units = run._compute_lines()
            lines = []
            for sub_values in grouped_slice(values, 1000):
                lines += Line.create(list(sub_values))
            run.unit_count = len(units)
            run.line_count = len(lines)
            run.payer_count = len({v['party'] for v in values})
            run.amount = sum((v['amount'] for v in values), Decimal(0))
            run.notes = '\n'.join(notes) or None
        cls.save(runs)

    def _compute_lines(self):
        """Return the values of the lines of the run, the notes on what is
        not billed and the units"""
        pool = Pool()
        Unit = pool.get('property.unit')
        Fee = pool.get('property.billing.fee')
        Tariff = pool.get('property.billing.tariff')
        Line = pool.get('property.billing.line')
        start, end = self.period_dates
        units = Unit.search([
                ('building.estate', '=', self.estate.id),
                ('type', '!=', 'public'),
                ], order=[('full_code', 'ASC'), ('id', 'ASC')])
        fees = Fee.fees_of_units(units)
        billed = Line.billed_keys(self.estate, self.period)
        keys = {(f, self.estate) for unit_fees in fees.values()
            for f, _ in unit_fees}
        tariffs = Tariff.get_tariffs(keys, end)
        segments = self._payer_segments(units, start, end)
        consumptions = self._consumptions(units, start, end)

        values, notes = [], []
        for unit in units:
            unit_segments = segments.get(unit, [])
            for fee, unit_fee in fees[unit]:
                if (unit.id, fee.id) in billed:
                    continue
                if not unit_segments:
                    notes.append(gettext('property_billing.msg_note_no_payer',
                            unit=unit.rec_name, fee=fee.rec_name))
                    continue
                tariff = tariffs.get((fee, self.estate))
                rate = unit_fee.rate if unit_fee else None
                if tariff is None and rate is None:
                    notes.append(gettext(
                            'property_billing.msg_note_no_tariff',
                            unit=unit.rec_name, fee=fee.rec_name))
                    continue
                if fee.kind in MONTHLY_KINDS:
                    lines = self._monthly_lines(
                        unit, fee, unit_fee, tariff, rate, unit_segments)
                else:
                    consumption = consumptions.get((unit, fee.kind))
                    if consumption is None:
                        notes.append(gettext(
                                'property_billing.msg_note_no_reading',
                                unit=unit.rec_name, fee=fee.rec_name))
                        continue
                    lines = self._metered_lines(
                        unit, fee, tariff, rate, unit_segments, consumption)
                values.extend(lines)
        values.extend(self._charge_lines(units, segments, notes))
        return values, notes, units

    def _line_values(self, unit, fee, segment, **values):
        party, first, last = segment
        values.update({
                'run': self.id,
                'company': self.company.id,
                'estate': self.estate.id,
                'unit': unit.id,
                'fee': fee.id,
                'period': self.period,
                'party': party.id,
                'start_date': first,
                'end_date': last,
                })
        return values

    def _monthly_lines(self, unit, fee, unit_fee, tariff, rate, segments):
        start, end = self.period_dates
        if unit_fee and unit_fee.quantity is not None:
            quantity = unit_fee.quantity
        elif fee.kind == 'management':
            quantity = unit.area or Decimal(0)
        else:
            quantity = Decimal(1)
        if rate is None:
            rate = tariff.rate
        total = quantity * rate
        amounts = split_by_days(total, [segment_days(s) for s in segments],
            (end - start).days + 1)
        return [self._line_values(unit, fee, segment,
                quantity=quantity, rate=rate, amount=amount)
            for segment, amount in zip(segments, amounts)]

    def _metered_lines(
            self, unit, fee, tariff, rate, segments, consumption):
        quantity = consumption['own'] + consumption['shared']
        total = round_fen(
            tariff.compute(quantity, rate) if tariff
            else quantity * rate)
        days = [segment_days(s) for s in segments]
        amounts = split_by_days(total, days, sum(days))
        previous, current = consumption['readings']
        return [self._line_values(unit, fee, segment,
                quantity=quantity, rate=rate if rate is not None else (
                    tariff.rate if not tariff.tiers else None),
                amount=amount,
                consumption=consumption['own'],
                shared_consumption=consumption['shared'],
                previous_reading=previous.id if previous else None,
                current_reading=current.id if current else None,
                previous_value=(previous.value if previous
                    else consumption['initial']),
                current_value=current.value if current else None)
            for segment, amount in zip(segments, amounts)]

    def _charge_lines(self, units, segments, notes):
        pool = Pool()
        Charge = pool.get('property.billing.charge')
        start, end = self.period_dates
        values = []
        for sub_units in grouped_slice(units, IN_MAX):
            for charge in Charge.search([
                        ('unit', 'in', [u.id for u in sub_units]),
                        ('date', '<=', end),
                        ('state', '=', 'pending'),
                        ], order=[('date', 'ASC'), ('id', 'ASC')]):
                party = charge.party
                if not party:
                    unit_segments = segments.get(charge.unit, [])
                    party = next((p for p, first, last in unit_segments
                            if first <= charge.date <= last), None)
                    if not party and unit_segments:
                        party = unit_segments[-1][0]
                if not party:
                    notes.append(gettext(
                            'property_billing.msg_note_no_payer',
                            unit=charge.unit.rec_name, fee=charge.rec_name))
                    continue
                values.append(self._line_values(
                        charge.unit, charge.fee,
                        (party, max(charge.date, start), end),
                        charge=charge.id, quantity=Decimal(1),
                        rate=charge.amount, amount=charge.amount,
                        description=charge.description))
        return values

    @classmethod
    def _payer_segments(cls, units, start, end):
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        Party = pool.get('party.party')
        occupancies, parties = {}, {}
        for sub_units in grouped_slice(units, IN_MAX):
            # payer_segments reads each occupancy once a day of the period:
            # plain values, because each access to a Many2One of a record
            # instantiates the targets of the whole list of records
            for values in Occupancy.search_read([
                        ('unit', 'in', [u.id for u in sub_units]),
                        ('start_date', '<=', end),
                        ['OR',
                            ('end_date', '=', None),
                            ('end_date', '>=', start),
                            ],
                        ], fields_names=[
                        'unit', 'party', 'role', 'start_date', 'end_date']):
                party_id = values['party']
                if party_id not in parties:
                    parties[party_id] = Party(party_id)
                occupancies.setdefault(values['unit'], []).append(
                    _Occupancy(values['id'], parties[party_id],
                        values['role'], values['start_date'],
                        values['end_date']))
        return {unit: payer_segments(occupancies.get(unit.id, []), start, end)
            for unit in units}

    @classmethod
    def _consumptions(cls, units, start, end):
        """Return the consumption of the period by (unit, kind)

        Each is a dict with the own consumption of the meters of the unit,
        its share of the shared meters, the readings of its own meter and
        its initial reading when it has no previous reading.
        """
        pool = Pool()
        Meter = pool.get('property.billing.meter')
        unit_ids = [u.id for u in units]
        meters = []
        for sub_ids in grouped_slice(unit_ids, IN_MAX):
            meters += Meter.search([
                    ('unit', 'in', list(sub_ids)),
                    ('shared', '=', False),
                    ], order=[('code', 'ASC')])
        estates = list({u.building.estate.id for u in units})
        shared = Meter.search([
                ('estate', 'in', estates),
                ('shared', '=', True),
                ])
        readings = Meter.period_readings(meters + shared, start, end)
        result = {}

        def get(unit, kind):
            return result.setdefault((unit, kind), {
                    'own': Decimal(0), 'shared': Decimal(0),
                    'readings': (None, None), 'initial': None,
                    })

        for meter in meters:
            if meter not in readings:
                continue
            previous, current = readings[meter]
            consumption = get(meter.unit, meter.kind)
            consumption['own'] += meter.consumption(previous, current)
            if consumption['readings'] == (None, None):
                consumption['readings'] = (previous, current)
                consumption['initial'] = meter.initial_reading
        units = set(units)
        for meter in shared:
            if meter not in readings or not meter.units:
                continue
            total = meter.consumption(*readings[meter])
            shares = apportion(total, [u.area for u in meter.units])
            for unit, share in zip(meter.units, shares):
                if unit in units:
                    get(unit, meter.kind)['shared'] += share
        return result

    @classmethod
    @ModelView.button
    def invoice(cls, runs):
        "Create the invoices of the computed runs in batches"
        cls.__queue__.create_invoices(runs)

    @classmethod
    @ModelView.button
    def post(cls, runs):
        "Post the invoices of the runs in batches"
        cls.__queue__.post_invoices(runs)

    @classmethod
    def process(cls, runs, batch_size=BATCH_SIZE, commit=True):
        "Compute the draft runs, create and post their invoices at once"
        draft = [r for r in runs if r.state == 'draft']
        if draft:
            cls.compute(draft)
            if commit:
                Transaction().commit()
        cls.create_invoices(
            runs, batch_size=batch_size, commit=commit, post=True)
        cls.post_invoices(runs, batch_size=batch_size, commit=commit)

    @classmethod
    def create_invoices(
            cls, runs, batch_size=BATCH_SIZE, commit=True, post=False):
        """Create an invoice per payer of each run, batch_size per transaction

        A run stopped midway continues where it stopped: the invoice of a
        payer and the link of its lines to the invoice are committed
        together.  With post, each batch of invoices is posted in the
        transaction that creates it.
        """
        for run in runs:
            run._in_batches('_invoice_batch', batch_size=batch_size,
                commit=commit, post=post)

    @classmethod
    def post_invoices(cls, runs, batch_size=BATCH_SIZE, commit=True):
        "Post the invoices of each run, batch_size per transaction"
        for run in runs:
            run._in_batches(
                '_post_batch', batch_size=batch_size, commit=commit)

    def _in_batches(self, method, commit=True, **kwargs):
        """Call method on the run until it returns True, each call in its own
        transaction when commit is set"""
        extras = self._batch_extras(method,
            post=method == '_post_batch' or kwargs.get('post'))
        # the records of the batch are instantiated in this context
        context = {
            '_property_billing_untaxed': True,
            # private key (not from RPC): the invoices the run builds skip
            # the field checks proven by construction
            RUN_CONTEXT: self.id,
            }
        while True:
            if not commit:
                with Transaction().set_context(context):
                    if getattr(self.__class__(self.id), method)(**kwargs):
                        return
                continue
            for attempt in range(RETRIES + 1):
                try:
                    with Transaction().new_transaction(**extras), \
                            Transaction().set_context(context):
                        done = getattr(self.__class__(self.id), method)(
                            **kwargs)
                    break
                except TransactionError as e:
                    # the locks are learnt once and kept for the next batches
                    e.fix(extras)
                    logger.debug("billing run %s: %s locks %s",
                        self.id, method, extras)
                except backend.DatabaseOperationalError:
                    if attempt >= RETRIES:
                        raise
                    time.sleep(0.1 * (attempt + 1))
            else:
                raise BillingRunError(gettext(
                        'property_billing.msg_run_busy', run=self.rec_name))
            if done:
                return

    def _batch_extras(self, method, post=True):
        "Return the locks to take at the start of each batch transaction"
        pool = Pool()
        FiscalYear = pool.get('account.fiscalyear')
        extras = {'_lock_records': {self._table: [self.id]}}
        if post:
            sequences = set()
            try:
                fiscalyear = FiscalYear.find(
                    self.company.id, date=self.invoice_date)
            except FiscalYearNotFoundError:
                # posting will tell the user
                return extras
            sequences.add(fiscalyear.move_sequence.id)
            for invoice_sequence in fiscalyear.invoice_sequences:
                if invoice_sequence.out_invoice_sequence:
                    sequences.add(invoice_sequence.out_invoice_sequence.id)
            extras['_lock_records']['ir_sequence_strict'] = sorted(sequences)
            # posting a move may create the period of its journal
            extras['_lock_tables'] = ['account_journal_period']
        return extras

    def _invoice_batch(self, batch_size=BATCH_SIZE, post=False):
        """Create the invoices of the next batch_size payers, posted with post

        Return True when every payer is invoiced.
        """
        pool = Pool()
        Line = pool.get('property.billing.line')
        Invoice = pool.get('account.invoice')
        self.__class__.lock([self])
        if self.state != 'computed':
            return True
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.select(line.party,
                where=(line.run == self.id) & (line.invoice_line == Null),
                group_by=[line.party],
                order_by=[line.party],
                limit=batch_size))
        party_ids = [p for p, in cursor]
        if not party_ids:
            self.state = 'invoiced'
            if post and not self._invoice_ids(['draft', 'validated'], 1):
                self.state = 'posted'
            self.save()
            return True
        lines = Line.search([
                ('run', '=', self.id),
                ('party', 'in', party_ids),
                ('invoice_line', '=', None),
                ], order=[('party', 'ASC'), ('unit', 'ASC'), ('fee', 'ASC'),
                ('start_date', 'ASC'), ('id', 'ASC')])
        context = self._invoice_context()
        invoices = []
        addresses = self._invoice_addresses([l.party for l in lines])
        for party, party_lines in groupby(lines, key=lambda l: l.party):
            invoices.append(self._get_invoice(
                    party, addresses[party], list(party_lines), context))
        Invoice.save(invoices)
        Line.link_invoice_lines([l for i in invoices for l in i.lines])
        self.invoice_count = (self.invoice_count or 0) + len(invoices)
        if post:
            Invoice.post_billing(invoices)
            self.posted_count = (self.posted_count or 0) + len(invoices)
        self.save()
        logger.info("billing run %s: %s invoices created",
            self.id, self.invoice_count)
        return False

    def _invoice_context(self):
        Configuration = Pool().get('property.billing.configuration')
        configuration = Configuration(1)
        pattern = {'company': self.company.id}
        return {
            'journal': configuration.get_invoice_journal(**pattern),
            'payment_term': configuration.get_payment_term(**pattern),
            'accounts': {},
            }

    @classmethod
    def _invoice_addresses(cls, parties):
        "Return the invoice address of each party, created when missing"
        Address = Pool().get('party.address')
        result, new = {}, []
        for party in set(parties):
            address = party.address_get(type='invoice')
            if not address:
                address = Address(party=party)
                new.append(address)
            result[party] = address
        Address.save(new)
        return result

    def _get_invoice(self, party, address, lines, context):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        invoice = Invoice(
            company=self.company,
            type='out',
            party=party,
            invoice_address=address,
            currency=self.company.currency,
            account=party.account_receivable_used,
            journal=context['journal'],
            payment_term=context['payment_term'],
            invoice_date=self.invoice_date,
            description=gettext('property_billing.msg_invoice_description',
                estate=self.estate.rec_name, period=self.period),
            )
        invoice_lines = []
        for line in lines:
            accounts = context['accounts']
            if line.fee not in accounts:
                accounts[line.fee] = line.fee.get_account()
            invoice_lines.append(InvoiceLine(
                    type='line',
                    company=self.company,
                    currency=self.company.currency,
                    invoice_type='out',
                    party=party,
                    account=accounts[line.fee],
                    description=line.get_invoice_description(),
                    quantity=1,
                    unit_price=line.amount,
                    origin=line,
                    ))
        invoice.lines = invoice_lines
        return invoice

    def _post_batch(self, batch_size=BATCH_SIZE):
        """Post the next batch_size invoices of the run

        Return True when every invoice is posted.
        """
        pool = Pool()
        Invoice = pool.get('account.invoice')
        self.__class__.lock([self])
        if self.state != 'invoiced':
            return True
        invoices = Invoice.browse(self._invoice_ids(
                ['draft', 'validated'], limit=batch_size))
        if not invoices:
            self.state = 'posted'
            self.save()
            return True
        Invoice.post_billing(invoices)
        self.posted_count = (self.posted_count or 0) + len(invoices)
        self.save()
        logger.info("billing run %s: %s invoices posted",
            self.id, self.posted_count)
        return False

    def _invoice_ids(self, states, limit=None):
        pool = Pool()
        Line = pool.get('property.billing.line')
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        line = Line.__table__()
        invoice_line = InvoiceLine.__table__()
        invoice = Invoice.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.join(invoice_line,
                condition=line.invoice_line == invoice_line.id
                ).join(invoice,
                condition=invoice_line.invoice == invoice.id
                ).select(invoice.id,
                where=(line.run == self.id) & invoice.state.in_(states),
                group_by=[invoice.id],
                order_by=[invoice.id],
                limit=limit))
        return [i for i, in cursor]


class Line(ModelSQL, ModelView):
    "The fee of a unit for a period, billed to a payer"
    __name__ = 'property.billing.line'
    run = fields.Many2One('property.billing.run', "Run", required=True,
        ondelete='CASCADE', readonly=True)
    company = fields.Many2One('company.company', "Company", required=True,
        readonly=True)
    estate = fields.Many2One('property.estate', "Estate", required=True,
        ondelete='RESTRICT', readonly=True)
    unit = fields.Many2One('property.unit', "Unit", required=True,
        ondelete='RESTRICT', readonly=True)
    fee = fields.Many2One('property.billing.fee', "Fee", required=True,
        ondelete='RESTRICT', readonly=True)
    kind = fields.Function(fields.Selection(FEE_KINDS, "Kind"), 'get_kind')
    period = fields.Char("Period", required=True, readonly=True)
    party = fields.Many2One('party.party', "Payer", required=True,
        ondelete='RESTRICT', readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    start_date = fields.Date("From", required=True, readonly=True)
    end_date = fields.Date("To", required=True, readonly=True)
    quantity = fields.Numeric("Quantity", digits=(16, 2), readonly=True,
        help="The area, spaces or consumption billed.")
    rate = fields.Numeric("Rate", digits=(16, 4), readonly=True,
        help="Empty for tiered tariffs.")
    amount = fields.Numeric("Amount", digits=(16, 2), required=True,
        readonly=True)
    previous_reading = fields.Many2One('property.billing.meter.reading',
        "Previous Reading", ondelete='RESTRICT', readonly=True)
    current_reading = fields.Many2One('property.billing.meter.reading',
        "Current Reading", ondelete='RESTRICT', readonly=True)
    previous_value = fields.Numeric("Previous Value", digits=(16, 2),
        readonly=True)
    current_value = fields.Numeric("Current Value", digits=(16, 2),
        readonly=True)
    consumption = fields.Numeric("Consumption", digits=(16, 2),
        readonly=True, help="Of the meters of the unit, multiplied.")
    shared_consumption = fields.Numeric("Shared Consumption",
        digits=(16, 2), readonly=True,
        help="The share of the unit in the shared meters, by area.")
    charge = fields.Many2One('property.billing.charge', "Charge",
        ondelete='RESTRICT', readonly=True)
    description = fields.Char("Description", readonly=True)
    invoice_line = fields.Many2One('account.invoice.line', "Invoice Line",
        ondelete='SET NULL', readonly=True)
    invoice = fields.Function(
        fields.Many2One('account.invoice', "Invoice"), 'get_invoice')
    state = fields.Function(fields.Selection([
                ('draft', "Preview"),
                ('invoiced', "Invoiced"),
                ('posted', "Posted"),
                ('paid', "Paid"),
                ('cancelled', "Cancelled"),
                ], "State"), 'get_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('period_unique', Exclude(t,
                    (t.unit, Equal), (t.fee, Equal), (t.period, Equal),
                    (t.party, Equal),
                    where=t.charge == Null),
                'property_billing.msg_line_period_unique'),
            ('charge_unique', Unique(t, t.charge),
                'property_billing.msg_line_charge_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.run, Index.Range()), (t.party, Index.Range()),
                    where=t.invoice_line == Null),
                Index(t, (t.estate, Index.Range()),
                    (t.period, Index.Equality())),
                Index(t, (t.unit, Index.Range()),
                    (t.period, Index.Equality())),
                Index(t, (t.invoice_line, Index.Range())),
                })
        cls._order = [('period', 'DESC'), ('unit', 'ASC'), ('fee', 'ASC'),
            ('start_date', 'ASC'), ('id', 'ASC')]

    def get_kind(self, name):
        return self.fee.kind

    def get_invoice(self, name):
        if self.invoice_line and self.invoice_line.invoice:
            return self.invoice_line.invoice.id

    def get_state(self, name):
        if not self.invoice_line or not self.invoice_line.invoice:
            return 'draft'
        state = self.invoice_line.invoice.state
        if state in {'draft', 'validated'}:
            return 'invoiced'
        return state

    def get_rec_name(self, name):
        return f'{self.unit.rec_name} {self.fee.rec_name} {self.period}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('unit.rec_name', operator, value),
            ('fee.rec_name', operator, value),
            ('period', operator, value),
            ]

    @classmethod
    def billed_keys(cls, estate, period):
        "Return the (unit id, fee id) billed for the period in the estate"
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*line.select(line.unit, line.fee,
                where=(line.estate == estate.id) & (line.period == period)
                & (line.charge == Null),
                group_by=[line.unit, line.fee]))
        return set(cursor)

    @classmethod
    def link_invoice_lines(cls, invoice_lines):
        "Set the invoice line of the billing lines that are their origin"
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        line = cls.__table__()
        invoice_line = InvoiceLine.__table__()
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        ids = [l.id for l in invoice_lines]
        prefix = cls.__name__ + ','
        for sub_ids in grouped_slice(ids, IN_MAX):
            sub_ids = list(sub_ids)
            cursor.execute(*invoice_line.select(invoice_line.origin,
                    where=fields.SQL_OPERATORS['in'](
                        invoice_line.id, sub_ids)
                    & invoice_line.origin.like(prefix + '%')))
            line_ids = [int(o[len(prefix):]) for o, in cursor]
            if not line_ids:
                continue
            # the ids of both sides let the database use its indexes
            cursor.execute(*line.update(
                    [line.invoice_line, line.write_uid, line.write_date],
                    [invoice_line.id, transaction.user, CurrentTimestamp()],
                    from_=[invoice_line],
                    where=fields.SQL_OPERATORS['in'](invoice_line.id, sub_ids)
                    & fields.SQL_OPERATORS['in'](line.id, line_ids)
                    & (invoice_line.origin == Concat(prefix, line.id))))

    def get_invoice_description(self):
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        if self.charge:
            return self.description or self.charge.description
        start, end = period_dates(self.period)
        days = ''
        if (self.start_date, self.end_date) != (start, end):
            days = gettext('property_billing.msg_line_days',
                start=lang.strftime(self.start_date),
                end=lang.strftime(self.end_date))
        if self.fee.kind in METERED_KINDS:
            detail = gettext('property_billing.msg_line_metered',
                previous=lang.format_number(self.previous_value)
                if self.previous_value is not None else '-',
                current=lang.format_number(self.current_value)
                if self.current_value is not None else '-',
                quantity=lang.format_number(self.quantity))
            if self.shared_consumption:
                detail += gettext('property_billing.msg_line_shared',
                    shared=lang.format_number(self.shared_consumption))
        else:
            detail = gettext('property_billing.msg_line_monthly',
                quantity=lang.format_number(self.quantity),
                rate=lang.format_number(self.rate, digits=4).rstrip('0')
                .rstrip(lang.decimal_point))
        return gettext('property_billing.msg_line_description',
            unit=self.unit.rec_name, fee=self.fee.name,
            period=self.period, detail=detail, days=days)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if mode == 'delete':
            for line in lines:
                if line.invoice_line:
                    raise AccessError(gettext(
                            'property_billing.msg_line_invoiced_delete',
                            line=line.rec_name))
