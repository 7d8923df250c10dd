# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Fees, their tariffs per estate and the units they apply to (BILL-1)"
from decimal import ROUND_HALF_UP, Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.property_community.estate import UNIT_TYPES
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import TariffValidationError

FEN = Decimal('0.01')
IN_MAX = 1000
FEE_KINDS = [
    ('management', "Management Fee"),
    ('water', "Water"),
    ('electricity', "Electricity"),
    ('parking', "Parking Fee"),
    ('other', "One-off Charge"),
    ]
METERED_KINDS = {'water', 'electricity'}
# kinds billed every month from the tariff, prorated by days of occupancy
MONTHLY_KINDS = {'management', 'parking'}


def round_fen(amount):
    "Round amount half up to the fen"
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


class Fee(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'property.billing.fee'
    company = fields.Many2One('company.company', "Company", required=True)
    name = fields.Char("Name", required=True, translate=True,
        help="Shown on the bills.")
    code = fields.Char("Code", required=True)
    kind = fields.Selection(FEE_KINDS, "Kind", required=True, sort=False,
        help="How the fee is computed:\n"
        "management: area × monthly rate;\n"
        "water and electricity: meter consumption × tariff;\n"
        "parking: spaces × monthly rate;\n"
        "one-off: the amount of each charge.")
    account = fields.Many2One('account.account', "Revenue Account",
        domain=[
            ('closed', '!=', True),
            ('type.revenue', '=', True),
            ('company', '=', Eval('company', -1)),
            ],
        help="Leave empty to use the account of the kind "
        "in the billing configuration.")
    sequence = fields.Integer("Sequence")
    tariffs = fields.One2Many('property.billing.tariff', 'fee', "Tariffs")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.company, t.code),
                'property_billing.msg_fee_code_unique'),
            ]
        cls._order = [
            ('sequence', 'ASC NULLS LAST'), ('code', 'ASC'), ('id', 'ASC')]

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'management'

    @property
    def metered(self):
        return self.kind in METERED_KINDS

    def get_account(self):
        "Return the revenue account of the invoice lines of the fee"
        Configuration = Pool().get('property.billing.configuration')
        if self.account:
            return self.account
        return Configuration(1).get_fee_account(
            self.kind, company=self.company.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('code', operator, value),
            ]

    @classmethod
    def fees_of_units(cls, units):
        """Return the fees billed every period to each unit

        The result maps each unit to a list of (fee, unit fee) where unit fee
        is the override of the unit or None.  The fees come from the rules of
        the estate and unit type, plus and minus the overrides of the unit.
        """
        pool = Pool()
        Rule = pool.get('property.billing.fee.rule')
        UnitFee = pool.get('property.billing.unit.fee')
        estates = {u.building.estate for u in units}
        rules = {}
        for rule in Rule.search([
                    ('estate', 'in', [e.id for e in estates]),
                    ('fee.active', '=', True),
                    ]):
            rules.setdefault(
                (rule.estate, rule.unit_type), []).append(rule.fee)
        overrides = {}
        for sub_units in grouped_slice(units, IN_MAX):
            for unit_fee in UnitFee.search([
                        ('unit', 'in', [u.id for u in sub_units]),
                        ('fee.active', '=', True),
                        ]):
                overrides.setdefault(unit_fee.unit, {})[
                    unit_fee.fee] = unit_fee
        result = {}
        for unit in units:
            estate = unit.building.estate
            fees = dict.fromkeys(
                rules.get((estate, unit.type), [])
                + rules.get((estate, None), []))
            unit_overrides = overrides.get(unit, {})
            fees.update(unit_overrides)
            result[unit] = [(fee, unit_fee) for fee, unit_fee in sorted(
                    fees.items(), key=lambda f: (
                        f[0].sequence is None, f[0].sequence or 0,
                        f[0].code))
                if not (unit_fee and unit_fee.excluded)
                and fee.kind != 'other']
        return result


