# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A small client of WeChat Pay API v3 for mini-program (JSAPI) payments.

Configured in the `[wechat_pay]` section of trytond.conf:

    [wechat_pay]
    mchid = 1900000109
    # defaults to [wechat] appid
    appid = wx0123456789abcdef
    merchant_serial = 3775B6A45ACD588826D15E583A95F5DD********
    # a path to apiclient_key.pem or the PEM text itself
    merchant_key = /etc/trytond/wechatpay/apiclient_key.pem
    apiv3_key = <32 characters>
    # WeChat Pay public keys (PUB_KEY_ID_...) or platform certificates by
    # serial: a JSON object of PEM texts or paths, and/or a directory of
    # <serial>.pem files
    platform_keys = {"PUB_KEY_ID_0114...": "/etc/trytond/wechatpay/pub.pem"}
    platform_keys_dir = /etc/trytond/wechatpay/platform
    pay_base_url = https://api.mch.weixin.qq.com
    notify_url = https://pm.example.com/<db>/wechat/pay/notify
    # defaults to notify_url with pay/notify replaced by refund/notify
    refund_notify_url = https://pm.example.com/<db>/wechat/refund/notify
    timeout = 10
    # lifetime of an order in seconds
    order_lifetime = 1800

The base URL is configurable so that tests and staging talk to a fake.
Amounts are integer fen (分) everywhere in this file.
"""
import base64
import datetime as dt
import json
import logging
import os
import secrets
import threading
import time
from decimal import ROUND_HALF_UP, Decimal

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import trytond.config as config

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com'
SCHEMA = 'WECHATPAY2-SHA256-RSA2048'
MAX_SKEW = 300
CHINA = dt.timezone(dt.timedelta(hours=8))


class WeChatPayError(Exception):
    "WeChat Pay refused a call or could not be reached (status None)"

    def __init__(self, status, code, message, detail=None):
        super().__init__(f'{status} {code}: {message}')
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail


class SignatureError(WeChatPayError):
    """A message that does not come from WeChat Pay

    reason: missing_header, bad_type, stale, unknown_serial, bad_signature
    or decrypt."""

    def __init__(self, reason):
        super().__init__(None, 'SIGNATURE', reason)
        self.reason = reason


def to_fen(amount):
    "Return a Decimal amount of yuan as integer fen"
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has more than 2 decimals")
    return int(fen.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def from_fen(fen):
    "Return integer fen as a Decimal amount of yuan with 2 decimals"
    return (Decimal(int(fen)) / 100).quantize(Decimal('0.01'))


def rfc3339(timestamp):
    "Return a naive UTC datetime as RFC 3339 in China time"
    return timestamp.replace(tzinfo=dt.timezone.utc).astimezone(
        CHINA).isoformat(timespec='seconds')


def parse_rfc3339(value):
    "Return an RFC 3339 text as a naive UTC datetime (or None)"
    if not value:
        return None
    try:
        timestamp = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=CHINA)
    return timestamp.astimezone(dt.timezone.utc).replace(tzinfo=None)


def _read_pem(value):
    "Return PEM bytes from the text itself or from a file path"
    value = value.strip()
    if value.startswith('-----BEGIN'):
        return value.encode('ascii')
    with open(value, 'rb') as file:
        return file.read()


def load_private_key(value):
    "Return the private key of a PEM text, a path or the key itself"
    if isinstance(value, str):
        value = _read_pem(value)
    if not isinstance(value, bytes):
        return value
    return serialization.load_pem_private_key(value, password=None)


def load_public_key(value):
    "Return the public key of a PEM public key or X.509 certificate"
    if isinstance(value, str):
        value = _read_pem(value)
    if not isinstance(value, bytes):
        return value
    if b'BEGIN CERTIFICATE' in value:
        return x509.load_pem_x509_certificate(value).public_key()
    return serialization.load_pem_public_key(value)


def platform_keys_from_config():
    keys = {}
    directory = config.get('wechat_pay', 'platform_keys_dir', default=None)
    if directory and os.path.isdir(directory):
        for name in sorted(os.listdir(directory)):
            if name.endswith('.pem'):
                keys[name[:-len('.pem')]] = os.path.join(directory, name)
    value = config.get('wechat_pay', 'platform_keys', default=None)
    if value:
        keys.update(json.loads(value))
    return keys


OPTIONS = [
    'mchid', 'appid', 'merchant_serial', 'merchant_key', 'apiv3_key',
    'platform_keys', 'platform_keys_dir', 'notify_url', 'refund_notify_url',
    'pay_base_url', 'timeout']
_clients = {}
_clients_lock = threading.Lock()


def client():
    "Return the client of the configuration, reused while it is unchanged"
    key = tuple(config.get('wechat_pay', o, default=None) for o in OPTIONS
        ) + (config.get('wechat', 'appid', default=None),)
    with _clients_lock:
        result = _clients.get(key)
    if result is None:
        result = WeChatPay()
        with _clients_lock:
            # Keys are parsed once; only the current configuration is kept
            _clients.clear()
            _clients[key] = result
    return result


def is_configured():
    return all(config.get('wechat_pay', name, default=None) for name in [
            'mchid', 'merchant_serial', 'merchant_key', 'apiv3_key'])


def simulation_enabled():
    """Whether payments may be simulated: only against a test WeChat Pay

    `[wechat_pay] simulation` is honoured only when the base URL is not
    WeChat Pay's own, so a production server can never pay a bill this way.
    """
    base_url = config.get('wechat_pay', 'pay_base_url', default=None)
    return (config.getboolean('wechat_pay', 'simulation', default=False)
        and bool(base_url)
        and base_url.rstrip('/') != DEFAULT_BASE_URL)


def simulate_user_payment(prepay_id):
    """Have the test WeChat Pay pay the order as its user would in WeChat

    The fake WeChat Pay then sends its signed payment notification.
    Return whether it accepted.
    """
    if not simulation_enabled():
        return False
    pay = client()
    try:
        response = httpx.post(
            f'{pay.base_url}/fake/pay/{prepay_id}', timeout=pay.timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


class WeChatPay:
    "Client of one merchant (mchid) paid from one mini-program (appid)"

    def __init__(self, mchid=None, appid=None, merchant_serial=None,
            merchant_key=None, apiv3_key=None, platform_keys=None,
            notify_url=None, refund_notify_url=None, base_url=None,
            timeout=None, max_skew=MAX_SKEW, transport=None):
        def get(name, value, default=None):
            if value is not None:
                return value
            return config.get('wechat_pay', name, default=default)
        self.mchid = get('mchid', mchid)
        self.appid = get('appid', appid) or config.get(
            'wechat', 'appid', default=None)
        self.merchant_serial = get('merchant_serial', merchant_serial)
        key = get('merchant_key', merchant_key)
        self.merchant_key = load_private_key(key) if key else None
        apiv3_key = get('apiv3_key', apiv3_key)
        self.apiv3_key = (apiv3_key.encode('ascii')
            if isinstance(apiv3_key, str) else apiv3_key)
        if platform_keys is None:
            platform_keys = platform_keys_from_config()
        self.platform_keys = {
            serial: load_public_key(k) for serial, k in platform_keys.items()}
        self.notify_url = get('notify_url', notify_url)
        self.refund_notify_url = get('refund_notify_url', refund_notify_url)
        if not self.refund_notify_url and self.notify_url:
            self.refund_notify_url = self.notify_url.replace(
                '/pay/notify', '/refund/notify')
        self.base_url = (get('pay_base_url', base_url)
            or DEFAULT_BASE_URL).rstrip('/')
        self.timeout = timeout or config.getfloat(
            'wechat_pay', 'timeout', default=10)
        self.max_skew = max_skew
        self.transport = transport

    # Signing and verification

    def sign(self, message):
        "Return base64 SHA256withRSA of message with the merchant key"
        if isinstance(message, str):
            message = message.encode('utf-8')
        signature = self.merchant_key.sign(
            message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode('ascii')

    def authorization(self, method, target, body=''):
        "Return the Authorization header of a request to target"
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        message = f'{method}\n{target}\n{timestamp}\n{nonce}\n{body}\n'
        return (f'{SCHEMA} mchid="{self.mchid}",nonce_str="{nonce}",'
            f'signature="{self.sign(message)}",timestamp="{timestamp}",'
            f'serial_no="{self.merchant_serial}"')

    def verify(self, headers, body):
        "Check that headers and body were signed by WeChat Pay"
        def header(name):
            value = headers.get(name)
            if not value:
                raise SignatureError('missing_header')
            return value.strip()
        timestamp = header('Wechatpay-Timestamp')
        nonce = header('Wechatpay-Nonce')
        signature = header('Wechatpay-Signature')
        serial = header('Wechatpay-Serial')
        kind = headers.get('Wechatpay-Signature-Type')
        if kind and kind != SCHEMA:
            raise SignatureError('bad_type')
        try:
            skew = abs(time.time() - int(timestamp))
        except ValueError:
            raise SignatureError('stale')
        if skew > self.max_skew:
            raise SignatureError('stale')
        key = self.platform_keys.get(serial)
        if key is None:
            raise SignatureError('unknown_serial')
        # WeChat's probes (WECHATPAY/SIGNTEST/...) fail here as they must
        try:
            key.verify(base64.b64decode(signature, validate=True),
                f'{timestamp}\n{nonce}\n'.encode('utf-8') + body + b'\n',
                padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            raise SignatureError('bad_signature')

    def decrypt(self, resource):
        "Return the JSON of an AEAD_AES_256_GCM resource"
        try:
            if resource.get('algorithm') != 'AEAD_AES_256_GCM':
                raise ValueError(resource.get('algorithm'))
            plain = AESGCM(self.apiv3_key).decrypt(
                resource['nonce'].encode('utf-8'),
                base64.b64decode(resource['ciphertext']),
                (resource.get('associated_data') or '').encode('utf-8'))
            return json.loads(plain)
        except (InvalidTag, KeyError, TypeError, ValueError, AttributeError):
            raise SignatureError('decrypt')

    def parse_notification(self, headers, body):
        """Return the notification envelope with its resource decrypted

        body is the raw request body: verifying a re-serialized JSON fails.
        """
        self.verify(headers, body)
        try:
            envelope = json.loads(body)
            resource = envelope['resource']
        except (ValueError, KeyError, TypeError):
            raise SignatureError('decrypt')
        envelope['resource'] = self.decrypt(resource)
        return envelope

    # Calls

    def request(self, method, path, payload=None, params=None):
        "Call WeChat Pay and return its verified JSON answer (None on 204)"
        target = path
        if params:
            target += '?' + '&'.join(f'{k}={v}' for k, v in params.items())
        body = ''
        if payload is not None:
            # Sign exactly the bytes that are sent
            body = json.dumps(
                payload, ensure_ascii=False, separators=(',', ':'))
        headers = {
            'Authorization': self.authorization(method, target, body),
            'Accept': 'application/json',
            'User-Agent': 'property-platform',
            }
        if payload is not None:
            headers['Content-Type'] = 'application/json'
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout,
                    transport=self.transport) as client:
                response = client.request(method, target,
                    content=body.encode('utf-8') if body else None,
                    headers=headers)
        except httpx.HTTPError as exception:
            logger.warning("WeChat Pay %s %s failed: %s", method, path,
                type(exception).__name__)
            raise WeChatPayError(None, 'UNREACHABLE', str(exception))
        if not response.is_success:
            try:
                data = response.json()
            except ValueError:
                data = {}
            if not isinstance(data, dict):
                data = {}
            code = str(data.get('code') or 'HTTP_%s' % response.status_code)
            logger.info("WeChat Pay %s %s answered %s %s", method, path,
                response.status_code, code)
            raise WeChatPayError(response.status_code, code,
                str(data.get('message', ''))[:500], data.get('detail'))
        self.verify(response.headers, response.content)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise WeChatPayError(response.status_code, 'BAD_RESPONSE',
                "not JSON")

    def jsapi_prepay(self, out_trade_no, description, total, openid,
            attach=None, time_expire=None):
        "Create a JSAPI order of total fen and return its prepay_id"
        payload = {
            'appid': self.appid,
            'mchid': self.mchid,
            'description': description[:127],
            'out_trade_no': out_trade_no,
            'notify_url': self.notify_url,
            'amount': {'total': int(total), 'currency': 'CNY'},
            'payer': {'openid': openid},
            }
        if attach:
            payload['attach'] = attach[:128]
        if time_expire:
            payload['time_expire'] = rfc3339(time_expire)
        data = self.request('POST', '/v3/pay/transactions/jsapi', payload)
        if not data.get('prepay_id'):
            raise WeChatPayError(200, 'BAD_RESPONSE', "no prepay_id")
        return data['prepay_id']

    def request_payment_params(self, prepay_id):
        "Return the parameters of wx.requestPayment for prepay_id"
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        package = f'prepay_id={prepay_id}'
        return {
            'timeStamp': timestamp,
            'nonceStr': nonce,
            'package': package,
            'signType': 'RSA',
            'paySign': self.sign(
                f'{self.appid}\n{timestamp}\n{nonce}\n{package}\n'),
            }

    def query(self, out_trade_no):
        "Return the transaction of out_trade_no"
        return self.request('GET',
            f'/v3/pay/transactions/out-trade-no/{out_trade_no}',
            params={'mchid': self.mchid})

    def close(self, out_trade_no):
        self.request('POST',
            f'/v3/pay/transactions/out-trade-no/{out_trade_no}/close',
            {'mchid': self.mchid})

    def refund(self, out_trade_no, out_refund_no, refund, total,
            reason=None):
        "Ask to refund refund fen of the total fen of out_trade_no"
        payload = {
            'out_trade_no': out_trade_no,
            'out_refund_no': out_refund_no,
            'notify_url': self.refund_notify_url,
            'amount': {
                'refund': int(refund),
                'total': int(total),
                'currency': 'CNY',
                },
            }
        if reason:
            payload['reason'] = reason[:80]
        return self.request('POST', '/v3/refund/domestic/refunds', payload)

    def query_refund(self, out_refund_no):
        return self.request('GET',
            f'/v3/refund/domestic/refunds/{out_refund_no}')
