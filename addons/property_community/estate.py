# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
from decimal import Decimal

from sql.conditionals import Coalesce

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .exceptions import OccupancyValidationError, UnitValidationError

UNIT_TYPES = [
    ('office', "Office"),
    ('shop', "Shop"),
    ('apartment', "Apartment"),
    ('parking', "Parking Space"),
    ('public', "Public Area"),
    ]
LEASABLE_TYPES = {'office', 'shop', 'apartment', 'parking'}
OCCUPANCY_ROLES = [
    ('owner', "Owner"),
    ('merchant', "Merchant"),
    ('tenant', "Tenant"),
    ]
PAYER_ROLES = {'merchant', 'tenant'}


class Estate(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'property.estate'
    name = fields.Char("Name", required=True)
    code = fields.Char("Code", required=True)
    kind = fields.Selection([
            ('office_park', "Office Park"),
            ('residential', "Residential Compound"),
            ('mixed', "Mixed Use"),
            ], "Kind", required=True)
    company = fields.Many2One('company.company', "Company", required=True)
    address = fields.Char("Address")
    phone = fields.Char("Service Phone")
    buildings = fields.One2Many('property.building', 'estate', "Buildings")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.company, t.code),
                'property_community.msg_estate_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @staticmethod
    def default_company():
        return Transaction().context.get('company')

    @classmethod
    def default_kind(cls):
        return 'mixed'

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('code', operator, value),
            ]


class Building(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'property.building'
    estate = fields.Many2One(
        'property.estate', "Estate", required=True, ondelete='CASCADE')
    name = fields.Char("Name", required=True)
    code = fields.Char("Code", required=True)
    floors = fields.Integer("Floors",
        domain=[If(Eval('floors'), ('floors', '>', 0), ())])
    units = fields.One2Many('property.unit', 'building', "Units")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.estate, t.code),
                'property_community.msg_building_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    def get_rec_name(self, name):
        return f'{self.estate.rec_name} {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('code', operator, value),
            ('estate.rec_name', operator, value),
            ]


class Unit(DeactivableMixin, ModelSQL, ModelView):
    __name__ = 'property.unit'
    building = fields.Many2One(
        'property.building', "Building", required=True, ondelete='CASCADE')
    estate = fields.Function(
        fields.Many2One('property.estate', "Estate"),
        'get_estate', searcher='search_estate')
    code = fields.Char("Number", required=True,
        help="The number of the room, shop or parking space.")
    type = fields.Selection(UNIT_TYPES, "Type", required=True)
    floor = fields.Integer("Floor")
    area = fields.Numeric("Area (m²)", digits=(16, 2),
        domain=[If(Eval('area'), ('area', '>=', 0), ())],
        help="Building area in square metres.")
    state = fields.Selection([
            ('vacant', "Vacant"),
            ('leased', "Leased"),
            ('occupied', "Occupied"),
            ], "State", readonly=True, sort=False,
        help="Derived from the current occupancies.")
    full_code = fields.Char("Full Number", readonly=True,
        help="Estate, building and unit numbers, unique in the company.")
    occupancies = fields.One2Many(
        'property.occupancy', 'unit', "Occupancies", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.building, t.code),
                'property_community.msg_unit_code_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.full_code, Index.Similarity())),
                Index(t, (t.building, Index.Range()), (t.type, Index.Equality())),
                })
        cls._order = [('full_code', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_type(cls):
        return 'office'

    @classmethod
    def default_state(cls):
        return 'vacant'

    def get_estate(self, name):
        return self.building.estate.id if self.building else None

    @classmethod
    def search_estate(cls, name, clause):
        return [('building.estate' + clause[0][len(name):], *clause[1:])]

    def get_rec_name(self, name):
        return self.full_code or self.code

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('full_code', operator, value),
            ('code', operator, value),
            ]

    @classmethod
    def describe(cls, ids):
        "Return the API description of the units, in the order of ids"
        unit = cls.__table__()
        from_, columns = cls.describe_join(None, unit.id, table=unit)
        cursor = Transaction().connection.cursor()
        described = {}
        for sub_ids in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*from_.select(*columns,
                    where=unit.id.in_(list(sub_ids))))
            for row in cursor:
                described[row[0]] = cls.describe_row(row)
        return [described[i] for i in ids if i in described]

    @classmethod
    def describe_join(cls, from_, unit_id, type_='INNER', table=None):
        """Join to from_ the unit of unit_id with what describe_row needs

        Return the join and the columns to select for describe_row; from_
        None starts from the unit table (table)."""
        pool = Pool()
        unit = table if table is not None else cls.__table__()
        building = pool.get('property.building').__table__()
        estate = pool.get('property.estate').__table__()
        if from_ is not None:
            from_ = from_.join(unit, type_, condition=unit.id == unit_id)
        else:
            from_ = unit
        from_ = (from_
            .join(building, type_, condition=unit.building == building.id)
            .join(estate, type_, condition=building.estate == estate.id))
        return from_, [unit.id, unit.full_code, unit.type, unit.floor,
            unit.area, estate.name, building.name]

    @classmethod
    def describe_row(cls, row):
        "The API description of a unit from the columns of describe_join"
        id_, code, type_, floor, area, estate_name, building_name = row
        return {
            'id': id_,
            'code': code,
            'type': type_,
            'floor': floor,
            'area': (Decimal(str(area)).quantize(Decimal('0.01'))
                if area is not None else None),
            'estate': estate_name,
            'building': building_name,
            }

    @property
    def leasable(self):
        return self.type in LEASABLE_TYPES

    @classmethod
    def on_modification(cls, mode, units, field_names=None):
        super().on_modification(mode, units, field_names=field_names)
        if mode == 'create' or (field_names and (
                    {'building', 'code'} & set(field_names))):
            cls._update_full_code(units)

    @classmethod
    def _update_full_code(cls, units):
        to_write = []
        for unit in units:
            full_code = '-'.join([
                    unit.building.estate.code, unit.building.code, unit.code])
            if unit.full_code != full_code:
                to_write.extend([[unit], {'full_code': full_code}])
        if to_write:
            cls.write(*to_write)

    @classmethod
    def update_state(cls, units, date=None):
        "Set the state of the units from their occupancies at date"
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        roles = {u.id: set() for u in units}
        for occupancy in Occupancy.search([
                    ('unit', 'in', [u.id for u in units]),
                    ('start_date', '<=', date),
                    ['OR',
                        ('end_date', '=', None),
                        ('end_date', '>=', date),
                        ],
                    ]):
            roles[occupancy.unit.id].add(occupancy.role)
        to_write = {}
        for unit in units:
            if roles[unit.id] & PAYER_ROLES:
                state = 'leased'
            elif 'owner' in roles[unit.id]:
                state = 'occupied'
            else:
                state = 'vacant'
            if unit.state != state:
                to_write.setdefault(state, []).append(unit)
        for state, records in to_write.items():
            cls.write(records, {'state': state})

    @classmethod
    def validate_fields(cls, units, field_names):
        super().validate_fields(units, field_names)
        if not field_names or {'floor', 'building'} & set(field_names):
            for unit in units:
                floors = unit.building.floors
                if floors and unit.floor and unit.floor > floors:
                    raise UnitValidationError(gettext(
                            'property_community.msg_unit_floor_too_high',
                            unit=unit.rec_name, floors=floors))


