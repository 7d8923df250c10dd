# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Meters, their readings and replacements, shared meters (BILL-2)"
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice

from .exceptions import MeterValidationError, ReadingValidationError
from .fee import FEN, IN_MAX, METERED_KINDS

METER_KINDS = [
    ('water', "Water"),
    ('electricity', "Electricity"),
    ]
assert {k for k, _ in METER_KINDS} == METERED_KINDS


def apportion(total, weights, digits=FEN):
    """Split total in proportion to weights, each part rounded to digits

    The parts add up to total: the rounding differences go to the parts
    with the largest remainders.
    """
    weights = [Decimal(w or 0) for w in weights]
    total_weight = sum(weights)
    if not weights:
        return []
    if not total_weight:
        weights = [Decimal(1)] * len(weights)
        total_weight = Decimal(len(weights))
    exact = [total * w / total_weight for w in weights]
    parts = [e.quantize(digits, rounding='ROUND_DOWN') if e >= 0
        else e.quantize(digits, rounding='ROUND_UP') for e in exact]
    rest = int(((total - sum(parts)) / digits).to_integral_value())
    step = digits if rest >= 0 else -digits
    order = sorted(range(len(parts)),
        key=lambda i: (-abs(exact[i] - parts[i]), i))
    for i in order[:abs(rest)]:
        parts[i] += step
    return parts


