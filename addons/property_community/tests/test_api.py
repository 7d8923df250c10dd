# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.tests.test_tryton import RouteTestCase

from .tools import create_account, sign_in


class APITestCase(RouteTestCase):
    "Test the mini-program API toolkit"
    module = 'property_community'

    @classmethod
    def setUpDatabase(cls):
        cls.tokens = {}
        for role in ['guest', 'merchant', 'tenant', 'technician']:
            user = create_account(role, name=f"{role} user")
            cls.tokens[role] = sign_in(user)

    def url(self, path):
        return f'/{self.db_name}/api/v1{path}'

    def auth(self, role):
        return {'Authorization': f'Bearer {self.tokens[role]}'}

    def test_health_is_public(self):
        "Test the health route answers without a session"
        response = self.client().get(self.url('/health'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json, {'status': 'ok'})

    def test_me_requires_session(self):
        "Test /me answers 401 with the error shape without a valid session"
        client = self.client()
        for headers in [{}, {'Authorization': 'Bearer nope'},
                {'Authorization': 'Basic abc'}]:
            response = client.get(self.url('/me'), headers=headers)
            self.assertEqual(response.status_code, 401)
            self.assertEqual(
                response.json['error']['code'], 'unauthenticated')
            self.assertTrue(response.json['error']['message'])

    def test_me_per_role(self):
        "Test /me shows the role and its capabilities"
        client = self.client()
        response = client.get(self.url('/me'), headers=self.auth('guest'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['role'], 'guest')
        self.assertIn('certification.submit', response.json['capabilities'])
        self.assertNotIn('bill.pay', response.json['capabilities'])
        response = client.get(self.url('/me'), headers=self.auth('merchant'))
        self.assertIn('bill.pay', response.json['capabilities'])
        response = client.get(
            self.url('/me'), headers=self.auth('technician'))
        self.assertEqual(response.json['capabilities'], [
                'content.read', 'leasing.read', 'lost_found', 'profile',
                'repair.take', 'technician.passage', 'visit.apply'])

    def test_update_me(self):
        "Test the profile update validates its input"
        client = self.client()
        response = client.patch(self.url('/me'), json={'name': " 李雷 "},
            headers=self.auth('tenant'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['name'], "李雷")

        for body, field in [
                ({'name': 5}, 'name'),
                ({'name': 'x' * 61}, 'name'),
                ({'phone': '12345'}, 'phone'),
                ({'role': 'merchant'}, 'role'),
                ([1, 2], 'body'),
                ]:
            response = client.patch(self.url('/me'), json=body,
                headers=self.auth('tenant'))
            self.assertEqual(response.status_code, 422, body)
            self.assertEqual(response.json['error']['field'], field)

    def test_method_override(self):
        "Test POST with X-HTTP-Method-Override: PATCH updates the profile"
        response = self.client().post(self.url('/me'), json={'name': "韩梅梅"},
            headers={**self.auth('merchant'),
                'X-HTTP-Method-Override': 'PATCH'})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['name'], "韩梅梅")
        response = self.client().post(self.url('/me'), json={'name': "x"},
            headers=self.auth('merchant'))
        self.assertEqual(response.status_code, 405)
        self.assertEqual(
            response.json['error']['code'], 'method_not_allowed')

    def test_unknown_route(self):
        "Test an unknown API route answers the JSON error shape"
        response = self.client().get(self.url('/no/such/thing'))
        # 405 when another application's route catches the path
        self.assertIn(response.status_code, {404, 405})
        self.assertIn(response.json['error']['code'],
            {'not_found', 'method_not_allowed'})

    def test_malformed_bodies(self):
        "Test malformed JSON, wrong content type and huge bodies are 4xx"
        client = self.client()
        headers = self.auth('tenant')
        response = client.patch(self.url('/me'), data=b'{"name": ',
            headers=headers, content_type='application/json')
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json['error']['code'], 'bad_request')
        response = client.patch(self.url('/me'), data=b'name=x',
            headers=headers, content_type='application/x-www-form-urlencoded')
        self.assertEqual(response.status_code, 400)
        response = client.patch(self.url('/me'), data=b'NaN',
            headers=headers, content_type='application/json')
        self.assertEqual(response.status_code, 400)
        response = client.patch(self.url('/me'),
            data=b'{"name": "' + b'x' * 100_000 + b'"}',
            headers=headers, content_type='application/json')
        self.assertEqual(response.status_code, 413)
        response = client.patch(self.url('/me'),
            data=b'[' * 100_000 + b']' * 100_000,
            headers=headers, content_type='application/json')
        self.assertIn(response.status_code, {400, 413})

    def test_busy_database(self):
        "Test exhausted lock or serialization retries answer 503"
        from unittest.mock import patch

        from trytond import backend
        client = self.client()
        target = ('trytond.modules.property_community.web.Session'
            '.authenticate')
        with patch(target, side_effect=backend.DatabaseOperationalError):
            for method in ['GET', 'PATCH']:
                response = client.open(self.url('/me'), method=method,
                    json={} if method == 'PATCH' else None,
                    headers=self.auth('tenant'))
                self.assertEqual(response.status_code, 503, method)
                self.assertEqual(response.json['error']['code'], 'busy')
                self.assertEqual(response.headers['Retry-After'], '1')
                self.assertTrue(response.json['error']['message'])

    def test_openapi_matches_routes(self):
        "Test every API route is in the OpenAPI document and vice versa"
        from trytond.wsgi import app
        from ..api import API_PREFIX, OpenAPI
        response = self.client().get(self.url('/openapi.json'))
        self.assertEqual(response.status_code, 200)
        document = response.json
        self.assertEqual(document['openapi'], '3.1.0')
        documented = {(path, method) for path, ops in document['paths'].items()
            for method in ops}
        routed = set()
        for rule in app.url_map.iter_rules():
            if rule.rule.startswith(API_PREFIX):
                for method in rule.methods - {'HEAD', 'OPTIONS'}:
                    routed.add((OpenAPI.path(rule.rule), method.lower()))
        self.assertEqual(documented, routed)
        for path, ops in document['paths'].items():
            for method, op in ops.items():
                self.assertIn('security', op, (path, method))
                self.assertIn('responses', op, (path, method))
                if op['security']:
                    self.assertIn('401', op['responses'])
                    self.assertIn('403', op['responses'])


del RouteTestCase
