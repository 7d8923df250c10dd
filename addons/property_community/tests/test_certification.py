# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import io
import itertools
from zoneinfo import ZoneInfo

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import create_account, create_estate, sign_in

PNG = b'\x89PNG\r\n\x1a\n' + b'\x00' * 64
JPEG = b'\xff\xd8\xff\xe0' + b'\x00' * 64
WEBP = b'RIFF\x24\x00\x00\x00WEBPVP8 ' + b'\x00' * 64
GIF = b'GIF89a' + b'\x00' * 64
_phones = itertools.count(13700000000)


class CertificationRouteTestCase(RouteTestCase):
    "Test the certification routes of the mini-program API"
    module = 'property_community'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        Unit = pool.get('property.unit')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, code='HX', units=4,
                name="Huaxia Park")
            other = create_estate(company, code='LY', units=2,
                name="Lanyuan")
            building = estate.buildings[0]
            public, = Unit.create([{
                        'building': building.id, 'code': 'LOBBY',
                        'type': 'public',
                        }])
        cls.estate_id, cls.other_estate_id = estate.id, other.id
        cls.unit_ids = [u.id for u in building.units if u.type != 'public']
        cls.other_unit_ids = [u.id for u in other.buildings[0].units]
        cls.public_unit_id = public.id
        cls.tokens = {}
        for role in ['merchant', 'tenant', 'technician']:
            cls.tokens[role] = sign_in(create_account(role, name=role))

    def url(self, path):
        return f'/{self.db_name}/api/v1{path}'

    def guest(self):
        "Return the headers of a new guest account"
        with Transaction().start(DB_NAME, 1):
            user = create_account(phone=str(next(_phones)))
            token = sign_in(user)
        return {'Authorization': f'Bearer {token}'}

    def auth(self, role):
        return {'Authorization': f'Bearer {self.tokens[role]}'}

    def upload(self, headers, data=PNG, name='photo.png', field='file'):
        return self.client().post(self.url('/uploads'),
            data={field: (io.BytesIO(data), name)}, headers=headers,
            content_type='multipart/form-data')

    def request(self, **values):
        body = {
            'name': "张三", 'phone': '13912345678', 'role': 'merchant',
            'units': self.unit_ids[:1],
            }
        body.update(values)
        return body

    def submit(self, headers, **values):
        return self.client().post(self.url('/certifications'),
            json=self.request(**values), headers=headers)

    def test_estates(self):
        "Test the estates are listed by code"
        response = self.client().get(
            self.url('/estates'), headers=self.guest())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            [(e['code'], e['name']) for e in response.json['items']],
            [('HX', "Huaxia Park"), ('LY', "Lanyuan")])

    def test_units_search(self):
        "Test units are searched, filtered and paginated without public areas"
        client = self.client()
        headers = self.guest()
        response = client.get(self.url('/units'), headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['total'], 6)
        self.assertNotIn('HX-B1-LOBBY',
            [u['code'] for u in response.json['items']])
        unit = response.json['items'][0]
        self.assertEqual(unit, {
                'id': self.unit_ids[0], 'code': 'HX-B1-01', 'type': 'office',
                'floor': 1, 'area': '50.00', 'estate': "Huaxia Park",
                'building': "Building 1",
                })

        response = client.get(self.url('/units?q=hx-b1-0&limit=2&offset=1'),
            headers=headers)
        self.assertEqual(response.json['total'], 4)
        self.assertEqual([u['code'] for u in response.json['items']],
            ['HX-B1-02', 'HX-B1-03'])
        self.assertEqual(
            (response.json['offset'], response.json['limit']), (1, 2))

        response = client.get(self.url('/units?q=lanyuan'), headers=headers)
        self.assertEqual(response.json['total'], 2)
        response = client.get(
            self.url(f'/units?estate={self.other_estate_id}'),
            headers=headers)
        self.assertEqual({u['estate'] for u in response.json['items']},
            {"Lanyuan"})
        response = client.get(self.url('/units?q=%25'), headers=headers)
        self.assertEqual(response.json['total'], 0)

        for query, field in [
                ('limit=0', 'limit'), ('limit=101', 'limit'),
                ('offset=-1', 'offset'), ('estate=x', 'estate'),
                ('q=' + 'x' * 61, 'q'), ('color=red', 'color')]:
            response = client.get(
                self.url(f'/units?{query}'), headers=headers)
            self.assertEqual(response.status_code, 422, query)
            self.assertEqual(response.json['error']['field'], field)
        self.assertEqual(client.get(self.url('/units')).status_code, 401)

    def test_upload(self):
        "Test photos are sniffed, limited in size and named by their type"
        headers = self.guest()
        for data, name, mimetype, stored in [
                (PNG, 'scan.png', 'image/png', 'scan.png'),
                (JPEG, 'IMG 0001.PNG', 'image/jpeg', 'IMG_0001.jpg'),
                (WEBP, '../../etc/passwd', 'image/webp', 'passwd.webp'),
                ]:
            response = self.upload(headers, data, name)
            self.assertEqual(response.status_code, 201, name)
            self.assertEqual(response.json['mimetype'], mimetype)
            self.assertEqual(response.json['name'], stored)
            self.assertEqual(response.json['size'], len(data))
            self.assertIsInstance(response.json['id'], int)

        for data, name in [(GIF, 'a.gif'), (b'<svg/>', 'a.png'), (b'', 'a')]:
            response = self.upload(headers, data, name)
            self.assertEqual(response.status_code, 422, name)
            self.assertEqual(response.json['error']['field'], 'file')

        response = self.upload(headers, field='image')
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json['error']['field'], 'file')
        response = self.client().post(self.url('/uploads'), json={},
            headers=headers)
        self.assertEqual(response.status_code, 422)

        big = PNG + b'\x00' * (5 * 1024 * 1024)
        response = self.upload(headers, big)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json['error']['code'], 'too_large')
        self.assertNotIn('msg_', response.json['error']['message'])
        response = self.upload(headers, big[:5 * 1024 * 1024])
        self.assertEqual(response.status_code, 201)

        self.assertEqual(self.upload({}).status_code, 401)

    def test_guest_submits(self):
        "Test a guest submits a request and stays a guest while pending"
        client = self.client()
        headers = self.guest()
        response = client.get(
            self.url('/certifications/current'), headers=headers)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json['error']['code'], 'not_found')

        photo = self.upload(headers).json['id']
        response = self.submit(headers, name=" 张三 ", role='tenant',
            units=self.unit_ids[:2], photos=[photo])
        self.assertEqual(response.status_code, 201, response.json)
        certification = response.json
        self.assertEqual(certification['state'], 'pending')
        self.assertEqual(certification['name'], "张三")
        self.assertEqual(certification['role'], 'tenant')
        self.assertEqual([u['code'] for u in certification['units']],
            ['HX-B1-01', 'HX-B1-02'])
        self.assertIsNone(certification['reject_reason'])
        self.assertIsNone(certification['decided_at'])
        self.assertTrue(certification['submitted_at'])

        response = client.get(
            self.url('/certifications/current'), headers=headers)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json, certification)
        me = client.get(self.url('/me'), headers=headers).json
        self.assertEqual(me['role'], 'guest')
        self.assertIn('certification.submit', me['capabilities'])
        self.assertEqual(me['certification'], certification)

        response = self.submit(headers)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json['error']['code'], 'conflict')

        with Transaction().start(DB_NAME, 1):
            Certification = Pool().get('property.certification')
            record = Certification(certification['id'])
            self.assertEqual(len(record.photos), 1)
            self.assertEqual(record.photos[0].id, photo)

    def test_certified_roles_refused(self):
        "Test merchants, tenants and technicians cannot submit a request"
        for role in ['merchant', 'tenant', 'technician']:
            response = self.submit(self.auth(role))
            self.assertEqual(response.status_code, 403, role)
            self.assertEqual(response.json['error']['code'], 'forbidden')
        self.assertEqual(self.submit({}).status_code, 401)

    def test_bad_inputs(self):
        "Test invalid requests answer 422 naming the field"
        headers = self.guest()
        for values, field in [
                ({'name': ''}, 'name'),
                ({'name': 'x' * 61}, 'name'),
                ({'phone': '1234'}, 'phone'),
                ({'role': 'owner'}, 'role'),
                ({'units': []}, 'units'),
                ({'units': list(range(1, 22))}, 'units'),
                ({'units': [self.unit_ids[0]] * 2}, 'units'),
                ({'units': ['1']}, 'units[0]'),
                ({'units': [self.public_unit_id]}, 'units'),
                ({'photos': list(range(1, 8))}, 'photos'),
                ({'photos': [10 ** 9]}, 'photos[0]'),
                ({'email': 'a@b.c'}, 'email'),
                ]:
            response = self.submit(headers, **values)
            self.assertEqual(response.status_code, 422, values)
            self.assertEqual(response.json['error']['field'], field, values)
            self.assertTrue(response.json['error']['message'])
        response = self.client().post(self.url('/certifications'),
            json={'name': "张三"}, headers=headers)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json['error']['field'], 'phone')

    def test_unknown_unit(self):
        "Test a request for an unknown unit answers 404"
        response = self.submit(self.guest(),
            units=[self.unit_ids[0], 10 ** 9])
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json['error']['code'], 'not_found')
        self.assertEqual(response.json['error']['field'], 'units[1]')

    def test_other_accounts_photo_refused(self):
        "Test a request cannot use the photo of another account"
        other = self.upload(self.guest()).json['id']
        headers = self.guest()
        mine = self.upload(headers).json['id']
        response = self.submit(headers, photos=[mine, other])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json['error']['field'], 'photos[1]')
        response = self.client().get(
            self.url('/certifications/current'), headers=headers)
        self.assertEqual(response.status_code, 404)

    def test_approved_and_rejected(self):
        "Test the account sees the decision and re-submits after a rejection"
        client = self.client()
        headers = self.guest()
        photo = self.upload(headers).json['id']
        first = self.submit(headers, units=self.unit_ids[3:4],
            photos=[photo]).json
        with Transaction().start(DB_NAME, 1):
            Certification = Pool().get('property.certification')
            Certification.reject_with_reason(
                [Certification(first['id'])], "No lease contract found.")
        current = client.get(
            self.url('/certifications/current'), headers=headers).json
        self.assertEqual(current['state'], 'rejected')
        self.assertEqual(current['reject_reason'], "No lease contract found.")
        self.assertTrue(current['decided_at'])

        response = self.submit(headers, units=self.unit_ids[3:4],
            photos=[photo])
        self.assertEqual(response.status_code, 201)
        second = response.json
        with Transaction().start(DB_NAME, 1):
            Certification = Pool().get('property.certification')
            self.assertEqual(Certification(first['id']).state, 'cancelled')
            self.assertEqual(len(Certification(first['id']).photos), 1)
            self.assertEqual(len(Certification(second['id']).photos), 1)
            Certification.approve([Certification(second['id'])])

        me = client.get(self.url('/me'), headers=headers).json
        self.assertEqual(me['role'], 'merchant')
        self.assertEqual([u['code'] for u in me['units']], ['HX-B1-04'])
        self.assertEqual(me['certification']['state'], 'approved')
        self.assertEqual(self.submit(headers).status_code, 403)

    def test_me_units_in_company_time_zone(self):
        "Test /me shows the units occupied today in the company's time zone"
        # UTC+14 and UTC-11: 25 hours apart, so their dates always differ
        east, west = 'Pacific/Kiritimati', 'Pacific/Pago_Pago'
        with Transaction().start(DB_NAME, 1) as transaction:
            pool = Pool()
            Company = pool.get('company.company')
            Occupancy = pool.get('property.occupancy')
            Party = pool.get('party.party')
            company, = Company.search([])
            timezone = company.timezone
            party = Party(name="Owner from tomorrow")
            party.save()
            user = create_account('guest', phone=str(next(_phones)),
                party=party)
            token = sign_in(user)
            Occupancy.create([{
                        'unit': self.other_unit_ids[1], 'party': party.id,
                        'role': 'owner',
                        'start_date': dt.datetime.now(ZoneInfo(east)).date(),
                        }])
            Company.write([company], {'timezone': east})
            transaction.commit()
        headers = {'Authorization': f'Bearer {token}'}
        try:
            me = self.client().get(self.url('/me'), headers=headers).json
            self.assertEqual(
                [u['code'] for u in me['units']], ['LY-B1-02'])
            with Transaction().start(DB_NAME, 1) as transaction:
                Company = Pool().get('company.company')
                Company.write(Company.search([]), {'timezone': west})
                transaction.commit()
            me = self.client().get(self.url('/me'), headers=headers).json
            self.assertEqual(me['units'], [])
        finally:
            with Transaction().start(DB_NAME, 1) as transaction:
                Company = Pool().get('company.company')
                Company.write(Company.search([]), {'timezone': timezone})
                transaction.commit()

    def test_upload_pending_limit_and_clean(self):
        "Test unsubmitted photos are capped and deleted after two days"
        headers = self.guest()
        ids = [self.upload(headers).json['id'] for _ in range(12)]
        response = self.upload(headers)
        self.assertEqual(response.status_code, 422)
        self.assertIn('12', response.json['error']['message'])

        # submitting moves six photos to the request: room again
        self.assertEqual(
            self.submit(headers, photos=ids[:6]).status_code, 201)
        self.assertEqual(self.upload(headers).status_code, 201)

        with Transaction().start(DB_NAME, 1) as transaction:
            pool = Pool()
            Attachment = pool.get('ir.attachment')
            Certification = pool.get('property.certification')
            later = dt.datetime.now() + dt.timedelta(days=2, minutes=1)
            Attachment.clean_uploads(later)
            certification, = Certification.search(
                [('photos', '!=', None)], order=[('id', 'DESC')], limit=1)
            certification_user = certification.web_user.id
            self.assertEqual(
                sorted(a.id for a in Attachment.search([('id', 'in', ids)])),
                sorted(ids[:6]))
            self.assertEqual(Attachment.search(
                    [('resource', '=', f'web.user,{certification_user}')]),
                [])
            self.assertEqual(len(certification.photos), 6)
            transaction.commit()

    def test_openapi_documents_upload(self):
        "Test the upload operation documents its multipart body"
        document = self.client().get(self.url('/openapi.json')).json
        operation = document['paths']['/uploads']['post']
        self.assertIn('multipart/form-data',
            operation['requestBody']['content'])
        operation = document['paths']['/certifications']['post']
        self.assertEqual(operation['x-roles'], ['guest'])
        self.assertIn('409', operation['responses'])


del RouteTestCase