class Meter(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'property.billing.meter'
    estate = fields.Many2One(
        'property.estate', "Estate", required=True, ondelete='CASCADE')
    code = fields.Char("Number", required=True,
        help="The number of the meter, unique in the estate.")
    kind = fields.Selection(METER_KINDS, "Kind", required=True)
    shared = fields.Boolean("Shared",
        help="The consumption is split by area among the units "
        "of the meter (public area).")
    unit = fields.Many2One('property.unit', "Unit", ondelete='RESTRICT',
        domain=[
            ('building.estate', '=', Eval('estate', -1)),
            ],
        states={
            'required': ~Eval('shared', False),
            'invisible': Eval('shared', False),
            })
    units = fields.Many2Many(
        'property.billing.meter-property.unit', 'meter', 'unit', "Units",
        domain=[
            ('building.estate', '=', Eval('estate', -1)),
            ],
        states={
            'invisible': ~Eval('shared', False),
            },
        help="The units that share the consumption, in proportion to "
        "their area.")
    multiplier = fields.Numeric("Multiplier", digits=(16, 4), required=True,
        domain=[('multiplier', '>', 0)],
        help="The consumption is the reading difference times the "
        "multiplier (e.g. the ratio of a current transformer).")
    initial_reading = fields.Numeric("Initial Reading", digits=(16, 2),
        required=True, domain=[('initial_reading', '>=', 0)],
        help="The reading when the meter was installed.")
    readings = fields.One2Many(
        'property.billing.meter.reading', 'meter', "Readings")
    replacements = fields.One2Many(
        'property.billing.meter.replacement', 'meter', "Replacements")
    last_reading = fields.Function(
        fields.Numeric("Last Reading", digits=(16, 2)), 'get_last_reading')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.estate, t.code),
                'property_billing.msg_meter_code_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.unit, Index.Range())))
        cls._order = [('estate', 'ASC'), ('code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_multiplier(cls):
        return Decimal(1)

    @classmethod
    def default_initial_reading(cls):
        return Decimal(0)

    @classmethod
    def default_shared(cls):
        return False

    def get_rec_name(self, name):
        return f'{self.estate.code}/{self.code}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('code', operator, value),
            ('unit.rec_name', operator, value),
            ]

    @classmethod
    def get_last_reading(cls, meters, name):
        Reading = Pool().get('property.billing.meter.reading')
        result = {m.id: None for m in meters}
        for sub_meters in grouped_slice(meters, IN_MAX):
            for reading in Reading.search([
                        ('meter', 'in', [m.id for m in sub_meters]),
                        ], order=[('date', 'ASC'), ('id', 'ASC')]):
                result[reading.meter.id] = reading.value
        return result

    @classmethod
    def validate_fields(cls, meters, field_names):
        super().validate_fields(meters, field_names)
        for meter in meters:
            if meter.shared and meter.unit:
                raise MeterValidationError(gettext(
                        'property_billing.msg_meter_shared_unit',
                        meter=meter.rec_name))

    def consumption(self, start, end):
        """Return the consumption between two readings, multiplied

        start and end are readings of the meter or None for the initial
        reading; the replacements between them count the final reading of
        the old meter and the initial reading of the new one.
        """
        start_date = start.date if start else None
        baseline = start.value if start else self.initial_reading
        raw = Decimal(0)
        for replacement in sorted(self.replacements, key=lambda r: r.date):
            if start_date and replacement.date <= start_date:
                continue
            if replacement.date > end.date:
                break
            raw += replacement.final_reading - baseline
            baseline = replacement.initial_reading
        raw += end.value - baseline
        return raw * self.multiplier

    @classmethod
    def period_readings(cls, meters, start_date, end_date):
        """Return the readings that bill each meter for the period

        The result maps each meter with a reading in the period to
        (previous, current): current is its last reading of the period and
        previous the last reading before the period (None for the initial
        reading).
        """
        Reading = Pool().get('property.billing.meter.reading')
        result = {}
        for sub_meters in grouped_slice(meters, IN_MAX):
            previous, current = {}, {}
            for reading in Reading.search([
                        ('meter', 'in', [m.id for m in sub_meters]),
                        ('date', '<=', end_date),
                        ], order=[('date', 'ASC'), ('id', 'ASC')]):
                if reading.date < start_date:
                    previous[reading.meter] = reading
                else:
                    current[reading.meter] = reading
            for meter, reading in current.items():
                result[meter] = (previous.get(meter), reading)
        return result


class MeterUnit(ModelSQL):
    __name__ = 'property.billing.meter-property.unit'
    meter = fields.Many2One('property.billing.meter', "Meter",
        required=True, ondelete='CASCADE')
    unit = fields.Many2One('property.unit', "Unit",
        required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('unit_unique', Unique(t, t.meter, t.unit),
                'property_billing.msg_meter_unit_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.unit, Index.Range())))


class Reading(ModelSQL, ModelView):
    __name__ = 'property.billing.meter.reading'
    meter = fields.Many2One('property.billing.meter', "Meter",
        required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    value = fields.Numeric("Reading", digits=(16, 2), required=True,
        domain=[('value', '>=', 0)])
    note = fields.Char("Note")
    billed = fields.Function(fields.Boolean("Billed"), 'get_billed')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('date_unique', Unique(t, t.meter, t.date),
                'property_billing.msg_reading_date_unique'),
            ]
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return f'{self.meter.rec_name} {self.date}: {self.value}'

    @classmethod
    def get_billed(cls, readings, name):
        Line = Pool().get('property.billing.line')
        billed = set()
        for sub_readings in grouped_slice(readings, IN_MAX):
            ids = [r.id for r in sub_readings]
            for line in Line.search(['OR',
                        ('current_reading', 'in', ids),
                        ('previous_reading', 'in', ids),
                        ]):
                billed.add(line.current_reading.id)
                if line.previous_reading:
                    billed.add(line.previous_reading.id)
        return {r.id: r.id in billed for r in readings}

    @classmethod
    def check_modification(cls, mode, readings, values=None, external=False):
        super().check_modification(
            mode, readings, values=values, external=external)
        if mode in {'write', 'delete'}:
            for reading in readings:
                if reading.billed:
                    raise AccessError(gettext(
                            'property_billing.msg_reading_billed_modify',
                            reading=reading.rec_name))

    @classmethod
    def validate_fields(cls, readings, field_names):
        super().validate_fields(readings, field_names)
        if field_names and not ({'meter', 'date', 'value'} & field_names):
            return
        cls.check_meters({r.meter for r in readings})

    @classmethod
    def check_meters(cls, meters):
        """Refuse a reading lower than the one before it unless the meter was
        replaced in between, and a final reading of a replaced meter lower
        than the reading before it"""
        readings = {}
        for sub_meters in grouped_slice(list(meters), IN_MAX):
            for reading in cls.search([
                        ('meter', 'in', [m.id for m in sub_meters]),
                        ], order=[('date', 'ASC'), ('id', 'ASC')]):
                readings.setdefault(reading.meter, []).append(reading)
        for meter in meters:
            cls._check_meter(meter, readings.get(meter, []))

    @classmethod
    def _check_meter(cls, meter, readings):
        for reading, message in cls.sequence_errors(meter, readings):
            raise ReadingValidationError(message)

    @classmethod
    def sequence_errors(cls, meter, readings):
        """Yield (record, message) for each reading or replacement that is
        lower than the reading before it

        readings are all the readings of the meter, saved or not.
        """
        lang = Pool().get('ir.lang').get()
        # each point is (date, order, position, value, record); on the day
        # of a replacement, the final reading of the old meter comes first,
        # then the initial reading of the new one and the readings of the day
        points = []
        for replacement in meter.replacements:
            points.append((
                    replacement.date, 0, 0, replacement.final_reading,
                    replacement))
            points.append((
                    replacement.date, 1, 0, replacement.initial_reading,
                    None))
        points += [(r.date, 2, r.id or (1 << 62) + i, r.value, r)
            for i, r in enumerate(readings)]
        points.sort(key=lambda p: p[:3])
        previous_value, previous_record = meter.initial_reading, None
        for date, order, _, value, record in points:
            if order != 1 and value < previous_value:
                if previous_record:
                    other = gettext('property_billing.msg_reading_previous',
                        date=lang.strftime(previous_record.date),
                        value=lang.format_number(previous_value))
                else:
                    other = gettext('property_billing.msg_reading_initial',
                        value=lang.format_number(previous_value))
                message = ('msg_reading_lower' if order == 2
                    else 'msg_replacement_final_lower')
                yield record, gettext(
                    f'property_billing.{message}',
                    meter=meter.rec_name,
                    date=lang.strftime(date),
                    value=lang.format_number(value),
                    other=other)
            previous_value = value
            previous_record = record if order == 2 else None


class Replacement(ModelSQL, ModelView):
    "A meter replaced by a new one at the same place"
    __name__ = 'property.billing.meter.replacement'
    meter = fields.Many2One('property.billing.meter', "Meter",
        required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    final_reading = fields.Numeric("Final Reading", digits=(16, 2),
        required=True, domain=[('final_reading', '>=', 0)],
        help="The last reading of the old meter.")
    initial_reading = fields.Numeric("Initial Reading", digits=(16, 2),
        required=True, domain=[('initial_reading', '>=', 0)],
        help="The first reading of the new meter.")
    note = fields.Char("Note",
        help="E.g. the serial number of the new meter.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('date_unique', Unique(t, t.meter, t.date),
                'property_billing.msg_replacement_date_unique'),
            ]
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_initial_reading(cls):
        return Decimal(0)

    def get_rec_name(self, name):
        return f'{self.meter.rec_name} {self.date}'

    @classmethod
    def validate_fields(cls, replacements, field_names):
        pool = Pool()
        Reading = pool.get('property.billing.meter.reading')
        super().validate_fields(replacements, field_names)
        Reading.check_meters({r.meter for r in replacements})

    @classmethod
    def check_modification(
            cls, mode, replacements, values=None, external=False):
        pool = Pool()
        Line = pool.get('property.billing.line')
        super().check_modification(
            mode, replacements, values=values, external=external)
        if mode in {'write', 'delete'}:
            for replacement in replacements:
                if Line.search([
                            ('current_reading.meter', '=',
                                replacement.meter.id),
                            ('current_reading.date', '>=', replacement.date),
                            ], limit=1):
                    raise AccessError(gettext(
                            'property_billing.msg_replacement_billed_modify',
                            replacement=replacement.rec_name))
