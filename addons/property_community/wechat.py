# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A small client of the WeChat mini-program server API.

Configured in the `[wechat]` section of trytond.conf:

    [wechat]
    appid = wx0123456789abcdef
    secret = ...
    api_base_url = https://api.weixin.qq.com
    timeout = 10

The base URL is configurable so that tests and staging talk to a fake.
"""
import dataclasses
import json
import logging
import re
import threading
import time

import httpx

import trytond.config as config
from trytond.i18n import gettext

from .exceptions import WeChatCodeError, WeChatError

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = 'https://api.weixin.qq.com'
# Refresh the access token this many seconds before WeChat expires it
TOKEN_MARGIN = 300
# Answers that mean the access token is no longer valid
TOKEN_ERRORS = {40001, 42001, 40014}
# Answers that mean the code given by the mini-program is not usable
CODE_ERRORS = {40029, 40163, 40226}
SUBSCRIBE_STATES = {'developer', 'trial', 'formal'}
SUBSCRIBE_LANGUAGES = {'zh_CN', 'en_US', 'zh_HK', 'zh_TW'}


@dataclasses.dataclass(frozen=True)
class Login:
    "The identity WeChat returns for a wx.login code"
    openid: str
    unionid: str | None = None
    # Only for legacy encryptedData; never sent to the mini-program
    session_key: str | None = dataclasses.field(default=None, repr=False)


class WeChat:
    "Client of one mini-program (appid) of the WeChat server API"
    _tokens = {}
    _tokens_lock = threading.Lock()

    def __init__(self, appid=None, secret=None, base_url=None, timeout=None):
        self.appid = appid or config.get('wechat', 'appid', default=None)
        self.secret = secret or config.get('wechat', 'secret', default=None)
        self.base_url = (base_url or config.get(
                'wechat', 'api_base_url', default=None)
            or DEFAULT_BASE_URL).rstrip('/')
        self.timeout = timeout or config.getfloat(
            'wechat', 'timeout', default=10)

    def _check_configured(self):
        if not self.appid or not self.secret:
            raise WeChatError(gettext(
                    'property_community.msg_wechat_not_configured'))

    def _request(self, method, path, params=None, payload=None):
        "Call WeChat and return its JSON answer, raising on any errcode"
        self._check_configured()
        try:
            with httpx.Client(
                    base_url=self.base_url, timeout=self.timeout) as client:
                if payload is not None:
                    response = client.request(method, path, params=params,
                        content=json.dumps(payload, ensure_ascii=False
                            ).encode('utf-8'),
                        headers={'Content-Type': 'application/json'})
                else:
                    response = client.request(method, path, params=params)
            response.raise_for_status()
            # WeChat answers some calls as text/plain: parse the body anyway
            data = json.loads(response.content)
        except (httpx.HTTPError, ValueError) as exception:
            logger.warning("WeChat %s %s failed: %s", method, path,
                type(exception).__name__)
            raise WeChatError(gettext(
                    'property_community.msg_wechat_unavailable'))
        if not isinstance(data, dict):
            raise WeChatError(gettext(
                    'property_community.msg_wechat_unavailable'))
        errcode = data.get('errcode') or 0
        if errcode:
            errmsg = str(data.get('errmsg', ''))[:200]
            logger.info("WeChat %s answered %s %s", path, errcode, errmsg)
            raise WeChatError(gettext(
                    'property_community.msg_wechat_error',
                    errcode=errcode), errmsg, errcode=errcode)
        return data

    def code2session(self, js_code):
        "Return the Login of the code from wx.login"
        try:
            data = self._request('GET', '/sns/jscode2session', params={
                    'appid': self.appid,
                    'secret': self.secret,
                    'js_code': js_code,
                    'grant_type': 'authorization_code',
                    })
        except WeChatError as exception:
            if exception.errcode in CODE_ERRORS:
                raise WeChatCodeError(gettext(
                        'property_community.msg_wechat_code_invalid'),
                    exception.description, errcode=exception.errcode)
            raise
        if not data.get('openid'):
            raise WeChatError(gettext(
                    'property_community.msg_wechat_unavailable'))
        return Login(
            openid=data['openid'],
            unionid=data.get('unionid') or None,
            session_key=data.get('session_key'))

    @property
    def _token_key(self):
        return (self.base_url, self.appid)

    def access_token(self):
        "Return the stable access token, from the cache while it is fresh"
        with self._tokens_lock:
            token, expires = self._tokens.get(self._token_key, (None, 0))
            if token and time.monotonic() < expires:
                return token
        data = self._request('POST', '/cgi-bin/stable_token', payload={
                'grant_type': 'client_credential',
                'appid': self.appid,
                'secret': self.secret,
                # Forcing invalidates the token of the other workers
                'force_refresh': False,
                })
        token = data.get('access_token')
        if not token:
            raise WeChatError(gettext(
                    'property_community.msg_wechat_unavailable'))
        expires_in = int(data.get('expires_in') or 0)
        with self._tokens_lock:
            self._tokens[self._token_key] = (
                token, time.monotonic() + expires_in - TOKEN_MARGIN)
        return token

    def drop_access_token(self, token=None):
        "Forget the cached access token (only if it is still token)"
        with self._tokens_lock:
            cached, _ = self._tokens.get(self._token_key, (None, 0))
            if token is None or cached == token:
                self._tokens.pop(self._token_key, None)

    def _post_with_token(self, path, payload):
        "POST payload with the access token, refreshed once if it is stale"
        for retry in (True, False):
            token = self.access_token()
            try:
                return self._request('POST', path,
                    params={'access_token': token}, payload=payload)
            except WeChatError as exception:
                if exception.errcode in TOKEN_ERRORS:
                    self.drop_access_token(token)
                    if retry:
                        continue
                raise

    def phone_number(self, code, openid=None):
        "Return phone_info for the code of a getPhoneNumber button"
        payload = {'code': code}
        if openid:
            payload['openid'] = openid
        try:
            data = self._post_with_token(
                '/wxa/business/getuserphonenumber', payload)
        except WeChatError as exception:
            if exception.errcode in CODE_ERRORS:
                raise WeChatCodeError(gettext(
                        'property_community.msg_wechat_code_invalid'),
                    exception.description, errcode=exception.errcode)
            raise
        info = data.get('phone_info') or {}
        watermark = info.get('watermark') or {}
        if watermark.get('appid') != self.appid:
            logger.warning("WeChat phone number for another appid")
            raise WeChatError(gettext(
                    'property_community.msg_wechat_phone_other_app'))
        if not info.get('purePhoneNumber'):
            raise WeChatError(gettext(
                    'property_community.msg_wechat_unavailable'))
        return info

    def send_subscribe(self, touser, template_id, data, page=None,
            state='formal', lang='zh_CN'):
        """Send a subscribe message

        data maps template keys (thing1, amount2, ...) to their values or to
        {'value': value}. Raise WeChatError with errcode 43101 when the user
        has no subscription left and 47003 when WeChat refuses the data.
        """
        if state not in SUBSCRIBE_STATES:
            raise ValueError(state)
        if lang not in SUBSCRIBE_LANGUAGES:
            raise ValueError(lang)
        payload = {
            'touser': touser,
            'template_id': template_id,
            'miniprogram_state': state,
            'lang': lang,
            'data': subscribe_data(data),
            }
        if page:
            payload['page'] = page
        return self._post_with_token(
            '/cgi-bin/message/subscribe/send', payload)


# Value rules of subscribe message keys, by the prefix of the key
_TIME_POINT = (
    r'(?:\d{4}(?:年\d{1,2}月\d{1,2}日|-\d{1,2}-\d{1,2}|/\d{1,2}/\d{1,2})'
    r'(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?'
    r'|\d{1,2}:\d{2}(?::\d{2})?)')
_TIME = re.compile(rf'{_TIME_POINT}(?:\s*~\s*{_TIME_POINT})?')
_CJK = re.compile(r'[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]')
SUBSCRIBE_RULES = {
    'thing': lambda v: len(v) <= 20,
    'number': lambda v: len(v) <= 32 and re.fullmatch(r'\d+(?:\.\d+)?', v),
    'letter': lambda v: re.fullmatch(r'[A-Za-z]{1,32}', v),
    'symbol': lambda v: len(v) <= 5,
    'character_string': lambda v: re.fullmatch(r'[\x21-\x7e]{1,32}', v),
    'time': _TIME.fullmatch,
    'date': _TIME.fullmatch,
    'amount': lambda v: re.fullmatch(
        r'[¥￥$]?\d{1,10}(?:\.\d{1,2})?元?', v),
    'phone_number': lambda v: re.fullmatch(r'[\d+\-() ]{1,17}', v),
    'car_number': lambda v: len(v) <= 8,
    'name': lambda v: len(v) <= (10 if _CJK.search(v) else 20),
    'phrase': lambda v: re.fullmatch(
        r'[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{1,5}', v),
    }
# Free text is cut rather than refused
SUBSCRIBE_TRUNCATE = {'thing': 20}


def subscribe_data(data):
    "Return data in WeChat's shape, raising WeChatError on a bad value"
    result = {}
    for key, value in data.items():
        if isinstance(value, dict):
            value = value.get('value')
        match = re.fullmatch(r'([a-z_]+?)(\d+)', key)
        kind = match.group(1) if match else None
        if (not match or value is None or not str(value).strip()
                or kind not in SUBSCRIBE_RULES):
            raise WeChatError(gettext(
                    'property_community.msg_wechat_subscribe_data',
                    key=key), errcode=47003)
        value = str(value).strip()
        if kind in SUBSCRIBE_TRUNCATE:
            value = value[:SUBSCRIBE_TRUNCATE[kind]]
        if not SUBSCRIBE_RULES[kind](value):
            raise WeChatError(gettext(
                    'property_community.msg_wechat_subscribe_data',
                    key=key), errcode=47003)
        result[key] = {'value': value}
    return result
