# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import re
import time

from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)

from ..exceptions import WeChatCodeError, WeChatError
from ..wechat import WeChat, subscribe_data
from . import fake_wechat


class WeChatClientTestCase(TestCase):
    "Test the WeChat client against the fake WeChat server"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module('property_community')
        cls.server = fake_wechat.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()
        drop_db()

    def setUp(self):
        super().setUp()
        self.state = self.server.state = fake_wechat.FakeWeChatState()
        WeChat._tokens.clear()

    def client(self, **kwargs):
        values = {
            'appid': fake_wechat.APPID,
            'secret': fake_wechat.SECRET,
            'base_url': self.server.base_url,
            }
        values.update(kwargs)
        return WeChat(**values)

    def requests(self, path):
        return [r for r in self.state.requests if r[1] == path]

    @with_transaction()
    def test_code2session(self):
        "Test a wx.login code gives the openid and unionid"
        code = self.state.add_login_code('openid-1', unionid='unionid-1')

        login = self.client().code2session(code)

        self.assertEqual(login.openid, 'openid-1')
        self.assertEqual(login.unionid, 'unionid-1')
        self.assertTrue(login.session_key)
        self.assertNotIn(login.session_key, repr(login))

    @with_transaction()
    def test_code2session_without_unionid(self):
        "Test a mini-program without open platform has no unionid"
        code = self.state.add_login_code('openid-1')

        login = self.client().code2session(code)

        self.assertEqual(login.openid, 'openid-1')
        self.assertIsNone(login.unionid)

    @with_transaction()
    def test_code2session_reused(self):
        "Test a wx.login code works only once"
        client = self.client()
        code = self.state.add_login_code('openid-1')
        client.code2session(code)

        with self.assertRaises(WeChatCodeError) as cm:
            client.code2session(code)
        self.assertEqual(cm.exception.errcode, 40029)
        self.assertTrue(cm.exception.message)

    @with_transaction()
    def test_code2session_invalid(self):
        "Test unknown codes and codes of another mini-program are refused"
        client = self.client()
        other = self.state.add_login_code('openid-1', appid='wx-other')
        for code in ['unknown', other]:
            with self.assertRaises(WeChatCodeError) as cm:
                client.code2session(code)
            self.assertEqual(cm.exception.errcode, 40029)

    @with_transaction()
    def test_code2session_bad_credentials(self):
        "Test a wrong appid or secret is a server error, not a bad code"
        code = self.state.add_login_code('openid-1')
        for client, errcode in [
                (self.client(appid='wx-unknown'), 40013),
                (self.client(secret='wrong'), 40125),
                ]:
            with self.assertRaises(WeChatError) as cm:
                client.code2session(code)
            self.assertNotIsInstance(cm.exception, WeChatCodeError)
            self.assertEqual(cm.exception.errcode, errcode)
        # The code was not burnt by the refused calls
        self.assertEqual(self.client().code2session(code).openid, 'openid-1')

    @with_transaction()
    def test_not_configured(self):
        "Test a client without appid or secret refuses to call WeChat"
        client = self.client()
        client.secret = None

        with self.assertRaises(WeChatError) as cm:
            client.code2session('code')
        self.assertIsNone(cm.exception.errcode)
        self.assertEqual(self.state.requests, [])

    @with_transaction()
    def test_unreachable(self):
        "Test an unreachable WeChat raises a WeChatError"
        client = self.client(
            base_url=fake_wechat.unreachable_url(), timeout=2)

        with self.assertRaises(WeChatError) as cm:
            client.code2session('code')
        self.assertIsNone(cm.exception.errcode)

    @with_transaction()
    def test_access_token_cached(self):
        "Test the stable access token is fetched once and shared"
        token = self.client().access_token()

        self.assertEqual(self.client().access_token(), token)
        self.assertEqual(self.state.token_fetches, 1)
        self.assertEqual(self.state.current_token()[0], token)

    @with_transaction()
    def test_access_token_refreshed_early(self):
        "Test a token about to expire is fetched again"
        self.state.tokens[fake_wechat.APPID] = ('OLD', time.time() + 200)
        client = self.client()

        self.assertEqual(client.access_token(), 'OLD')
        self.assertEqual(client.access_token(), 'OLD')
        self.assertEqual(self.state.token_fetches, 2)

    @with_transaction()
    def test_access_token_bad_secret(self):
        "Test a refused access token raises the WeChat error"
        with self.assertRaises(WeChatError) as cm:
            self.client(secret='wrong').access_token()
        self.assertEqual(cm.exception.errcode, 40125)

    @with_transaction()
    def test_phone_number(self):
        "Test the phone number of a getPhoneNumber code"
        code = self.state.add_phone_code('13800138000', openid='openid-1')

        info = self.client().phone_number(code, openid='openid-1')

        self.assertEqual(info['purePhoneNumber'], '13800138000')
        self.assertEqual(info['countryCode'], '86')

    @with_transaction()
    def test_phone_number_reused(self):
        "Test a phone code works only once and only for its user"
        client = self.client()
        code = self.state.add_phone_code('13800138000', openid='openid-1')
        client.phone_number(code)

        with self.assertRaises(WeChatCodeError) as cm:
            client.phone_number(code)
        self.assertEqual(cm.exception.errcode, 40029)

        code = self.state.add_phone_code('13800138000', openid='openid-1')
        with self.assertRaises(WeChatCodeError):
            client.phone_number(code, openid='openid-2')

    @with_transaction()
    def test_phone_number_other_app(self):
        "Test a phone number watermarked for another appid is refused"
        def forged(state, request):
            status, body = fake_wechat.getuserphonenumber(state, request)
            body['phone_info']['watermark']['appid'] = 'wx-other'
            return status, body
        routes = [('POST', re.compile(r'/wxa/business/getuserphonenumber'),
                forged)] + fake_wechat.ROUTES
        server = fake_wechat.FakeWeChatServer(self.state, routes).start()
        self.addCleanup(server.stop)
        code = self.state.add_phone_code('13800138000')

        with self.assertRaises(WeChatError) as cm:
            self.client(base_url=server.base_url).phone_number(code)
        self.assertIsNone(cm.exception.errcode)

    @with_transaction()
    def test_token_rotated(self):
        "Test a token rotated by WeChat is fetched again and the call retried"
        client = self.client()
        old = client.access_token()
        self.state.rotate_token()
        code = self.state.add_phone_code('13800138000')

        info = client.phone_number(code)

        self.assertEqual(info['purePhoneNumber'], '13800138000')
        self.assertEqual(self.state.token_fetches, 2)
        self.assertNotEqual(client.access_token(), old)
        self.assertEqual(
            len(self.requests('/wxa/business/getuserphonenumber')), 2)

    @with_transaction()
    def test_token_retried_once(self):
        "Test a token refused again is not retried forever"
        class State(fake_wechat.FakeWeChatState):
            def token_app(self, token):
                return None, 40001
        self.state = self.server.state = State()
        code = self.state.add_phone_code('13800138000')

        with self.assertRaises(WeChatError) as cm:
            self.client().phone_number(code)
        self.assertEqual(cm.exception.errcode, 40001)
        self.assertEqual(
            len(self.requests('/wxa/business/getuserphonenumber')), 2)
        self.assertEqual(self.state.token_fetches, 2)

    @with_transaction()
    def test_send_subscribe(self):
        "Test a subscribe message is sent once per accepted subscription"
        client = self.client()
        self.state.subscribe('openid-1', 'TPL-BILL')
        data = {
            'thing1': "2026年5月物业费及水电费合计账单明细请及时缴纳",
            'amount2': {'value': "¥123.45"},
            'date3': "2026年06月10日",
            }

        client.send_subscribe('openid-1', 'TPL-BILL', data,
            page='pages/bill/detail?id=42')

        message, = self.state.sent
        self.assertEqual(message['touser'], 'openid-1')
        self.assertEqual(message['page'], 'pages/bill/detail?id=42')
        self.assertEqual(message['miniprogram_state'], 'formal')
        self.assertEqual(message['data'], {
                'thing1': {'value': "2026年5月物业费及水电费合计账单明细"},
                'amount2': {'value': "¥123.45"},
                'date3': {'value': "2026年06月10日"},
                })

        with self.assertRaises(WeChatError) as cm:
            client.send_subscribe('openid-1', 'TPL-BILL', data)
        self.assertEqual(cm.exception.errcode, 43101)
        self.assertEqual(len(self.state.sent), 1)

    @with_transaction()
    def test_send_subscribe_bad_data(self):
        "Test data that does not fit the template is refused before sending"
        client = self.client()
        self.state.subscribe('openid-1', 'TPL-BILL')
        for data in [
                {'amount2': "123 yuan"},
                {'phrase3': "Paid"},
                {'thing1': ""},
                {'unknown1': "x"},
                {'thing': "no number"},
                ]:
            with self.assertRaises(WeChatError) as cm:
                client.send_subscribe('openid-1', 'TPL-BILL', data)
            self.assertEqual(cm.exception.errcode, 47003)
        self.assertEqual(self.requests('/cgi-bin/message/subscribe/send'), [])

    @with_transaction()
    def test_send_subscribe_refused_data(self):
        "Test WeChat's own refusal of data is raised as 47003"
        client = self.client()
        self.state.subscribe('openid-1', 'TPL-BILL')

        with self.assertRaises(WeChatError) as cm:
            client._post_with_token('/cgi-bin/message/subscribe/send', {
                    'touser': 'openid-1',
                    'template_id': 'TPL-BILL',
                    'data': {'thing1': {'value': 'x' * 21}},
                    })
        self.assertEqual(cm.exception.errcode, 47003)
        self.assertEqual(self.state.sent, [])

    @with_transaction()
    def test_send_subscribe_unknown_template(self):
        "Test an unknown template is refused by WeChat"
        with self.assertRaises(WeChatError) as cm:
            self.client().send_subscribe(
                'openid-1', 'TPL-UNKNOWN', {'thing1': "x"})
        self.assertEqual(cm.exception.errcode, 40037)

    @with_transaction()
    def test_subscribe_data_rules(self):
        "Test the value rules of subscribe message keys"
        valid = {
            'number1': "42.5",
            'letter2': "ABC",
            'character_string3': "BILL-2026-05#1",
            'time4': "15:01",
            'date5': "2019年10月1日 15:01 ~ 2019年10月1日 18:00",
            'amount6': "123.45元",
            'phone_number7': "+86 138-0013-8000",
            'car_number8': "粤B12345",
            'name9': "王师傅",
            'phrase10': "已完成",
            'symbol11': "%",
            }
        self.assertEqual(subscribe_data(valid),
            {k: {'value': v} for k, v in valid.items()})
        for key, value in [
                ('number1', "4x"),
                ('letter2', "AB1"),
                ('character_string3', "with space"),
                ('time4', "tomorrow"),
                ('amount6', "¥12345678901"),
                ('phone_number7', "call me"),
                ('car_number8', "粤B123456789"),
                ('name9', "王" * 11),
                ('phrase10', "done"),
                ('symbol11', "%%%%%%"),
                ]:
            with self.assertRaises(WeChatError, msg=key):
                subscribe_data({key: value})
