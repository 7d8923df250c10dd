# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.model.exceptions import SQLConstraintError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction

from ..exceptions import OccupancyValidationError
from .tools import ListViewTestMixin, create_account, create_estate


class PropertyCommunityTestCase(
        ListViewTestMixin, CompanyTestMixin, ModuleTestCase):
    "Test Property Community module"
    module = 'property_community'

    @with_transaction()
    def test_unit_full_code(self):
        "Test units are numbered estate-building-unit"
        pool = Pool()
        Unit = pool.get('property.unit')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, code='HX', units=2)
            units = Unit.search([], order=[('full_code', 'ASC')])
            self.assertEqual(
                [u.full_code for u in units], ['HX-B1-01', 'HX-B1-02'])
            self.assertEqual(units[0].estate, estate)
            self.assertEqual(Unit.search([('estate', '=', estate.id)]), units)

            building = units[0].building
            building.code = 'A'
            building.save()
            Unit.write([units[0]], {'code': '09'})
            self.assertEqual(Unit(units[0].id).full_code, 'HX-A-09')

    @with_transaction()
    def test_unit_number_unique(self):
        "Test a unit number is unique in its building"
        pool = Pool()
        Unit = pool.get('property.unit')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, units=1)
            unit = Unit(building=estate.buildings[0], code='01', type='shop')
            with self.assertRaises(SQLConstraintError):
                unit.save()

    @with_transaction()
    def test_occupancy_state_and_history(self):
        "Test occupancies set the unit state and are kept as history"
        pool = Pool()
        Party = pool.get('party.party')
        Occupancy = pool.get('property.occupancy')
        Date = pool.get('ir.date')
        company = create_company()
        today = Date.today()
        with set_company(company):
            estate = create_estate(company, units=1)
            unit, = estate.buildings[0].units
            owner, tenant = Party.create([{'name': "Owner"}, {'name': "Tenant"}])
            self.assertEqual(unit.state, 'vacant')

            Occupancy.create([{
                        'unit': unit.id, 'party': owner.id, 'role': 'owner',
                        'start_date': today - dt.timedelta(days=400),
                        }])
            self.assertEqual(unit.__class__(unit.id).state, 'occupied')

            lease, = Occupancy.create([{
                        'unit': unit.id, 'party': tenant.id,
                        'role': 'tenant',
                        'start_date': today - dt.timedelta(days=30),
                        }])
            self.assertEqual(unit.__class__(unit.id).state, 'leased')

            Occupancy.end([lease], today - dt.timedelta(days=1))
            self.assertEqual(unit.__class__(unit.id).state, 'occupied')
            self.assertEqual(Occupancy.search_count([('unit', '=', unit.id)]), 2)
            self.assertEqual(
                Occupancy.search([('current', '=', False)]), [lease])

    @with_transaction()
    def test_occupancy_overlap(self):
        "Test a unit cannot be leased twice at the same time"
        pool = Pool()
        Party = pool.get('party.party')
        Occupancy = pool.get('property.occupancy')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, units=1)
            unit, = estate.buildings[0].units
            a, b = Party.create([{'name': "A"}, {'name': "B"}])
            Occupancy.create([{
                        'unit': unit.id, 'party': a.id, 'role': 'merchant',
                        'start_date': dt.date(2026, 1, 1),
                        'end_date': dt.date(2026, 6, 30),
                        }])
            Occupancy.create([{
                        'unit': unit.id, 'party': b.id, 'role': 'tenant',
                        'start_date': dt.date(2026, 7, 1),
                        }])
            with self.assertRaises(OccupancyValidationError):
                Occupancy.create([{
                            'unit': unit.id, 'party': b.id, 'role': 'tenant',
                            'start_date': dt.date(2026, 6, 1),
                            'end_date': dt.date(2026, 6, 15),
                            }])

    @with_transaction()
    def test_wechat_account_without_email(self):
        "Test WeChat accounts need no email and are unique per openid"
        pool = Pool()
        User = pool.get('web.user')
        user = User.sign_in_wechat('wxapp', 'openid-1', 'union-1')
        self.assertEqual(user.front_role, 'guest')
        self.assertIsNone(user.email)
        self.assertEqual(User.sign_in_wechat('wxapp', 'openid-1'), user)
        with self.assertRaises(SQLConstraintError):
            User.create([{
                        'wechat_appid': 'wxapp', 'wechat_openid': 'openid-1'}])

    @with_transaction()
    def test_session_stored_hashed(self):
        "Test sessions are stored as digests, expire and can be revoked"
        pool = Pool()
        Session = pool.get('web.user.api_session')
        user = create_account()
        token, session = Session.new(user)
        self.assertNotIn(token, session.token_hash)
        self.assertEqual(Session.get_session(token), session)
        self.assertIsNone(Session.get_session(token + 'x'))
        session.expires_at = dt.datetime.now() - dt.timedelta(seconds=1)
        session.save()
        self.assertIsNone(Session.get_session(token))
        token, session = Session.new(user)
        Session.revoke([session])
        self.assertIsNone(Session.get_session(token))

    @with_transaction()
    def test_technician_claimed_by_verified_phone(self):
        "Test a WeChat-verified phone claims the admin-created technician"
        pool = Pool()
        User = pool.get('web.user')
        technician = create_account('technician', "Wang", phone='13912345678')
        guest = User.sign_in_wechat('wxapp', 'openid-tech')
        account = guest.bind_phone('13912345678')
        self.assertEqual(account, technician)
        self.assertEqual(account.wechat_openid, 'openid-tech')
        self.assertEqual(User.sign_in_wechat('wxapp', 'openid-tech'), technician)

        other = User.sign_in_wechat('wxapp', 'openid-other')
        self.assertEqual(other.bind_phone('13900000001'), other)
        self.assertEqual(other.front_role, 'guest')


del ModuleTestCase
