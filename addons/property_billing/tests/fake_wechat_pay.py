# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A fake WeChat Pay (API v3) speaking the real protocol on loopback.

It extends the fake WeChat server of property_community: the routes below
join its route table and answer when the server's state is a
`FakePayState`.  The fake checks the Authorization of every call with the
merchant's public key (5 minutes window), signs every 2xx answer with the
platform key, and builds signed, AES-256-GCM encrypted notifications:

    keys = Keys()
    server = start(keys)
    config = keys.config(server.base_url, notify_url)  # [wechat_pay] options
    ...
    transaction = server.state.pay(out_trade_no)     # the user pays
    headers, body = server.state.notification(transaction)
    client.post(notify_path, data=body, headers=headers)

`POST /fake/pay/<prepay_id>` lets a browser test pay as the user would: the
order is paid and its notification is delivered to its notify_url.
"""
import base64
import datetime as dt
import json
import re
import secrets
import threading
import time

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from trytond.modules.property_community.tests import fake_wechat
from trytond.modules.property_community.tests.fake_wechat import (
    FakeWeChatServer, FakeWeChatState, route)

__all__ = ['Keys', 'FakePayState', 'start', 'MCHID', 'APPID']

SCHEMA = 'WECHATPAY2-SHA256-RSA2048'
MCHID = '1900000109'
APPID = fake_wechat.APPID
CHINA = dt.timezone(dt.timedelta(hours=8))
OUT_NO = re.compile(r'[0-9A-Za-z_\-|*]{6,32}')
_KEYS = {}


def _rsa():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode('ascii')


def _pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode('ascii')


def _certificate(key, serial):
    name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, 'Tenpay.com Root CA')])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int(serial, 16))
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM).decode(
        'ascii')


class Keys:
    """The merchant's key and the keys of WeChat Pay

    WeChat Pay signs with its public-key identity (PUB_KEY_ID_...) or with a
    platform certificate (hex serial) during the migration between both.
    """

    def __init__(self, mchid=MCHID, appid=APPID):
        # RSA key generation is slow: one set of keys per process
        if 'keys' not in _KEYS:
            _KEYS['keys'] = (_rsa(), _rsa(), _rsa())
        merchant, platform, certificate = _KEYS['keys']
        self.mchid = mchid
        self.appid = appid
        self.merchant_key = merchant
        self.merchant_serial = '5157F09EFDC096DE15EBE81A47057A72' + (
            secrets.token_hex(4).upper())
        self.platform_key = platform
        self.platform_serial = 'PUB_KEY_ID_0114232134912410000000' + (
            secrets.token_hex(3).upper())
        self.certificate_key = certificate
        # 40 hex digits of at most 159 bits, as X.509 wants
        self.certificate_serial = ('4' + secrets.token_hex(20)[1:]).upper()
        self.apiv3_key = secrets.token_hex(16)

    def platform_keys(self):
        return {
            self.platform_serial: _pem_public(self.platform_key),
            self.certificate_serial: _certificate(
                self.certificate_key, self.certificate_serial),
            }

    def signing_key(self, serial):
        return {
            self.platform_serial: self.platform_key,
            self.certificate_serial: self.certificate_key,
            }.get(serial, self.merchant_key)

    def config(self, base_url, notify_url):
        "Return the [wechat_pay] options of a client of this fake"
        return {
            'mchid': self.mchid,
            'appid': self.appid,
            'merchant_serial': self.merchant_serial,
            'merchant_key': _pem_private(self.merchant_key),
            'apiv3_key': self.apiv3_key,
            'platform_keys': json.dumps(self.platform_keys()),
            'pay_base_url': base_url,
            'notify_url': notify_url,
            }

    def client_kwargs(self, base_url, notify_url):
        "Return the keyword arguments of a WeChatPay client of this fake"
        config = self.config(base_url, notify_url)
        config['platform_keys'] = self.platform_keys()
        config['base_url'] = config.pop('pay_base_url')
        return config


def _sign(key, message):
    return base64.b64encode(key.sign(
            message, padding.PKCS1v15(), hashes.SHA256())).decode('ascii')


def now_rfc3339():
    return dt.datetime.now(CHINA).isoformat(timespec='seconds')


class FakePayState(FakeWeChatState):
    "What the fake WeChat Pay knows; all methods are thread-safe"

    def __init__(self, keys=None, **kwargs):
        super().__init__(**kwargs)
        self.keys = keys or Keys()
        self.orders = {}
        self.refunds = {}
        self.prepays = {}
        # the serial WeChat Pay signs with
        self.serial = self.keys.platform_serial
        # the status a refund gets when it is asked for
        self.refund_status = 'PROCESSING'
        self.delivered = []

    # Signing

    def signed_headers(self, body, timestamp=None, serial=None, nonce=None,
            key=None, signature=None):
        serial = serial or self.serial
        timestamp = str(int(timestamp if timestamp is not None
                else time.time()))
        nonce = nonce or secrets.token_hex(16)
        if signature is None:
            signature = _sign(key or self.keys.signing_key(serial),
                f'{timestamp}\n{nonce}\n'.encode('utf-8') + body + b'\n')
        return {
            'Wechatpay-Timestamp': timestamp,
            'Wechatpay-Nonce': nonce,
            'Wechatpay-Signature': signature,
            'Wechatpay-Serial': serial,
            'Wechatpay-Signature-Type': SCHEMA,
            }

    def encrypt(self, data, associated_data):
        nonce = secrets.token_urlsafe(9)[:12]
        ciphertext = AESGCM(self.keys.apiv3_key.encode('ascii')).encrypt(
            nonce.encode('ascii'),
            json.dumps(data, ensure_ascii=False).encode('utf-8'),
            associated_data.encode('ascii'))
        return {
            'original_type': associated_data,
            'algorithm': 'AEAD_AES_256_GCM',
            'ciphertext': base64.b64encode(ciphertext).decode('ascii'),
            'associated_data': associated_data,
            'nonce': nonce,
            }

    def notification(self, resource, event_type='TRANSACTION.SUCCESS',
            original_type='transaction', **sign):
        """Return (headers, body) of a signed, encrypted notification

        sign: timestamp, serial, nonce, key or signature of the headers.
        """
        envelope = {
            'id': 'EV-' + secrets.token_hex(10),
            'create_time': now_rfc3339(),
            'resource_type': 'encrypt-resource',
            'event_type': event_type,
            'summary': {
                'TRANSACTION.SUCCESS': '支付成功',
                'REFUND.SUCCESS': '退款成功',
                'REFUND.ABNORMAL': '退款异常',
                'REFUND.CLOSED': '退款关闭',
                }.get(event_type, ''),
            'resource': self.encrypt(resource, original_type),
            }
        body = json.dumps(envelope, ensure_ascii=False).encode('utf-8')
        return self.signed_headers(body, **sign), body

    def refund_notification(self, refund, **sign):
        return self.notification(self.refund_resource(refund),
            event_type=f"REFUND.{refund['status']}",
            original_type='refund', **sign)

    # Orders

    def transaction(self, order):
        "The transaction as WeChat Pay shows it (query and notification)"
        result = {
            'appid': order['appid'],
            'mchid': order['mchid'],
            'out_trade_no': order['out_trade_no'],
            'trade_type': 'JSAPI',
            'trade_state': order['trade_state'],
            'trade_state_desc': order['trade_state'],
            'attach': order.get('attach', ''),
            'payer': {'openid': order['payer']['openid']},
            'amount': {
                'total': order['amount']['total'],
                'currency': 'CNY',
                },
            }
        if order.get('transaction_id'):
            result.update({
                    'transaction_id': order['transaction_id'],
                    'bank_type': 'OTHERS',
                    'success_time': order['success_time'],
                    })
            result['amount'].update({
                    'payer_total': order['amount']['total'],
                    'payer_currency': 'CNY',
                    })
        return result

    def order(self, out_trade_no):
        with self.lock:
            return self.orders[out_trade_no]

    def pay(self, out_trade_no, total=None):
        """The user pays the order: return its transaction

        total: the amount WeChat reports, to fake a wrong amount.
        """
        with self.lock:
            order = self.orders[out_trade_no]
            if order['trade_state'] == 'NOTPAY':
                order['trade_state'] = 'SUCCESS'
                order['transaction_id'] = '4200' + ''.join(
                    secrets.choice('0123456789') for _ in range(24))
                order['success_time'] = now_rfc3339()
            transaction = self.transaction(order)
        if total is not None:
            transaction['amount']['total'] = total
            transaction['amount']['payer_total'] = total
        return transaction

    def expire(self, out_trade_no):
        "Let time_expire pass: WeChat closes the order on its side"
        with self.lock:
            order = self.orders[out_trade_no]
            if order['trade_state'] == 'NOTPAY':
                order['trade_state'] = 'CLOSED'

    def deliver(self, url, headers, body):
        "POST a notification to url as WeChat Pay does; return the status"
        response = httpx.post(url, content=body, headers={
                'Content-Type': 'application/json', **headers}, timeout=30)
        with self.lock:
            self.delivered.append((url, response.status_code))
        return response.status_code

    def pay_and_notify(self, out_trade_no):
        transaction = self.pay(out_trade_no)
        headers, body = self.notification(transaction)
        url = self.order(out_trade_no)['notify_url']
        return transaction, self.deliver(url, headers, body)

    # Refunds

    def refund_resource(self, refund):
        result = {
            'mchid': self.keys.mchid,
            'out_trade_no': refund['out_trade_no'],
            'transaction_id': refund['transaction_id'],
            'out_refund_no': refund['out_refund_no'],
            'refund_id': refund['refund_id'],
            'refund_status': refund['status'],
            'user_received_account': '支付用户零钱',
            'amount': {
                'total': refund['amount']['total'],
                'refund': refund['amount']['refund'],
                'payer_total': refund['amount']['total'],
                'payer_refund': refund['amount']['refund'],
                },
            }
        if refund.get('success_time'):
            result['success_time'] = refund['success_time']
        return result

    def finish_refund(self, out_refund_no, status='SUCCESS'):
        "The refund ends on WeChat's side: return it"
        with self.lock:
            refund = self.refunds[out_refund_no]
            refund['status'] = status
            if status == 'SUCCESS':
                refund['success_time'] = now_rfc3339()
            return dict(refund)


def _error(status, code, message):
    return status, {'code': code, 'message': message}


def _check_authorization(state, request):
    "Return None when the merchant signed the request, else an error"
    keys = state.keys
    scheme, _, values = request.headers.get('Authorization', '').partition(
        ' ')
    values = dict(re.findall(r'(\w+)="([^"]*)"', values))
    if scheme != SCHEMA or not all(k in values for k in [
                'mchid', 'nonce_str', 'signature', 'timestamp',
                'serial_no']):
        return _error(401, 'SIGN_ERROR', "Authorization missing")
    if values['mchid'] != keys.mchid:
        return _error(401, 'SIGN_ERROR', "mchid mismatch")
    if values['serial_no'] != keys.merchant_serial:
        return _error(401, 'SIGN_ERROR', "serial_no unknown")
    try:
        skew = abs(time.time() - int(values['timestamp']))
    except ValueError:
        skew = None
    if skew is None or skew > 300:
        return _error(401, 'SIGN_ERROR', "timestamp out of window")
    message = (f"{request.method}\n{request.target}\n{values['timestamp']}\n"
        f"{values['nonce_str']}\n").encode('utf-8') + request.body + b'\n'
    try:
        keys.merchant_key.public_key().verify(
            base64.b64decode(values['signature']), message,
            padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return _error(401, 'SIGN_ERROR', "signature invalid")


def _signed(state, status, payload):
    body = b'' if payload is None else json.dumps(
        payload, ensure_ascii=False).encode('utf-8')
    return status, body, state.signed_headers(body)


def pay_route(method, pattern):
    "A route of the fake WeChat Pay: checks the state and the Authorization"
    def decorator(func):
        def handler(state, request, *groups):
            if not isinstance(state, FakePayState):
                return _error(404, 'NOT_FOUND', "no WeChat Pay")
            if error := _check_authorization(state, request):
                return error
            return func(state, request, *groups)
        route(method, pattern)(handler)
        return func
    return decorator


@pay_route('POST', r'/v3/pay/transactions/jsapi')
def jsapi(state, request):
    body = request.json()
    keys = state.keys
    if not isinstance(body, dict):
        return _error(400, 'PARAM_ERROR', "body")
    amount = body.get('amount') or {}
    total = amount.get('total')
    if (body.get('appid') != keys.appid or body.get('mchid') != keys.mchid):
        return _error(400, 'PARAM_ERROR', "appid and mchid do not match")
    if not OUT_NO.fullmatch(str(body.get('out_trade_no', ''))):
        return _error(400, 'PARAM_ERROR', "out_trade_no")
    if (not isinstance(total, int) or isinstance(total, bool) or total <= 0
            or amount.get('currency', 'CNY') != 'CNY'):
        return _error(400, 'PARAM_ERROR', "amount.total")
    if not (body.get('payer') or {}).get('openid'):
        return _error(400, 'PARAM_ERROR', "payer.openid")
    if not body.get('notify_url') or '?' in body['notify_url']:
        return _error(400, 'PARAM_ERROR', "notify_url")
    if not body.get('description'):
        return _error(400, 'PARAM_ERROR', "description")
    with state.lock:
        order = state.orders.get(body['out_trade_no'])
        if order:
            if order['trade_state'] == 'SUCCESS':
                return _error(400, 'ORDERPAID', "该订单已支付")
            if order['trade_state'] == 'CLOSED':
                return _error(400, 'ORDER_CLOSED', "该订单已关闭")
            if order['request'] != body:
                return _error(400, 'INVALID_REQUEST', "参数与首次请求时不一致")
            return _signed(state, 200, {'prepay_id': order['prepay_id']})
        prepay_id = 'wx' + secrets.token_hex(16)
        state.orders[body['out_trade_no']] = {
            **body,
            'request': body,
            'prepay_id': prepay_id,
            'trade_state': 'NOTPAY',
            'created': time.time(),
            }
        state.prepays[prepay_id] = body['out_trade_no']
    return _signed(state, 200, {'prepay_id': prepay_id})


@pay_route('GET', r'/v3/pay/transactions/out-trade-no/([^/]+)')
def query(state, request, out_trade_no):
    if request.query.get('mchid') != state.keys.mchid:
        return _error(400, 'PARAM_ERROR', "mchid")
    with state.lock:
        order = state.orders.get(out_trade_no)
        if not order:
            return _error(404, 'ORDER_NOT_EXIST', "订单不存在")
        return _signed(state, 200, state.transaction(order))


@pay_route('POST', r'/v3/pay/transactions/out-trade-no/([^/]+)/close')
def close(state, request, out_trade_no):
    if (request.json() or {}).get('mchid') != state.keys.mchid:
        return _error(400, 'PARAM_ERROR', "mchid")
    with state.lock:
        order = state.orders.get(out_trade_no)
        if not order:
            return _error(404, 'ORDER_NOT_EXIST', "订单不存在")
        if order['trade_state'] == 'SUCCESS':
            return _error(400, 'ORDERPAID', "该订单已支付")
        order['trade_state'] = 'CLOSED'
    return _signed(state, 204, None)


@pay_route('POST', r'/v3/refund/domestic/refunds')
def refund(state, request):
    body = request.json() or {}
    amount = body.get('amount') or {}
    if not OUT_NO.fullmatch(str(body.get('out_refund_no', ''))):
        return _error(400, 'PARAM_ERROR', "out_refund_no")
    with state.lock:
        order = state.orders.get(body.get('out_trade_no'))
        if not order or not order.get('transaction_id'):
            return _error(404, 'RESOURCE_NOT_EXISTS', "订单不存在")
        existing = state.refunds.get(body['out_refund_no'])
        if existing:
            # the same out_refund_no refunds only once
            return _signed(state, 200, _refund_answer(existing))
        if amount.get('total') != order['amount']['total']:
            return _error(400, 'PARAM_ERROR', "amount.total")
        refunded = sum(r['amount']['refund'] for r in state.refunds.values()
            if r['out_trade_no'] == order['out_trade_no']
            and r['status'] != 'CLOSED')
        value = amount.get('refund')
        if (not isinstance(value, int) or value <= 0
                or refunded + value > order['amount']['total']):
            return _error(400, 'INVALID_REQUEST', "退款金额超过订单可退金额")
        refund = {
            'out_refund_no': body['out_refund_no'],
            'out_trade_no': order['out_trade_no'],
            'transaction_id': order['transaction_id'],
            'refund_id': '5030' + secrets.token_hex(12),
            'notify_url': body.get('notify_url'),
            'reason': body.get('reason'),
            'status': state.refund_status,
            'create_time': now_rfc3339(),
            'amount': {'refund': value, 'total': amount['total']},
            }
        if refund['status'] == 'SUCCESS':
            refund['success_time'] = now_rfc3339()
        state.refunds[refund['out_refund_no']] = refund
        return _signed(state, 200, _refund_answer(refund))


def _refund_answer(refund):
    answer = {
        'refund_id': refund['refund_id'],
        'out_refund_no': refund['out_refund_no'],
        'transaction_id': refund['transaction_id'],
        'out_trade_no': refund['out_trade_no'],
        'channel': 'ORIGINAL',
        'user_received_account': '支付用户零钱',
        'create_time': refund['create_time'],
        'status': refund['status'],
        'amount': {
            'total': refund['amount']['total'],
            'refund': refund['amount']['refund'],
            'payer_total': refund['amount']['total'],
            'payer_refund': refund['amount']['refund'],
            'currency': 'CNY',
            },
        }
    if refund.get('success_time'):
        answer['success_time'] = refund['success_time']
    return answer


@pay_route('GET', r'/v3/refund/domestic/refunds/([^/]+)')
def query_refund(state, request, out_refund_no):
    with state.lock:
        refund = state.refunds.get(out_refund_no)
        if not refund:
            return _error(404, 'RESOURCE_NOT_EXISTS', "退款单不存在")
        return _signed(state, 200, _refund_answer(refund))


@route('POST', r'/fake/pay/([0-9A-Za-z]+)')
def simulate_payment(state, request, prepay_id):
    "The user confirms wx.requestPayment: pay and notify (browser tests)"
    if not isinstance(state, FakePayState):
        return _error(404, 'NOT_FOUND', "no WeChat Pay")
    with state.lock:
        out_trade_no = state.prepays.get(prepay_id)
    if not out_trade_no:
        return _error(404, 'ORDER_NOT_EXIST', "prepay_id")
    # Delivered from another thread: the server under test may be single
    # threaded and waiting for this answer
    transaction = state.pay(out_trade_no)
    headers, body = state.notification(transaction)
    url = state.order(out_trade_no)['notify_url']
    threading.Thread(target=state.deliver, args=(url, headers, body),
        daemon=True).start()
    return 200, {'trade_state': 'SUCCESS', 'out_trade_no': out_trade_no}


def start(keys=None):
    "Start a fake WeChat (and WeChat Pay) server on a free loopback port"
    return FakeWeChatServer(FakePayState(keys)).start()