class Tariff(ModelSQL, ModelView):
    __name__ = 'property.billing.tariff'
    fee = fields.Many2One(
        'property.billing.fee', "Fee", required=True, ondelete='CASCADE',
        domain=[('kind', '!=', 'other')])
    estate = fields.Many2One(
        'property.estate', "Estate", required=True, ondelete='CASCADE')
    kind = fields.Function(
        fields.Selection(FEE_KINDS, "Kind"), 'on_change_with_kind')
    start_date = fields.Date("Effective Date", required=True,
        help="The tariff applies to the periods ending on or after this "
        "date until the next tariff of the fee and estate.")
    rate = fields.Numeric("Rate", digits=(16, 4), required=True,
        domain=[('rate', '>=', 0)],
        help="Per m² and month for management fees, per space and month "
        "for parking, per unit consumed (m³, kWh) for water and "
        "electricity up to the first tier.")
    tiers = fields.One2Many('property.billing.tariff.tier', 'tariff',
        "Tiers",
        states={
            'invisible': ~Eval('kind').in_(list(METERED_KINDS)),
            },
        help="Higher rates above usage thresholds per period.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('date_unique', Unique(t, t.fee, t.estate, t.start_date),
                'property_billing.msg_tariff_date_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.estate, Index.Range()), (t.fee, Index.Range()),
                (t.start_date, Index.Range())))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @fields.depends('fee', '_parent_fee.kind')
    def on_change_with_kind(self, name=None):
        return self.fee.kind if self.fee else None

    def get_rec_name(self, name):
        return f'{self.fee.rec_name} @ {self.estate.rec_name} ' \
            f'({self.start_date})'

    @classmethod
    def validate_fields(cls, tariffs, field_names):
        super().validate_fields(tariffs, field_names)
        for tariff in tariffs:
            if tariff.tiers and not tariff.fee.metered:
                raise TariffValidationError(gettext(
                        'property_billing.msg_tariff_tiers_not_metered',
                        tariff=tariff.rec_name))

    @classmethod
    def get_tariffs(cls, keys, date):
        """Return the tariff in force at date for each (fee, estate) key

        Keys without a tariff are missing from the result.
        """
        result = {}
        fees = {f for f, _ in keys}
        estates = {e for _, e in keys}
        for tariff in cls.search([
                    ('fee', 'in', [f.id for f in fees]),
                    ('estate', 'in', [e.id for e in estates]),
                    ('start_date', '<=', date),
                    ], order=[('start_date', 'ASC'), ('id', 'ASC')]):
            key = (tariff.fee, tariff.estate)
            if key in keys:
                result[key] = tariff
        return result

    def compute(self, quantity, rate=None):
        """Return the price of quantity, not rounded

        The rate applies up to the first tier threshold, each tier rate
        above its threshold up to the next one.  A rate given replaces the
        rate of the tariff and its tiers.
        """
        quantity = Decimal(quantity)
        if rate is not None:
            return quantity * rate
        steps = [(Decimal(0), self.rate)] + sorted(
            (t.threshold, t.rate) for t in self.tiers)
        amount = Decimal(0)
        for i, (threshold, rate) in enumerate(steps):
            if quantity <= threshold:
                break
            upper = steps[i + 1][0] if i + 1 < len(steps) else None
            top = quantity if upper is None else min(quantity, upper)
            amount += (top - threshold) * rate
        return amount


class TariffTier(ModelSQL, ModelView):
    __name__ = 'property.billing.tariff.tier'
    tariff = fields.Many2One('property.billing.tariff', "Tariff",
        required=True, ondelete='CASCADE')
    threshold = fields.Numeric("Above", digits=(16, 2), required=True,
        domain=[('threshold', '>', 0)],
        help="The usage per period above which the rate applies.")
    rate = fields.Numeric("Rate", digits=(16, 4), required=True,
        domain=[('rate', '>=', 0)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('threshold_unique', Unique(t, t.tariff, t.threshold),
                'property_billing.msg_tariff_tier_unique'),
            ]
        cls._order = [('threshold', 'ASC'), ('id', 'ASC')]


class FeeRule(ModelSQL, ModelView):
    "The fees of the units of an estate by unit type"
    __name__ = 'property.billing.fee.rule'
    estate = fields.Many2One(
        'property.estate', "Estate", required=True, ondelete='CASCADE')
    unit_type = fields.Selection([(None, "All Types")] + UNIT_TYPES,
        "Unit Type", help="Leave empty for the units of every type.")
    fee = fields.Many2One('property.billing.fee', "Fee", required=True,
        ondelete='CASCADE', domain=[('kind', '!=', 'other')])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('fee_unique', Unique(t, t.estate, t.unit_type, t.fee),
                'property_billing.msg_fee_rule_unique'),
            ]
        cls._order = [
            ('estate', 'ASC'), ('unit_type', 'ASC NULLS FIRST'), ('id', 'ASC')]