class Occupancy(ModelSQL, ModelView):
    __name__ = 'property.occupancy'
    unit = fields.Many2One(
        'property.unit', "Unit", required=True, ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT')
    role = fields.Selection(OCCUPANCY_ROLES, "Role", required=True)
    start_date = fields.Date("Start Date", required=True)
    end_date = fields.Date("End Date",
        domain=[If(Eval('end_date') & Eval('start_date'),
                ('end_date', '>=', Eval('start_date')), ())])
    current = fields.Function(
        fields.Boolean("Current"), 'get_current', searcher='search_current')
    origin = fields.Reference("Origin", selection='get_origin', readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.unit, Index.Range()),
                    (t.start_date, Index.Range())),
                Index(t, (t.party, Index.Range())),
                })
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def _get_origin(cls):
        "Models whose records can create an occupancy"
        return ['property.certification']

    @classmethod
    def get_origin(cls):
        IrModel = Pool().get('ir.model')
        return [(None, '')] + [
            (m, IrModel.get_name(m)) for m in cls._get_origin()]

    def get_rec_name(self, name):
        return f'{self.party.rec_name} @ {self.unit.rec_name}'

    def is_current(self, date=None):
        if date is None:
            date = Pool().get('ir.date').today()
        return (self.start_date <= date
            and (not self.end_date or self.end_date >= date))

    def get_current(self, name):
        return self.is_current()

    @classmethod
    def search_current(cls, name, clause):
        today = Pool().get('ir.date').today()
        _, operator, value = clause
        current = (operator == '=') == bool(value)
        domain = [
            ('start_date', '<=', today),
            ['OR', ('end_date', '=', None), ('end_date', '>=', today)],
            ]
        if current:
            return domain
        return ['OR',
            ('start_date', '>', today),
            ('end_date', '<', today),
            ]

    @classmethod
    def validate_fields(cls, occupancies, field_names):
        super().validate_fields(occupancies, field_names)
        cls.check_overlap(occupancies)

    @classmethod
    def check_overlap(cls, occupancies):
        "A unit has one paying merchant or tenant at a time"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        far = dt.date.max
        for occupancy in occupancies:
            if occupancy.role not in PAYER_ROLES:
                continue
            end = occupancy.end_date or far
            cursor.execute(*table.select(table.id,
                    where=(table.unit == occupancy.unit.id)
                    & (table.id != occupancy.id)
                    & table.role.in_(list(PAYER_ROLES))
                    & (table.start_date <= end)
                    & (Coalesce(table.end_date, far) >= occupancy.start_date),
                    limit=1))
            row = cursor.fetchone()
            if row:
                other = cls(row[0])
                raise OccupancyValidationError(gettext(
                        'property_community.msg_occupancy_overlap',
                        unit=occupancy.unit.rec_name,
                        other=other.party.rec_name))

    @classmethod
    def on_modification(cls, mode, occupancies, field_names=None):
        pool = Pool()
        Unit = pool.get('property.unit')
        super().on_modification(mode, occupancies, field_names=field_names)
        Unit.update_state(Unit.browse({o.unit for o in occupancies}))

    @classmethod
    def on_delete(cls, occupancies):
        pool = Pool()
        Unit = pool.get('property.unit')
        callback = super().on_delete(occupancies)
        units = Unit.browse({o.unit for o in occupancies})
        callback.append(lambda: Unit.update_state(Unit.browse(units)))
        return callback

    @classmethod
    def current_unit_ids(cls, party, date=None):
        "Return the ids of the units the party occupies at date"
        if date is None:
            date = Pool().get('ir.date').today()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.unit,
                where=(table.party == int(party))
                & (table.start_date <= date)
                & (Coalesce(table.end_date, dt.date.max) >= date),
                group_by=[table.unit], order_by=[table.unit]))
        return [u for u, in cursor]

    @classmethod
    def end(cls, occupancies, date=None):
        "End the occupancies at date, keeping them as history"
        if date is None:
            date = Pool().get('ir.date').today()
        cls.write([o for o in occupancies
                if not o.end_date or o.end_date > date], {'end_date': date})
