# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import base64
import json
import time
import unittest
from decimal import Decimal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from ..wechat_pay import (
    SignatureError, WeChatPay, WeChatPayError, from_fen, to_fen)
from . import fake_wechat_pay

NOTIFY_URL = 'https://pm.example.com/db/wechat/pay/notify'


class WeChatPayClientTestCase(unittest.TestCase):
    "Test the WeChat Pay client against the fake WeChat Pay"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.keys = fake_wechat_pay.Keys()
        cls.server = fake_wechat_pay.start(cls.keys)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.state = self.server.state = fake_wechat_pay.FakePayState(
            self.keys)

    def client(self, **kwargs):
        values = self.keys.client_kwargs(self.server.base_url, NOTIFY_URL)
        values.update(kwargs)
        return WeChatPay(**values)

    def prepay(self, client, out_trade_no='PB0001TEST', total=12345):
        return client.jsapi_prepay(out_trade_no, "物业费 2026-05 B1-01",
            total, 'openid-1', attach='bill:42')

    def test_fen(self):
        "Test amounts go to WeChat Pay as integer fen and back"
        self.assertEqual(to_fen(Decimal('123.45')), 12345)
        self.assertEqual(to_fen(Decimal('0.10')), 10)
        self.assertEqual(to_fen(Decimal('7')), 700)
        self.assertEqual(from_fen(12345), Decimal('123.45'))
        self.assertEqual(from_fen(5), Decimal('0.05'))
        with self.assertRaises(ValueError):
            to_fen(Decimal('1.005'))

    def test_prepay(self):
        "Test a JSAPI order gives a prepay_id, the same when asked again"
        client = self.client()

        prepay_id = self.prepay(client)
        self.assertTrue(prepay_id.startswith('wx'))
        self.assertEqual(self.prepay(client), prepay_id)

        order = self.state.order('PB0001TEST')
        self.assertEqual(order['amount'], {'total': 12345, 'currency': 'CNY'})
        self.assertEqual(order['description'], "物业费 2026-05 B1-01")
        self.assertEqual(order['notify_url'], NOTIFY_URL)

    def test_request_payment_params(self):
        "Test the paySign of wx.requestPayment verifies with the merchant key"
        client = self.client()
        prepay_id = self.prepay(client)

        params = client.request_payment_params(prepay_id)

        self.assertEqual(set(params), {
                'timeStamp', 'nonceStr', 'package', 'signType', 'paySign'})
        self.assertEqual(params['package'], f'prepay_id={prepay_id}')
        self.assertEqual(params['signType'], 'RSA')
        message = (f"{self.keys.appid}\n{params['timeStamp']}\n"
            f"{params['nonceStr']}\n{params['package']}\n").encode()
        self.keys.merchant_key.public_key().verify(
            base64.b64decode(params['paySign']), message,
            padding.PKCS1v15(), hashes.SHA256())

    def test_query_close(self):
        "Test query shows NOTPAY then CLOSED; a closed order cannot prepay"
        client = self.client()
        self.prepay(client)

        self.assertEqual(
            client.query('PB0001TEST')['trade_state'], 'NOTPAY')
        client.close('PB0001TEST')
        self.assertEqual(
            client.query('PB0001TEST')['trade_state'], 'CLOSED')
        with self.assertRaises(WeChatPayError) as cm:
            self.prepay(client)
        self.assertEqual(cm.exception.status, 400)
        self.assertEqual(cm.exception.code, 'ORDER_CLOSED')

    def test_query_paid(self):
        "Test query shows the transaction once the user paid"
        client = self.client()
        self.prepay(client)
        self.state.pay('PB0001TEST')

        transaction = client.query('PB0001TEST')

        self.assertEqual(transaction['trade_state'], 'SUCCESS')
        self.assertEqual(transaction['amount']['total'], 12345)
        self.assertTrue(transaction['transaction_id'])
        with self.assertRaises(WeChatPayError) as cm:
            client.query('PB-UNKNOWN')
        self.assertEqual(cm.exception.code, 'ORDER_NOT_EXIST')

    def test_refund(self):
        "Test a refund is accepted once per out_refund_no"
        client = self.client()
        self.prepay(client)
        self.state.pay('PB0001TEST')

        refund = client.refund('PB0001TEST', 'RF0001TEST', 345, 12345,
            reason="重复缴费")
        again = client.refund('PB0001TEST', 'RF0001TEST', 345, 12345)

        self.assertEqual(refund['status'], 'PROCESSING')
        self.assertEqual(again['refund_id'], refund['refund_id'])
        self.assertEqual(
            client.query_refund('RF0001TEST')['amount']['refund'], 345)
        self.assertEqual(self.state.refunds['RF0001TEST']['notify_url'],
            'https://pm.example.com/db/wechat/refund/notify')
        with self.assertRaises(WeChatPayError) as cm:
            client.refund('PB0001TEST', 'RF0002TEST', 12001, 12345)
        self.assertEqual(cm.exception.code, 'INVALID_REQUEST')

    def test_wrong_merchant_key(self):
        "Test WeChat Pay refuses a request signed with another key"
        client = self.client(
            merchant_key=self.keys.certificate_key)

        with self.assertRaises(WeChatPayError) as cm:
            self.prepay(client)
        self.assertEqual(cm.exception.status, 401)
        self.assertEqual(cm.exception.code, 'SIGN_ERROR')

    def test_forged_response(self):
        "Test an answer not signed by WeChat Pay is refused"
        keys = self.keys.platform_keys()
        # the client knows the platform certificate only, not the public key
        del keys[self.keys.platform_serial]
        client = self.client(platform_keys=keys)

        with self.assertRaises(SignatureError) as cm:
            self.prepay(client)
        self.assertEqual(cm.exception.reason, 'unknown_serial')

    def test_unreachable(self):
        "Test an unreachable WeChat Pay raises an error without status"
        from trytond.modules.property_community.tests.fake_wechat import (
            unreachable_url)
        client = self.client(base_url=unreachable_url())

        with self.assertRaises(WeChatPayError) as cm:
            self.prepay(client)
        self.assertIsNone(cm.exception.status)

    def test_parse_notification(self):
        "Test a notification is verified and decrypted"
        client = self.client()
        self.prepay(client)
        transaction = self.state.pay('PB0001TEST')

        for serial in [self.keys.platform_serial,
                self.keys.certificate_serial]:
            headers, body = self.state.notification(
                transaction, serial=serial)
            envelope = client.parse_notification(headers, body)
            self.assertEqual(envelope['event_type'], 'TRANSACTION.SUCCESS')
            self.assertEqual(envelope['resource'], transaction)

    def test_notification_refused(self):
        "Test forged, tampered, stale and unknown notifications are refused"
        client = self.client()
        self.prepay(client)
        transaction = self.state.pay('PB0001TEST')
        state = self.state

        def reason(headers, body):
            with self.assertRaises(SignatureError) as cm:
                client.parse_notification(headers, body)
            return cm.exception.reason

        headers, body = state.notification(transaction)
        self.assertEqual(reason(headers, body.replace(
                    b'"TRANSACTION.SUCCESS"', b'"TRANSACTION.SUCCESS" ')),
            'bad_signature')
        self.assertEqual(reason(*state.notification(
                    transaction, key=self.keys.merchant_key)),
            'bad_signature')
        self.assertEqual(reason(*state.notification(
                    transaction, signature='WECHATPAY/SIGNTEST/abc')),
            'bad_signature')
        self.assertEqual(reason(*state.notification(
                    transaction, timestamp=time.time() - 301)), 'stale')
        self.assertEqual(reason(*state.notification(
                    transaction, timestamp=time.time() + 301)), 'stale')
        self.assertEqual(reason(*state.notification(
                    transaction, serial='PUB_KEY_ID_UNKNOWN')),
            'unknown_serial')
        del headers['Wechatpay-Nonce']
        self.assertEqual(reason(headers, body), 'missing_header')

        other = self.client(apiv3_key='0' * 32)
        with self.assertRaises(SignatureError) as cm:
            other.parse_notification(*state.notification(transaction))
        self.assertEqual(cm.exception.reason, 'decrypt')

    def test_notification_within_window(self):
        "Test a notification 4 minutes old is accepted"
        client = self.client()
        self.prepay(client)
        transaction = self.state.pay('PB0001TEST')

        envelope = client.parse_notification(*self.state.notification(
                transaction, timestamp=time.time() - 240))

        self.assertEqual(
            envelope['resource']['out_trade_no'], 'PB0001TEST')
        self.assertEqual(json.loads(json.dumps(envelope))['resource'][
                'amount']['total'], 12345)
