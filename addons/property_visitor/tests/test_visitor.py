# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import io
from contextlib import contextmanager

from openpyxl import load_workbook

from trytond.model.exceptions import AccessButtonError, AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import create_account
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..exceptions import HostNotFound, VisitError
from .tools import DBTestCase, company_estate, invite, window


class VisitorTestCase(DBTestCase):
    "Test visits, card batches, back-office rights, privacy and jobs"

    def create_user(self, login, groups, company):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        user, = User.create([{
                    'name': login.title(), 'login': login,
                    'groups': [('add', [
                                ModelData.get_id('property_visitor', g)
                                for g in groups])],
                    'companies': [('add', [company.id])],
                    'company': company.id,
                    }])
        return user

    def create_staff(self, company):
        "Create a visitor clerk and a visitor administrator of company"
        return (self.create_user('clerk', ['group_visitor'], company),
            self.create_user('boss', ['group_visitor_admin'], company))

    @contextmanager
    def as_user(self, user):
        "Run as user with access rights and record rules enforced"
        transaction = Transaction()
        with transaction.set_user(user.id), \
                transaction.set_context(
                    _check_access=True, company=user.company.id):
            yield

    def export(self, kind):
        pool = Pool()
        Export = pool.get('property.visitor.export', type='wizard')
        Date = pool.get('ir.date')
        session_id, _, _ = Export.create()
        export = Export(session_id)
        export.start.kind = kind
        export.start.from_date = Date.today() - dt.timedelta(days=1)
        export.start.to_date = Date.today() + dt.timedelta(days=1)
        export.start.estate = None
        export.transition_export()
        workbook = load_workbook(io.BytesIO(export.result.file))
        return [list(r) for r in workbook.active.iter_rows(values_only=True)]

    @with_transaction()
    def test_personal_data_masked(self):
        "Test phone and ID numbers are masked for clerks, not for admins"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        with company_estate() as setup:
            visit = invite(setup, visitor_id_number='110101199003071234')
        clerk, admin = self.create_staff(setup.company)

        with self.as_user(clerk):
            record, = Visit.read([visit.id], [
                    'visitor_phone', 'visitor_id_number'])
            self.assertEqual(record['visitor_phone'], '137****1111')
            self.assertEqual(
                record['visitor_id_number'], '110***********1234')
            self.assertEqual(Visit(visit.id).visitor_phone, '137****1111')
            rows = self.export('visit')
            self.assertIn('137****1111', rows[1])
            self.assertNotIn('13700001111', rows[1])
            self.assertIn('110***********1234', rows[1])

        with self.as_user(admin):
            record, = Visit.read([visit.id], [
                    'visitor_phone', 'visitor_id_number'])
            self.assertEqual(record['visitor_phone'], '13700001111')
            self.assertEqual(
                record['visitor_id_number'], '110101199003071234')
            rows = self.export('visit')
            self.assertIn('13700001111', rows[1])
            self.assertIn('110101199003071234', rows[1])
        # The data itself is untouched
        self.assertEqual(Visit(visit.id).visitor_phone, '13700001111')

    @with_transaction()
    def test_passage_export(self):
        "Test the passage log exports to XLSX with its gates and results"
        with company_estate() as setup:
            token = invite(setup).passes[0].static_token()
            setup.north.verify(token)
            setup.south.verify(token)
            rows = self.export('passage')
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[0][0], "Time")
        self.assertEqual(sorted((r[2], r[6], r[7]) for r in rows[1:]), [
                ("Estate E1 North Gate", "Open", None),
                ("Estate E1 South Gate", "Deny", "Used"),
                ])

    @with_transaction()
    def test_visit_export(self):
        "Test visits export to XLSX, with personal data masked for clerks"
        with company_estate() as setup:
            invite(setup, visitor_id_number='110101199003071234')
            invite(setup, visitor_name="Li Si", visitor_phone='13900002222')
        clerk, admin = self.create_staff(setup.company)
        with self.as_user(clerk):
            rows = self.export('visit')
        self.assertEqual(len(rows), 3)
        self.assertEqual(
            rows[0][4:7], ["Visitor", "Visitor Phone", "Visitor ID Number"])
        self.assertEqual(sorted(r[4] for r in rows[1:]), ["Li Si", "Zhang San"])
        self.assertNotIn('13700001111', [r[5] for r in rows])
        self.assertTrue(all('*' in r[5] for r in rows[1:]))
        with self.as_user(admin):
            rows = self.export('visit')
        self.assertEqual(sorted(r[5] for r in rows[1:]),
            ['13700001111', '13900002222'])
        self.assertIn('110101199003071234', [r[6] for r in rows])

    @with_transaction()
    def test_signing_keys_private(self):
        "Test nobody reads a private key through the back office"
        pool = Pool()
        SigningKey = pool.get('property.visitor.signing_key')
        company = create_company()
        with set_company(company):
            key = SigningKey.get_active(company)
        clerk, admin = self.create_staff(company)
        with self.as_user(clerk):
            with self.assertRaises(AccessError):
                SigningKey.read([key.id], ['public_key'])
        with self.as_user(admin):
            record, = SigningKey.read([key.id], [
                    'kid', 'public_key', 'private_key'])
            self.assertEqual(record['public_key'], key.public_key)
            self.assertIsNone(record['private_key'])
            self.assertIsNone(SigningKey(key.id).private_key)
            # Creating a key is how an administrator rotates them
            new, = SigningKey.create([{'company': company.id}])
        self.assertEqual(SigningKey(key.id).state, 'retired')
        self.assertEqual(SigningKey(new.id).state, 'active')
        self.assertIsNone(SigningKey(new.id).private_key)
        # Only the server signs with it
        self.assertTrue(SigningKey(new.id).secret_values('private_key')[0])

    @with_transaction()
    def test_batch_approval_rights(self):
        "Test only visitor administrators approve card batches"
        pool = Pool()
        Batch = pool.get('property.visitor.card.batch')
        with company_estate() as setup:
            valid_from, valid_to = window()
            batch = Batch.request(setup.merchant, setup.units[1], {
                    'group_name': "Training", 'quantity': 3,
                    'valid_from': valid_from, 'valid_to': valid_to})
        clerk, admin = self.create_staff(setup.company)
        with self.as_user(clerk):
            self.assertEqual(Batch.search([]), [batch])
            with self.assertRaises(AccessButtonError):
                Batch.approve([batch])
            # Property staff can ask for cards themselves
            staff_batch, = Batch.create([{
                        'estate': setup.estate.id, 'group_name': "Auditors",
                        'quantity': 2, 'valid_from': valid_from,
                        'valid_to': valid_to}])
        with self.as_user(admin):
            Batch.approve([batch, staff_batch])
        self.assertEqual(Batch(batch.id).state, 'approved')
        self.assertEqual(Batch(batch.id).decided_by, admin)
        card = Batch(staff_batch.id).issue_card()
        self.assertEqual(card.visitor_name, "Auditors")
        self.assertIsNone(card.host)

    @with_transaction()
    def test_other_company_hidden(self):
        "Test back-office users see only the visits of their companies"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        Gate = pool.get('property.visitor.gate')
        with company_estate() as setup:
            visit = invite(setup)
        with company_estate(
                "Other Property Co.", code='O1') as other_setup:
            other_visit = invite(other_setup)
        clerk, _ = self.create_staff(setup.company)
        with self.as_user(clerk):
            self.assertEqual(Visit.search([]), [visit])
            self.assertNotIn(other_setup.north, Gate.search([]))
            with self.assertRaises(AccessError):
                Visit.read([other_visit.id], ['visitor_name'])

    @with_transaction()
    def test_application_rules(self):
        "Test applications go to the occupant and are limited in number"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        with company_estate() as setup:
            guest = create_account('guest', name="Zhang San")
            valid_from, valid_to = window()
            values = {'visitor_name': "Zhang San",
                'valid_from': valid_from, 'valid_to': valid_to}
            visit = Visit.apply(guest, setup.units[0], values)
            self.assertEqual(visit.host, setup.tenant)
            with self.assertRaises(HostNotFound):
                Visit.apply(guest, setup.units[3], values)
            with self.assertRaises(HostNotFound):
                Visit.apply(setup.tenant, setup.units[0], values)
            for _ in range(4):
                Visit.apply(guest, setup.units[1], values)
            with self.assertRaises(VisitError):
                Visit.apply(guest, setup.units[1], values)

    @with_transaction()
    def test_expire(self):
        "Test the scheduled job expires ended visits, passes and batches"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        Batch = pool.get('property.visitor.card.batch')
        with company_estate() as setup:
            visit = invite(setup)
            valid_from, valid_to = window()
            application = Visit.apply(
                create_account('guest', name="G"), setup.units[1],
                {'visitor_name': "G", 'valid_from': valid_from,
                    'valid_to': valid_to})
            batch = Batch.request(setup.merchant, setup.units[1], {
                    'group_name': "Training", 'quantity': 3,
                    'valid_from': valid_from, 'valid_to': valid_to})
            Batch.approve([batch])
            card = batch.issue_card()
            Visit.expire_visits(valid_from)
            self.assertEqual(Visit(visit.id).state, 'approved')
            Visit.expire_visits(valid_to + dt.timedelta(minutes=1))
        self.assertEqual(Visit(visit.id).state, 'expired')
        self.assertEqual(Visit(visit.id).passes[0].state, 'expired')
        self.assertEqual(Visit(application.id).state, 'expired')
        self.assertEqual(Batch(batch.id).state, 'expired')
        self.assertEqual(card.__class__(card.id).state, 'expired')

    @with_transaction()
    def test_purge(self):
        "Test visitor data older than the retention period is deleted"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        Pass = pool.get('property.visitor.pass')
        Passage = pool.get('property.visitor.passage')
        Configuration = pool.get('property.visitor.configuration')
        config = Configuration(1)
        config.retention_days = 90
        config.save()
        with company_estate() as setup:
            recent = invite(setup)
            old = invite(setup)
            token = old.passes[0].static_token()
            scan = setup.north.verify(token)
            technician = create_account('technician', name="T")
            old_record = Passage.record_technician(technician, setup.estate,
                'in')
            new_record = Passage.record_technician(technician, setup.estate,
                'out')
        later = dt.datetime.now() + dt.timedelta(days=91)
        # Visits and records as seen 91 days later: the old ones ended then
        Visit.write([recent], {
                'valid_to': later + dt.timedelta(days=1)})
        Passage.write([new_record], {
                'scanned_at': later - dt.timedelta(days=1)})
        Visit.purge(later)
        self.assertEqual(Visit.search([('id', '=', old.id)]), [])
        self.assertEqual(Pass.search([('visit', '=', old.id)]), [])
        self.assertEqual(Visit.search([('id', '=', recent.id)]), [recent])
        # The scan stays in the log for the statistics, without the pass
        passage = Passage(scan.passage_id)
        self.assertIsNone(passage.pass_)
        self.assertEqual(passage.result, 'open')
        self.assertEqual(Passage.search([('id', '=', old_record.id)]), [])
        self.assertEqual(
            Passage.search([('id', '=', new_record.id)]), [new_record])

    @with_transaction()
    def test_statistics(self):
        "Test the statistics count scans per day, gate and host"
        pool = Pool()
        Statistic = pool.get('property.visitor.statistic')
        Date = pool.get('ir.date')
        with company_estate() as setup:
            for _ in range(2):
                token = invite(setup).passes[0].static_token()
                setup.north.verify(token)
                setup.south.verify(token)
            setup.south.verify('garbage')
            with Transaction().set_context(
                    from_date=Date.today() - dt.timedelta(days=1),
                    to_date=Date.today() + dt.timedelta(days=1)):
                rows = Statistic.search([])
                by_gate = {(r.gate.code, r.host): (r.entries, r.denied)
                    for r in rows}
        self.assertEqual(by_gate, {
                ('N', setup.merchant): (2, 0),
                ('S', setup.merchant): (0, 2),
                ('S', None): (0, 1),
                })
