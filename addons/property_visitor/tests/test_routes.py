# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import (
    create_account, sign_in)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction

from .tools import create_gate, setup_estate


def iso(value):
    return value.replace(microsecond=0).isoformat() + 'Z'


class VisitorRouteTestCase(RouteTestCase):
    "Test the visitor routes for each role"
    module = 'property_visitor'

    @classmethod
    def setUpDatabase(cls):
        company = create_company()
        with set_company(company):
            setup = setup_estate(company)
            disabled, disabled_key = create_gate(setup.estate, 'X', bit=5)
            disabled.active = False
            disabled.save()
        guest = create_account('guest', name="Zhang San", phone='13700001111')
        technician = create_account('technician', name="Wang Wu",
            phone='13600002222')
        cls.ids = {
            'estate': setup.estate.id,
            'merchant_unit': setup.units[1].id,
            'tenant_unit': setup.units[0].id,
            'vacant_unit': setup.units[2].id,
            'north': setup.north.id,
            'south': setup.south.id,
            'disabled': disabled.id,
            }
        cls.gate_keys = {
            'north': setup.north_key,
            'south': setup.south_key,
            'disabled': disabled_key,
            }
        cls.tokens = {
            'merchant': sign_in(setup.merchant),
            'tenant': sign_in(setup.tenant),
            'guest': sign_in(guest),
            'technician': sign_in(technician),
            }

    def url(self, path):
        return f'/{self.db_name}/api/v1{path}'

    def auth(self, role):
        return {'Authorization': f'Bearer {self.tokens[role]}'}

    def gate_auth(self, gate):
        return {'Authorization':
            f'Gate {self.ids[gate]}:{self.gate_keys[gate]}'}

    def window(self, hours=4):
        now = dt.datetime.now(dt.timezone.utc)
        return {
            'valid_from': (now - dt.timedelta(minutes=10)).isoformat(),
            'valid_to': (now + dt.timedelta(hours=hours)).isoformat(),
            }

    def invite(self, client, role='merchant', **values):
        body = {'visitor_name': "Zhao Liu", 'visitor_phone': '13512345678',
            'plate': '京A12345', **self.window(), **values}
        return client.post(self.url('/visits/invitations'), json=body,
            headers=self.auth(role))

    def apply(self, client, role='guest', **values):
        body = {'visitor_name': "Zhang San", 'visitor_phone': '13700001111',
            'unit': self.ids['merchant_unit'], 'purpose': "Delivery",
            **self.window(), **values}
        return client.post(self.url('/visits/applications'), json=body,
            headers=self.auth(role))

    def verify(self, client, token, gate='north'):
        return client.post(self.url('/gate/verify'), json={'token': token},
            headers=self.gate_auth(gate))

    def test_invitation(self):
        "Test a merchant invites and the pass opens a gate once"
        client = self.client()
        response = self.invite(client)
        self.assertEqual(response.status_code, 201)
        visit = response.json
        self.assertEqual(visit['state'], 'approved')
        self.assertEqual(visit['origin'], 'invitation')
        self.assertEqual(visit['unit']['id'], self.ids['merchant_unit'])
        self.assertEqual(visit['plate'], '京A12345')
        pass_ = visit['pass']
        self.assertEqual(pass_['state'], 'active')
        self.assertTrue(pass_['token'].startswith('PV1.'))
        self.assertTrue(pass_['share_key'])

        response = self.verify(client, pass_['token'])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['result'], 'open')
        self.assertEqual(response.json['pass_id'], pass_['id'])
        response = self.verify(client, pass_['token'], 'south')
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json['result'], 'deny')
        self.assertEqual(response.json['reason'], 'used')
        self.assertEqual(response.json['error']['code'], 'used')
        self.assertTrue(response.json['message'])

        response = client.get(self.url(f"/host/visits/{visit['id']}"),
            headers=self.auth('merchant'))
        self.assertEqual(response.json['state'], 'completed')
        self.assertEqual(response.json['pass']['state'], 'used')
        self.assertIsNone(response.json['pass']['token'])

    def test_invitation_refused(self):
        "Test guests and technicians cannot invite, nor at others' units"
        client = self.client()
        for role in ['guest', 'technician']:
            with self.subTest(role=role):
                response = self.invite(client, role)
                self.assertEqual(response.status_code, 403)
        response = self.invite(client, unit=self.ids['tenant_unit'])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json['error']['field'], 'unit')
        now = dt.datetime.now(dt.timezone.utc)
        for values, field in [
                ({'valid_to': (now - dt.timedelta(hours=1)).isoformat()},
                    'valid_to'),
                ({'valid_from': '2026-01-01T10:00:00'}, 'valid_from'),
                ({'visitor_phone': '123'}, 'visitor_phone'),
                ({'visitor_name': ''}, 'visitor_name'),
                ]:
            with self.subTest(values=values):
                response = self.invite(client, **values)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json['error']['field'], field)

    def test_hosts_see_only_their_visits(self):
        "Test a host never sees, approves or cancels another host's visit"
        client = self.client()
        visit = self.invite(client).json
        response = client.get(self.url('/host/visits'),
            headers=self.auth('tenant'))
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(
            visit['id'], [v['id'] for v in response.json['items']])
        for method, path in [
                ('get', f"/host/visits/{visit['id']}"),
                ('post', f"/host/visits/{visit['id']}/cancel"),
                ('post', f"/host/visits/{visit['id']}/approve"),
                ('get', f"/passes/{visit['pass']['id']}"),
                ('get', f"/passes/{visit['pass']['id']}/code"),
                ('get', f"/passes/{visit['pass']['id']}/qr.svg"),
                ('get', f"/visits/mine/{visit['id']}"),
                ]:
            with self.subTest(path=path):
                response = client.open(self.url(path), method=method.upper(),
                    headers=self.auth('tenant'))
                self.assertEqual(response.status_code, 404)
                self.assertEqual(set(response.json), {'error'})
        response = client.get(self.url('/host/visits'),
            headers=self.auth('merchant'))
        self.assertIn(visit['id'], [v['id'] for v in response.json['items']])

    def test_application(self):
        "Test a guest applies, the host approves and the guest gets the pass"
        client = self.client()
        response = self.apply(client)
        self.assertEqual(response.status_code, 201)
        application = response.json
        self.assertEqual(application['state'], 'requested')
        self.assertIsNone(application['pass'])
        # Nothing about the host in the answer
        self.assertNotIn('host', application)
        self.assertNotIn('13911112222', str(application))

        response = client.get(self.url('/host/visits?state=requested'),
            headers=self.auth('merchant'))
        self.assertIn(application['id'],
            [v['id'] for v in response.json['items']])
        response = client.post(
            self.url(f"/host/visits/{application['id']}/approve"),
            headers=self.auth('tenant'))
        self.assertEqual(response.status_code, 404)
        response = client.post(
            self.url(f"/host/visits/{application['id']}/approve"),
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['state'], 'approved')
        response = client.post(
            self.url(f"/host/visits/{application['id']}/approve"),
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 409)

        response = client.get(
            self.url(f"/visits/mine/{application['id']}"),
            headers=self.auth('guest'))
        self.assertEqual(response.json['state'], 'approved')
        pass_ = response.json['pass']
        self.assertIsNone(pass_['share_key'])
        self.assertTrue(pass_['claimed'])
        response = client.get(self.url(f"/passes/{pass_['id']}/code"),
            headers=self.auth('guest'))
        self.assertEqual(response.status_code, 200)
        code = response.json
        self.assertNotEqual(code['token'], pass_['token'])
        self.assertLess(code['not_before'], code['expires_at'])
        self.assertEqual(response.headers['Cache-Control'], 'no-store')

        response = self.verify(client, code['token'], 'south')
        self.assertEqual(response.json['result'], 'open')
        response = self.verify(client, pass_['token'], 'north')
        self.assertEqual(response.json['reason'], 'used')
        response = client.get(self.url(f"/passes/{pass_['id']}/code"),
            headers=self.auth('guest'))
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json['error']['code'], 'used')

    def test_application_reject_and_cancel(self):
        "Test the host rejects with a reason and the applicant withdraws"
        client = self.client()
        first = self.apply(client, role='technician').json
        response = client.post(
            self.url(f"/host/visits/{first['id']}/reject"),
            json={'reason': "Closed today"}, headers=self.auth('merchant'))
        self.assertEqual(response.json['state'], 'rejected')
        response = client.get(self.url(f"/visits/mine/{first['id']}"),
            headers=self.auth('technician'))
        self.assertEqual(response.json['reject_reason'], "Closed today")

        second = self.apply(client, role='technician').json
        response = client.post(
            self.url(f"/visits/mine/{second['id']}/cancel"),
            headers=self.auth('technician'))
        self.assertEqual(response.json['state'], 'cancelled')
        response = client.post(
            self.url(f"/host/visits/{second['id']}/approve"),
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 409)

    def test_application_host_not_leaked(self):
        "Test a wrong phone and a vacant unit get the same answer"
        client = self.client()
        answers = []
        for values in [
                {'host_phone': '13900000000'},
                {'unit': self.ids['vacant_unit']},
                {'unit': self.ids['vacant_unit'],
                    'host_phone': '13911112222'},
                ]:
            response = self.apply(client, **values)
            self.assertEqual(response.status_code, 404)
            answers.append(response.json)
        self.assertEqual(answers[0], answers[1])
        self.assertEqual(answers[0], answers[2])
        self.assertEqual(answers[0]['error']['code'], 'host_not_found')
        response = self.apply(client, host_phone='13911112222')
        self.assertEqual(response.status_code, 201)
        response = self.apply(client, unit=999999)
        self.assertEqual(response.status_code, 404)

    def test_shared_pass(self):
        "Test the first visitor to open a shared pass holds it"
        client = self.client()
        visit = self.invite(client).json
        share_key = visit['pass']['share_key']
        response = client.get(self.url(f'/passes/shared/{share_key}'),
            headers=self.auth('guest'))
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json['claimed'])
        self.assertIsNone(response.json['share_key'])
        response = client.get(
            self.url(f"/passes/{visit['pass']['id']}/code"),
            headers=self.auth('guest'))
        self.assertEqual(response.status_code, 200)
        response = client.get(self.url(f'/passes/shared/{share_key}'),
            headers=self.auth('technician'))
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json['error']['code'], 'claimed')
        response = client.get(self.url('/passes/shared/nope'),
            headers=self.auth('technician'))
        self.assertEqual(response.status_code, 404)

    def test_qr_images(self):
        "Test the pass QR code as SVG and PNG, static and rotating"
        client = self.client()
        visit = self.invite(client).json
        path = f"/passes/{visit['pass']['id']}"
        response = client.get(self.url(path + '/qr.svg'),
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'image/svg+xml')
        self.assertIn(b'<svg', response.data)
        response = client.get(self.url(path + '/qr.png?mode=rotating'),
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'image/png')
        self.assertTrue(response.data.startswith(b'\x89PNG'))
        response = client.get(self.url(path + '/qr.png?mode=other'),
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 422)

    def test_batch_cards(self):
        "Test a merchant asks for cards, the office approves, cards issue"
        client = self.client()
        body = {'group_name': "Suppliers' meeting", 'quantity': 2,
            **self.window()}
        response = client.post(self.url('/card-batches'), json=body,
            headers=self.auth('guest'))
        self.assertEqual(response.status_code, 403)
        response = client.post(self.url('/card-batches'), json=body,
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 201)
        batch = response.json
        self.assertEqual(batch['state'], 'requested')
        response = client.post(
            self.url(f"/card-batches/{batch['id']}/cards"), json={},
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 409)

        with Transaction().start(DB_NAME, 1):
            Batch = Pool().get('property.visitor.card.batch')
            Batch.approve([Batch(batch['id'])])

        response = client.post(
            self.url(f"/card-batches/{batch['id']}/cards"), json={},
            headers=self.auth('tenant'))
        self.assertEqual(response.status_code, 404)
        cards = []
        for name in ["Guest 1", None]:
            response = client.post(
                self.url(f"/card-batches/{batch['id']}/cards"),
                json={'visitor_name': name} if name else {},
                headers=self.auth('merchant'))
            self.assertEqual(response.status_code, 201)
            cards.append(response.json)
        self.assertEqual([c['visitor_name'] for c in cards],
            ["Guest 1", "Suppliers' meeting"])
        self.assertEqual({c['kind'] for c in cards}, {'card'})
        response = client.post(
            self.url(f"/card-batches/{batch['id']}/cards"), json={},
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 409)

        for card in cards:
            response = self.verify(client, card['token'])
            self.assertEqual(response.json['result'], 'open')
            response = self.verify(client, card['token'])
            self.assertEqual(response.json['reason'], 'used')

        response = client.get(self.url(f"/card-batches/{batch['id']}"),
            headers=self.auth('merchant'))
        self.assertEqual(response.json['issued'], 2)
        self.assertEqual([c['state'] for c in response.json['cards']],
            ['used', 'used'])
        response = client.get(self.url('/card-batches'),
            headers=self.auth('tenant'))
        self.assertEqual(response.json['total'], 0)

    def test_technician_passages(self):
        "Test technicians record their own entries and exits only"
        client = self.client()
        for role in ['guest', 'merchant']:
            response = client.post(self.url('/technician/passages'),
                json={'estate': self.ids['estate'], 'direction': 'in'},
                headers=self.auth(role))
            self.assertEqual(response.status_code, 403)
        response = client.post(self.url('/technician/passages'),
            json={'estate': self.ids['estate'], 'direction': 'in',
                'note': "Lift repair"},
            headers=self.auth('technician'))
        self.assertEqual(response.status_code, 201)
        self.assertEqual(response.json['direction'], 'in')
        response = client.get(self.url('/technician/passages'),
            headers=self.auth('technician'))
        self.assertTrue(response.json['inside'])
        client.post(self.url('/technician/passages'),
            json={'estate': self.ids['estate'], 'direction': 'out'},
            headers=self.auth('technician'))
        response = client.get(self.url('/technician/passages'),
            headers=self.auth('technician'))
        self.assertFalse(response.json['inside'])
        self.assertEqual([p['direction'] for p in response.json['items']],
            ['out', 'in'])
        response = client.post(self.url('/technician/passages'),
            json={'estate': 999999, 'direction': 'in'},
            headers=self.auth('technician'))
        self.assertEqual(response.status_code, 404)

    def test_gate_authentication(self):
        "Test gates authenticate with their own key, not with sessions"
        client = self.client()
        token = self.invite(client).json['pass']['token']
        for headers in [
                {},
                self.auth('merchant'),
                {'Authorization': f"Gate {self.ids['north']}:wrong"},
                {'Authorization':
                    f"Gate {self.ids['south']}:{self.gate_keys['north']}"},
                {'Authorization': f"Gate x:{self.gate_keys['north']}"},
                ]:
            with self.subTest(headers=headers):
                response = client.post(self.url('/gate/verify'),
                    json={'token': token}, headers=headers)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(
                    response.json['error']['code'], 'unauthenticated')
        response = client.post(self.url('/gate/verify'),
            json={'token': token}, headers=self.gate_auth('disabled'))
        self.assertEqual(response.status_code, 403)
        # The refused attempts did not consume the pass
        response = self.verify(client, token)
        self.assertEqual(response.json['result'], 'open')

    def test_gate_new_key(self):
        "Test a gate's new key opens at once and its old key no more"
        client = self.client()
        first, second = [self.invite(client).json['pass']['token']
            for _ in range(2)]
        with Transaction().start(DB_NAME, 1):
            Estate = Pool().get('property.estate')
            gate, old_key = create_gate(
                Estate(self.ids['estate']), 'R', bit=6)
            gate_id = gate.id

        def verify(token, key):
            return client.post(self.url('/gate/verify'),
                json={'token': token},
                headers={'Authorization': f'Gate {gate_id}:{key}'})
        self.assertEqual(verify(first, old_key).status_code, 200)
        with Transaction().start(DB_NAME, 1):
            Gate = Pool().get('property.visitor.gate')
            new_key = Gate(gate_id).set_new_key()
        self.assertEqual(verify(second, old_key).status_code, 401)
        response = verify(second, new_key)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['result'], 'open')

    def test_gate_keys(self):
        "Test gates fetch the public keys and their scope, never a secret"
        client = self.client()
        self.invite(client)
        response = client.get(self.url('/gate/keys'),
            headers=self.gate_auth('south'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['gate']['site'], self.ids['estate'])
        self.assertEqual(response.json['gate']['bit'], 1)
        key, = [k for k in response.json['keys'] if k['state'] == 'active']
        self.assertEqual(key['algorithm'], 'Ed25519')
        self.assertEqual(len(key['public_key']), 43)
        self.assertEqual(set(key), {'kid', 'algorithm', 'public_key',
                'state'})

    def test_offline_scans(self):
        "Test offline scans are reconciled and double use is flagged"
        client = self.client()
        token = self.invite(client).json['pass']['token']
        now = dt.datetime.now(dt.timezone.utc)
        scans = [{'token': token, 'scanned_at': now.isoformat(),
                'result': 'open'}]
        response = client.post(self.url('/gate/offline-scans'),
            json={'scans': scans}, headers=self.gate_auth('north'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['items'][0]['status'], 'recorded')
        scans[0]['scanned_at'] = (now + dt.timedelta(seconds=30)).isoformat()
        response = client.post(self.url('/gate/offline-scans'),
            json={'scans': scans}, headers=self.gate_auth('south'))
        self.assertEqual(response.json['items'][0]['status'], 'flagged')
        response = client.post(self.url('/gate/offline-scans'),
            json={'scans': []}, headers=self.gate_auth('south'))
        self.assertEqual(response.status_code, 422)

    def test_openapi(self):
        "Test the gate routes declare the gate security scheme"
        response = self.client().get(self.url('/openapi.json'))
        document = response.json
        self.assertIn('gate', document['components']['securitySchemes'])
        verify = document['paths']['/gate/verify']['post']
        self.assertEqual(verify['security'], [{'gate': []}])
        invite = document['paths']['/visits/invitations']['post']
        self.assertEqual(invite['x-permission'], 'visitor.invite')


del RouteTestCase
