# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"End to end: a real trytond process on loopback backed by PostgreSQL"
import base64
import os
import unittest

from .server import ROOT, Server, pg_uri_from_env


class ServerTestCase(unittest.TestCase):
    "Test the platform as served by trytond with the demo data"

    @classmethod
    def setUpClass(cls):
        uri = pg_uri_from_env()
        if not uri:
            raise unittest.SkipTest(
                "needs PostgreSQL: set TEST_PG_URI or TRYTOND_DATABASE_URI "
                "to postgresql://... (scripts/test does)")
        if not (ROOT / 'var' / 'sao' / 'index.html').exists():
            raise unittest.SkipTest("sao is not installed: run scripts/setup")
        import httpx
        cls.server = Server(uri, f'e2e_server_{os.getpid()}', dev_login=True)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.create_database()
        cls.server.load_demo_data(units=60, accounts=8)
        cls.server.start()
        cls.client = httpx.Client(timeout=30)
        cls.addClassCleanup(cls.client.close)

    def api(self, path):
        return self.server.url('/api/v1' + path)

    def rpc(self, method, params, auth=None):
        response = self.client.post(self.server.url('/rpc/'), json={
                'id': 1, 'method': method, 'params': params,
                }, headers=auth or {})
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def login(self, login, password):
        "Log in over JSON-RPC and return the Session authorization header"
        result = self.rpc('common.db.login',
            [login, {'password': password}, 'zh_CN'])
        self.assertNotIn('error', result)
        user_id, token = result['result'][:2]
        credentials = base64.b64encode(
            f'{login}:{user_id}:{token}'.encode()).decode()
        return {'Authorization': f'Session {credentials}'}

    def dev_sign_in(self, role):
        "Sign in with the development sign-in as the first account of role"
        response = self.client.get(self.api('/auth/dev/accounts'))
        self.assertEqual(response.status_code, 200, response.text)
        account = next(
            a for a in response.json()['items'] if a['role'] == role)
        response = self.client.post(
            self.api('/auth/dev'), json={'account_id': account['id']})
        self.assertEqual(response.status_code, 200, response.text)
        return account, response.json()

    def test_sao_index(self):
        "Test the back office web client is served at /"
        response = self.client.get(self.server.base_url + '/')
        self.assertEqual(response.status_code, 200)
        self.assertIn('tryton-sao', response.text)
        response = self.client.get(
            self.server.base_url + '/dist/tryton-sao.js')
        self.assertEqual(response.status_code, 200)

    def test_admin_login_rpc(self):
        "Test the admin logs in over JSON-RPC, in Chinese, with the demo data"
        auth = self.login('admin', 'admin')
        preferences = self.rpc(
            'model.res.user.get_preferences', [False, {}], auth)['result']
        self.assertEqual(preferences['language'], 'zh_CN')
        self.assertTrue(preferences['company'])
        context = {'company': preferences['company']}
        result = self.rpc('model.property.estate.search_read',
            [[], 0, None, None, ['code', 'name'], context], auth)
        self.assertEqual(
            sorted(e['code'] for e in result['result']), ['JX', 'XH'])
        result = self.rpc('model.property.unit.search_count',
            [[], 0, None, context], auth)
        self.assertEqual(result['result'], 60)
        result = self.rpc('model.ir.module.config_wizard.item.search_count',
            [[('state', '!=', 'done')], 0, None, context], auth)
        self.assertEqual(result['result'], 0)

    def test_wrong_password_refused(self):
        "Test a wrong password does not log in"
        response = self.client.post(self.server.url('/rpc/'), json={
                'id': 1, 'method': 'common.db.login',
                'params': ['verifier', {'password': 'wrong'}, 'zh_CN'],
                })
        self.assertEqual(response.status_code, 401)

    def test_staff_user_rights(self):
        "Test the demo user verifier reads estates but may not change them"
        auth = self.login('verifier', 'verifier')
        result = self.rpc('model.property.estate.search_read',
            [[], 0, None, None, ['code'], {}], auth)
        self.assertEqual(len(result['result']), 2)
        result = self.rpc('model.property.estate.write',
            [[result['result'][0]['id']], {'phone': '110'}, {}], auth)
        self.assertEqual(result['error'][0], 'UserError')

    def test_health(self):
        "Test the API health route and the OpenAPI document"
        response = self.client.get(self.api('/health'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {'status': 'ok'})
        response = self.client.get(self.api('/openapi.json'))
        self.assertEqual(response.status_code, 200)
        self.assertIn('/auth/dev', response.json()['paths'])

    def test_dev_sign_in_accounts(self):
        "Test the dev sign-in, enabled by the configuration, offers all roles"
        response = self.client.get(self.api('/auth/dev/accounts'))
        self.assertEqual(response.status_code, 200)
        roles = {a['role'] for a in response.json()['items']}
        self.assertEqual(
            roles, {'guest', 'merchant', 'tenant', 'technician'})
        self.assertTrue(all(a['name'] for a in response.json()['items']))

    def test_sign_in_me_logout(self):
        "Test a merchant signs in, sees their units, logs out and is refused"
        account, signed_in = self.dev_sign_in('merchant')
        self.assertEqual(signed_in['user']['role'], 'merchant')
        auth = {'Authorization': f"Bearer {signed_in['token']}"}

        response = self.client.get(self.api('/me'), headers=auth)
        self.assertEqual(response.status_code, 200)
        me = response.json()
        self.assertEqual(me['id'], account['id'])
        self.assertEqual(me['name'], account['name'])
        self.assertIn('bill.pay', me['capabilities'])
        self.assertTrue(me['units'])

        response = self.client.post(self.api('/auth/logout'), headers=auth)
        self.assertEqual(response.status_code, 204)
        response = self.client.get(self.api('/me'), headers=auth)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json()['error']['code'], 'unauthenticated')

    def test_guest_and_technician_roles(self):
        "Test the roles of the demo accounts reach the API"
        for role, capability, refused in [
                ('guest', 'certification.submit', 'bill.pay'),
                ('technician', 'repair.take', 'certification.submit'),
                ]:
            with self.subTest(role=role):
                _, signed_in = self.dev_sign_in(role)
                response = self.client.get(self.api('/me'), headers={
                        'Authorization': f"Bearer {signed_in['token']}"})
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.json()['role'], role)
                self.assertIn(capability, response.json()['capabilities'])
                self.assertNotIn(refused, response.json()['capabilities'])
