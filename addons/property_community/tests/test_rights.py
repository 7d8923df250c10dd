# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from contextlib import contextmanager

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from ..exceptions import CertificationError
from .tools import create_account, create_estate

CONTENT_GROUPS = [
    'group_announcement', 'group_ad', 'group_convenience', 'group_complaint',
    'group_lost_found']


class RightsTestCase(ModuleTestCase):
    "Test the back-office rights of the property groups"
    module = 'property_community'

    def setUp(self):
        super().setUp()
        self.users = {}

    def group(self, name):
        ModelData = Pool().get('ir.model.data')
        return ModelData.get_id('property_community', name)

    def create_user(self, login, groups, companies):
        "Create a back-office user in groups working for companies"
        User = Pool().get('res.user')
        user, = User.create([{
                    'name': login.title(), 'login': login,
                    'groups': [('add', [self.group(g) for g in groups])],
                    'companies': [('add', [c.id for c in companies])],
                    'company': companies[0].id,
                    }])
        return user

    @contextmanager
    def as_user(self, user):
        "Run as user with access rights and record rules enforced"
        transaction = Transaction()
        with transaction.set_user(user.id), \
                transaction.set_context(
                    _check_access=True, company=user.company.id):
            yield

    def submit(self, estate, name="Li Lei", phone='13911112222'):
        Certification = Pool().get('property.certification')
        account = create_account(phone=phone)
        unit = estate.buildings[0].units[0]
        return Certification.submit(account, name, phone, 'merchant', [unit])

    @with_transaction()
    def test_content_group_cannot_reach_verification(self):
        "Test a content user reads no certification nor its menu"
        pool = Pool()
        Certification = pool.get('property.certification')
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            certification = self.submit(create_estate(company))
        menus = [ModelData.get_id('property_community', m) for m in [
                'menu_accounts', 'menu_certification_form']]
        content_menu = ModelData.get_id('property_community', 'menu_content')
        for group in CONTENT_GROUPS:
            user = self.create_user(group, [group], [company])
            with self.as_user(user):
                with self.assertRaises(AccessError):
                    Certification.search([])
                with self.assertRaises(AccessError):
                    Certification.read([certification.id], ['name'])
                with self.assertRaises(AccessError):
                    Certification.approve([certification])
                self.assertEqual(Menu.search([('id', 'in', menus)]), [])
                self.assertEqual(
                    Menu.search([('id', '=', content_menu)]),
                    [Menu(content_menu)])
        self.assertEqual(Certification(certification.id).state, 'pending')

    @with_transaction()
    def test_verification_clerk_approves(self):
        "Test a verification user approves but cannot change estates"
        pool = Pool()
        Certification = pool.get('property.certification')
        Estate = pool.get('property.estate')
        Occupancy = pool.get('property.occupancy')
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            certification = self.submit(estate)
        clerk = self.create_user('clerk', ['group_verification'], [company])

        with self.as_user(clerk):
            self.assertEqual(Certification.search([]), [certification])
            menu = ModelData.get_id(
                'property_community', 'menu_certification_form')
            self.assertEqual(Menu.search([('id', '=', menu)]), [Menu(menu)])
            self.assertEqual(Menu.search([('id', '=', ModelData.get_id(
                                'property_community', 'menu_content'))]),
                [])
            Certification.approve([certification])
            with self.assertRaises(AccessError):
                Estate.create([{
                            'name': "New", 'code': 'NEW',
                            'company': company.id}])
            with self.assertRaises(AccessError):
                Estate.write([estate], {'name': "Renamed"})
            with self.assertRaises(AccessError):
                Certification.delete([certification])

        certification = Certification(certification.id)
        self.assertEqual(certification.state, 'approved')
        self.assertEqual(certification.reviewed_by, clerk)
        account = certification.web_user
        self.assertEqual(account.front_role, 'merchant')
        self.assertEqual(account.party, certification.party)
        occupancy, = Occupancy.search([('origin', '=', str(certification))])
        self.assertEqual(occupancy.party, account.party)
        self.assertEqual(occupancy.unit.state, 'leased')
        self.assertEqual(Estate(estate.id).name, estate.name)

    @with_transaction()
    def test_verification_clerk_rejects(self):
        "Test a verification user rejects through the wizard with a reason"
        pool = Pool()
        Certification = pool.get('property.certification')
        Reject = pool.get('property.certification.reject', type='wizard')
        company = create_company()
        with set_company(company):
            certification = self.submit(create_estate(company))
        clerk = self.create_user('clerk', ['group_verification'], [company])

        with self.as_user(clerk), Transaction().set_context(
                active_model='property.certification',
                active_id=certification.id,
                active_ids=[certification.id]):
            session_id, _, _ = Reject.create()
            Reject.execute(session_id, {
                    'start': {'reason': "The lease has ended."},
                    }, 'reject')
            Reject.delete(session_id)
        certification = Certification(certification.id)
        self.assertEqual(certification.state, 'rejected')
        self.assertEqual(certification.reject_reason, "The lease has ended.")
        self.assertEqual(certification.web_user.front_role, 'guest')

    @with_transaction()
    def test_verification_limited_to_companies(self):
        "Test a verification user sees only requests of their companies"
        pool = Pool()
        Certification = pool.get('property.certification')
        company = create_company()
        other = create_company("Other Co", currency=company.currency)
        with set_company(company):
            certification = self.submit(create_estate(company))
        clerk = self.create_user('clerk', ['group_verification'], [other])
        with self.as_user(clerk):
            self.assertEqual(Certification.search([]), [])
            with self.assertRaises(AccessError):
                Certification.approve([certification])

    @with_transaction()
    def test_approve_refuses_leased_unit(self):
        "Test approval is refused when the unit is leased to someone else"
        pool = Pool()
        Certification = pool.get('property.certification')
        Occupancy = pool.get('property.occupancy')
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            certification = self.submit(estate)
            unit = certification.units[0]
            other, = Party.create([{'name': "Wang Wu"}])
            Occupancy.create([{
                        'unit': unit.id, 'party': other.id,
                        'role': 'tenant',
                        }])
            with self.assertRaisesRegex(CertificationError, "Wang Wu"):
                Certification.approve([certification])

    @with_transaction()
    def test_role_templates(self):
        "Test the role templates give their groups"
        pool = Pool()
        Role = pool.get('res.role')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')

        def groups(role):
            role = Role(ModelData.get_id('property_community', role))
            return {g.id for g in role.groups}

        self.assertEqual(groups('role_verification_admin'),
            {self.group('group_verification_admin')})
        self.assertEqual(groups('role_estate_admin'),
            {self.group('group_estate_admin')})
        self.assertEqual(groups('role_content_admin'),
            {self.group(g + '_admin') for g in CONTENT_GROUPS})
        self.assertLessEqual(
            {self.group(g + '_admin') for g in CONTENT_GROUPS + [
                    'group_estate', 'group_verification']}
            | {ModelData.get_id('res', 'group_admin')},
            groups('role_super_admin'))

        user, = User.create([{
                    'name': "Verifier", 'login': 'verifier',
                    'roles': [('create', [{
                                    'role': ModelData.get_id(
                                        'property_community',
                                        'role_verification_admin'),
                                    }])],
                    }])
        self.assertIn(self.group('group_verification_admin'),
            {g.id for g in user.groups})
        with Transaction().set_user(user.id):
            self.assertIn(self.group('group_verification'),
                User.get_groups())


del ModuleTestCase