class UnitFee(ModelSQL, ModelView):
    "A fee added to, changed for or removed from a unit"
    __name__ = 'property.billing.unit.fee'
    unit = fields.Many2One(
        'property.unit', "Unit", required=True, ondelete='CASCADE')
    fee = fields.Many2One('property.billing.fee', "Fee", required=True,
        ondelete='CASCADE', domain=[('kind', '!=', 'other')])
    excluded = fields.Boolean("Not Billed",
        help="The unit does not pay this fee although the rules say so.")
    quantity = fields.Numeric("Quantity", digits=(16, 2),
        domain=[If(Eval('quantity'), ('quantity', '>=', 0), ())],
        states={
            'invisible': Eval('excluded', False),
            },
        help="Replaces the area of management fees and the number of "
        "spaces (1) of parking fees.")
    rate = fields.Numeric("Special Rate", digits=(16, 4),
        domain=[If(Eval('rate'), ('rate', '>=', 0), ())],
        states={
            'invisible': Eval('excluded', False),
            },
        help="Replaces the tariff of the estate for this unit.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('fee_unique', Unique(t, t.unit, t.fee),
                'property_billing.msg_unit_fee_unique'),
            ]

    @classmethod
    def default_excluded(cls):
        return False


class Charge(ModelSQL, ModelView):
    "A one-off charge billed with the next billing run"
    __name__ = 'property.billing.charge'
    company = fields.Many2One('company.company', "Company", required=True)
    unit = fields.Many2One('property.unit', "Unit", required=True,
        ondelete='RESTRICT',
        states={'readonly': Eval('state') == 'billed'})
    fee = fields.Many2One('property.billing.fee', "Fee", required=True,
        domain=[('kind', '=', 'other'), ('company', '=', Eval('company', -1))],
        states={'readonly': Eval('state') == 'billed'})
    date = fields.Date("Date", required=True,
        states={'readonly': Eval('state') == 'billed'},
        help="The charge is billed by the run of the period of this date "
        "or of a later period.")
    description = fields.Char("Description", required=True,
        states={'readonly': Eval('state') == 'billed'})
    amount = fields.Numeric("Amount", digits=(16, 2), required=True,
        domain=[('amount', '>', 0)],
        states={'readonly': Eval('state') == 'billed'})
    party = fields.Many2One('party.party', "Payer",
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        states={'readonly': Eval('state') == 'billed'},
        help="Leave empty to bill the payer of the unit at the date.")
    origin = fields.Reference("Origin", selection='get_origin', readonly=True)
    lines = fields.One2Many(
        'property.billing.line', 'charge', "Billing Lines", readonly=True)
    state = fields.Function(fields.Selection([
                ('pending', "Pending"),
                ('billed', "Billed"),
                ], "State"), 'get_state', searcher='search_state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.unit, Index.Range()), (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def _get_origin(cls):
        "Models whose records can create a charge (e.g. repair orders)"
        return []

    @classmethod
    def get_origin(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origin()]

    def get_state(self, name):
        return 'billed' if self.lines else 'pending'

    @classmethod
    def search_state(cls, name, clause):
        _, operator, value = clause
        billed = (value == 'billed') == (operator == '=')
        return [('lines', '!=' if billed else '=', None)]

    @classmethod
    def check_modification(cls, mode, charges, values=None, external=False):
        super().check_modification(
            mode, charges, values=values, external=external)
        if mode == 'delete':
            for charge in charges:
                if charge.lines:
                    raise AccessError(gettext(
                            'property_billing.msg_charge_billed_delete',
                            charge=charge.rec_name))

    def get_rec_name(self, name):
        return f'{self.unit.rec_name} {self.description}'
