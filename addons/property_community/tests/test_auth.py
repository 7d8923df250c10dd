# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction

from ..wechat import WeChat
from . import fake_wechat
from .tools import create_account, override_config, sign_in


class AuthTestCase(RouteTestCase):
    "Test the mini-program sign-in routes"
    module = 'property_community'

    @classmethod
    def setUpClass(cls):
        cls.server = fake_wechat.start()
        cls.addClassCleanup(cls.server.stop)
        cls.addClassCleanup(override_config({
                    ('wechat', 'appid'): fake_wechat.APPID,
                    ('wechat', 'secret'): fake_wechat.SECRET,
                    ('wechat', 'api_base_url'): cls.server.base_url,
                    ('property', 'dev_login'): False,
                    }))
        super().setUpClass()

    @classmethod
    def setUpDatabase(cls):
        technician = create_account(
            'technician', name="Technician Wang", phone='13911112222')
        cls.technician_id = technician.id

    def setUp(self):
        super().setUp()
        self.state = self.server.state

    def url(self, path):
        return f'/{self.db_name}/api/v1{path}'

    def override_config(self, values):
        self.addCleanup(override_config(values))

    def sign_in_wechat(self, openid, unionid=None, **kwargs):
        code = self.state.add_login_code(openid, unionid=unionid)
        return self.client().post(
            self.url('/auth/wechat'), json={'code': code}, **kwargs)

    def get_me(self, token):
        return self.client().get(
            self.url('/me'), headers={'Authorization': f'Bearer {token}'})

    def assertError(self, response, status, code, field=None):
        self.assertEqual(response.status_code, status, response.data)
        error = response.json['error']
        self.assertEqual(error['code'], code)
        self.assertTrue(error['message'])
        self.assertEqual(error['field'], field)

    def test_wechat_sign_in_creates_guest(self):
        "Test a new WeChat user signs in as a guest with our own token"
        response = self.sign_in_wechat('openid-new', unionid='unionid-new')

        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(set(response.json), {'token', 'expires_at', 'user'})
        user = response.json['user']
        self.assertEqual(user['role'], 'guest')
        self.assertIn('certification.submit', user['capabilities'])
        self.assertIsNone(user['phone'])
        expires_at = dt.datetime.fromisoformat(response.json['expires_at'])
        tomorrow = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
        self.assertGreater(expires_at, tomorrow)
        text = response.get_data(as_text=True)
        for secret in ['openid-new', 'unionid-new', 'session_key']:
            self.assertNotIn(secret, text)

        me = self.get_me(response.json['token'])
        self.assertEqual(me.status_code, 200)
        self.assertEqual(me.json['id'], user['id'])
        self.assertNotIn('openid-new', me.get_data(as_text=True))
        with Transaction().start(self.db_name, 0):
            account = Pool().get('web.user')(user['id'])
            self.assertEqual(account.wechat_openid, 'openid-new')
            self.assertEqual(account.wechat_unionid, 'unionid-new')
            self.assertEqual(account.wechat_appid, fake_wechat.APPID)
            session, = account.api_sessions
            self.assertEqual(session.kind, 'wechat')
            self.assertNotEqual(session.token_hash, response.json['token'])

    def test_wechat_sign_in_same_account(self):
        "Test the same WeChat user gets the same account on each sign-in"
        first = self.sign_in_wechat('openid-again')
        second = self.sign_in_wechat('openid-again')

        self.assertEqual(second.status_code, 200)
        self.assertEqual(first.json['user']['id'], second.json['user']['id'])
        self.assertNotEqual(first.json['token'], second.json['token'])
        for response in [first, second]:
            self.assertEqual(
                self.get_me(response.json['token']).status_code, 200)

    def test_wechat_sign_in_bad_code(self):
        "Test unknown and reused codes are refused with a JSON error"
        client = self.client()
        code = self.state.add_login_code('openid-reuse')
        response = client.post(self.url('/auth/wechat'), json={'code': code})
        self.assertEqual(response.status_code, 200)

        for code in [code, 'unknown']:
            response = client.post(
                self.url('/auth/wechat'), json={'code': code})
            self.assertError(response, 400, 'invalid_code', 'code')

        for body in [{}, {'code': ''}, {'code': 'a b'}, {'code': 5},
                {'code': 'x' * 129}, {'code': 'c', 'openid': 'o'}]:
            response = client.post(self.url('/auth/wechat'), json=body)
            self.assertEqual(response.status_code, 422, body)

    def test_wechat_unreachable(self):
        "Test an unreachable WeChat answers 503 with Retry-After"
        self.override_config({
                ('wechat', 'api_base_url'): fake_wechat.unreachable_url(),
                })
        code = self.state.add_login_code('openid-unreachable')

        response = self.client().post(
            self.url('/auth/wechat'), json={'code': code})

        self.assertError(response, 503, 'wechat_unavailable')
        self.assertTrue(response.headers['Retry-After'])

    def test_wechat_sign_in_inactive(self):
        "Test a deactivated account cannot sign in and loses its sessions"
        response = self.sign_in_wechat('openid-inactive')
        token = response.json['token']
        with Transaction().start(self.db_name, 0):
            User = Pool().get('web.user')
            User.write([User(response.json['user']['id'])], {'active': False})

        response = self.sign_in_wechat('openid-inactive')

        self.assertError(response, 403, 'account_inactive')
        self.assertEqual(self.get_me(token).status_code, 401)

    def test_dev_sign_in_disabled(self):
        "Test the development sign-in does not exist by default"
        client = self.client()
        response = client.post(
            self.url('/auth/dev'), json={'account_id': self.technician_id})
        self.assertError(response, 404, 'not_found')
        response = client.get(self.url('/auth/dev/accounts'))
        self.assertError(response, 404, 'not_found')

    def test_dev_sign_in_enabled(self):
        "Test the development sign-in when the configuration enables it"
        self.override_config({('property', 'dev_login'): True})
        client = self.client()

        response = client.get(self.url('/auth/dev/accounts'))
        self.assertEqual(response.status_code, 200)
        technician, = [a for a in response.json['items']
            if a['id'] == self.technician_id]
        self.assertEqual(technician['role'], 'technician')
        self.assertEqual(set(technician), {'id', 'name', 'role', 'phone'})

        response = client.post(
            self.url('/auth/dev'), json={'account_id': self.technician_id})
        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(response.json['user']['id'], self.technician_id)
        self.assertEqual(response.json['user']['role'], 'technician')
        self.assertEqual(self.get_me(response.json['token']).json['id'],
            self.technician_id)

        response = client.post(
            self.url('/auth/dev'), json={'account_id': 10 ** 9})
        self.assertError(response, 404, 'not_found', 'account_id')

    def test_logout(self):
        "Test logout ends the session and only that session"
        other = self.sign_in_wechat('openid-logout').json['token']
        token = self.sign_in_wechat('openid-logout').json['token']
        client = self.client()
        headers = {'Authorization': f'Bearer {token}'}

        response = client.post(self.url('/auth/logout'), headers=headers)

        self.assertEqual(response.status_code, 204)
        self.assertEqual(response.data, b'')
        self.assertEqual(self.get_me(token).status_code, 401)
        self.assertEqual(self.get_me(other).status_code, 200)
        response = client.post(self.url('/auth/logout'), headers=headers)
        self.assertError(response, 401, 'unauthenticated')
        response = client.post(self.url('/auth/logout'))
        self.assertError(response, 401, 'unauthenticated')

    def test_bind_phone(self):
        "Test the phone from getPhoneNumber is bound to the account"
        token = self.sign_in_wechat('openid-phone').json['token']
        headers = {'Authorization': f'Bearer {token}'}
        code = self.state.add_phone_code('13700001111', openid='openid-phone')
        client = self.client()

        response = client.post(
            self.url('/me/phone'), json={'code': code}, headers=headers)

        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(response.json['phone'], '13700001111')
        self.assertEqual(response.json['role'], 'guest')

        response = client.post(
            self.url('/me/phone'), json={'code': code}, headers=headers)
        self.assertError(response, 400, 'invalid_code', 'code')
        response = client.post(self.url('/me/phone'), json={'code': code})
        self.assertError(response, 401, 'unauthenticated')

    def test_bind_phone_claims_technician(self):
        "Test a WeChat user proving a technician's phone gets that account"
        response = self.sign_in_wechat('openid-technician')
        guest_id = response.json['user']['id']
        token = response.json['token']
        code = self.state.add_phone_code(
            '13911112222', openid='openid-technician')

        response = self.client().post(self.url('/me/phone'),
            json={'code': code},
            headers={'Authorization': f'Bearer {token}'})

        self.assertEqual(response.status_code, 200, response.data)
        self.assertEqual(response.json['id'], self.technician_id)
        self.assertEqual(response.json['role'], 'technician')
        self.assertEqual(response.json['name'], "Technician Wang")
        # The token now belongs to the technician
        self.assertEqual(self.get_me(token).json['id'], self.technician_id)
        # and so does the WeChat identity
        response = self.sign_in_wechat('openid-technician')
        self.assertEqual(response.json['user']['id'], self.technician_id)
        self.assertNotEqual(guest_id, self.technician_id)

    def test_rate_limit(self):
        "Test repeated failed sign-ins answer 429 with Retry-After"
        self.override_config({
                ('property', 'sign_in_max_attempt'): 3,
                ('property', 'sign_in_max_attempt_ip_network'): 5,
                })
        client = self.client()
        attacker = {'environ_base': {'REMOTE_ADDR': '10.9.8.7'}}

        def post(code, **kwargs):
            return client.post(
                self.url('/auth/wechat'), json={'code': code}, **kwargs)

        for _ in range(3):
            self.assertError(post('guessed', **attacker), 400, 'invalid_code',
                'code')
        response = post('guessed', **attacker)
        self.assertError(response, 429, 'rate_limited')
        self.assertTrue(response.headers['Retry-After'])

        # The limit of the network counts every failed code
        self.assertError(post('guessed-2', **attacker), 400, 'invalid_code',
            'code')
        code = self.state.add_login_code('openid-rate')
        self.assertError(post(code, **attacker), 429, 'rate_limited')
        self.assertError(post('guessed-3', **attacker), 429, 'rate_limited')

        # Other networks are not affected and the code was not used
        response = post(code, environ_base={'REMOTE_ADDR': '10.9.8.8'})
        self.assertEqual(response.status_code, 200)

    def test_openapi(self):
        "Test the sign-in routes are documented with their security"
        paths = self.client().get(self.url('/openapi.json')).json['paths']

        self.assertEqual(paths['/auth/wechat']['post']['security'], [])
        self.assertEqual(paths['/auth/dev']['post']['security'], [])
        self.assertEqual(paths['/auth/dev/accounts']['get']['security'], [])
        self.assertIn('429', paths['/auth/wechat']['post']['responses'])
        for path, method in [('/auth/logout', 'post'), ('/me/phone', 'post')]:
            self.assertEqual(paths[path][method]['security'],
                [{'session': []}])

    def test_clean_sessions(self):
        "Test the scheduled job deletes sessions expired for a day"
        with Transaction().start(self.db_name, 0) as transaction:
            pool = Pool()
            Cron = pool.get('ir.cron')
            Session = pool.get('web.user.api_session')
            user = create_account('guest', name="Expired")
            sign_in(user)
            token = sign_in(user)
            old, current = Session.search([('user', '=', user.id)],
                order=[('id', 'ASC')])
            old.expires_at = dt.datetime.now() - dt.timedelta(days=2)
            old.save()
            cron, = Cron.search(
                [('method', '=', 'web.user.api_session|clean')])

            cron.run_once()

            self.assertEqual(
                Session.search([('user', '=', user.id)]), [current])
            self.assertTrue(Session.get_session(token))
            transaction.rollback()

    def test_wechat_token_cache_shared(self):
        "Test sign-ins do not fetch an access token (only phone binding does)"
        WeChat._tokens.clear()
        fetches = self.state.token_fetches
        self.sign_in_wechat('openid-token')
        self.assertEqual(self.state.token_fetches, fetches)
