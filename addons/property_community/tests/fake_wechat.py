# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A fake WeChat server speaking the real protocol on loopback.

Tests register what WeChat would know (codes, subscriptions) in the
server's `state` and point `[wechat] api_base_url` at `server.base_url`:

    server = start()
    code = server.state.add_login_code('openid-1')
    ...
    stop(server)

Other integrations extend it: add state to a `FakeWeChatState` subclass
and handlers with `@route(method, path_regex)` (the groups of the regex
are passed to the handler).
"""
import json
import re
import secrets
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ['FakeWeChatState', 'FakeWeChatServer', 'FakeRequest', 'route',
    'start', 'stop', 'unreachable_url', 'ROUTES']

APPID = 'wx-fake-app'
SECRET = 'fake-secret'
TOKEN_LIFETIME = 7200

ROUTES = []


def route(method, pattern):
    "Register handler(state, request, *groups) -> (status, body[, headers])"
    def decorator(func):
        ROUTES.append((method, re.compile(pattern), func))
        return func
    return decorator


class FakeRequest:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body

    def json(self):
        try:
            return json.loads(self.body.decode('utf-8') or 'null')
        except (ValueError, UnicodeDecodeError):
            return None


class FakeWeChatState:
    "What the fake WeChat knows; all methods are thread-safe"

    def __init__(self, appid=APPID, secret=SECRET):
        self.lock = threading.RLock()
        self.appid = appid
        self.apps = {appid: secret}
        self.login_codes = {}
        self.phone_codes = {}
        self.used_codes = set()
        self.tokens = {}
        self.token_fetches = 0
        self.templates = set()
        self.quota = {}
        self.sent = []
        self.requests = []

    def _code(self):
        return secrets.token_hex(16)

    def add_login_code(self, openid, unionid=None, appid=None):
        "Return a wx.login code of openid, usable once"
        code = self._code()
        with self.lock:
            self.login_codes[code] = {
                'appid': appid or self.appid,
                'openid': openid,
                'unionid': unionid,
                }
        return code

    def add_phone_code(self, phone, country_code='86', openid=None,
            appid=None):
        "Return a getPhoneNumber code for phone, usable once"
        code = self._code()
        with self.lock:
            self.phone_codes[code] = {
                'appid': appid or self.appid,
                'openid': openid,
                'phone': phone,
                'country_code': country_code,
                }
        return code

    def current_token(self, appid=None):
        "Return the valid access token of appid, issuing one if needed"
        appid = appid or self.appid
        with self.lock:
            token, expires = self.tokens.get(appid, (None, 0))
            if not token or expires <= time.time():
                token = 'FAKE-TOKEN-' + secrets.token_urlsafe(48)
                expires = time.time() + TOKEN_LIFETIME
                self.tokens[appid] = (token, expires)
            return token, int(expires - time.time())

    def rotate_token(self, appid=None):
        "Invalidate the access token as if forced elsewhere"
        with self.lock:
            self.tokens.pop(appid or self.appid, None)

    def token_app(self, token):
        "Return (appid, errcode) for token: errcode 0 when valid"
        with self.lock:
            for appid, (current, expires) in self.tokens.items():
                if current == token:
                    if expires <= time.time():
                        return appid, 42001
                    return appid, 0
        return None, 40001

    def subscribe(self, openid, template_id, count=1):
        "Record that openid accepted template_id count times"
        with self.lock:
            self.templates.add(template_id)
            key = (openid, template_id)
            self.quota[key] = self.quota.get(key, 0) + count

    def use_code(self, codes, code):
        "Return the data of code and burn it, or None"
        with self.lock:
            if not code or code in self.used_codes or code not in codes:
                return None
            self.used_codes.add(code)
            return codes.pop(code)


def _error(errcode, errmsg):
    return 200, {'errcode': errcode, 'errmsg': errmsg}


def _check_app(state, appid, secret):
    if appid not in state.apps:
        return _error(40013, "invalid appid")
    if state.apps[appid] != secret:
        return _error(40125, "invalid appsecret")


def _check_token(state, request):
    token = request.query.get('access_token')
    if not token:
        return None, _error(41001, "access_token missing")
    appid, errcode = state.token_app(token)
    if errcode == 42001:
        return None, _error(42001, "access_token expired")
    if errcode:
        return None, _error(40001,
            "invalid credential, access_token is invalid or not latest")
    return appid, None


@route('GET', r'/sns/jscode2session')
def jscode2session(state, request):
    query = request.query
    if error := _check_app(state, query.get('appid'), query.get('secret')):
        return error
    if query.get('grant_type') != 'authorization_code':
        return _error(40002, "invalid grant_type")
    if not query.get('js_code'):
        return _error(41008, "missing code")
    data = state.use_code(state.login_codes, query['js_code'])
    if not data or data['appid'] != query['appid']:
        return _error(40029, "invalid code")
    result = {
        'session_key': secrets.token_urlsafe(16),
        'openid': data['openid'],
        }
    if data['unionid']:
        result['unionid'] = data['unionid']
    # The real server answers this call as text/plain
    return 200, result, {'Content-Type': 'text/plain'}


@route('POST', r'/cgi-bin/stable_token')
def stable_token(state, request):
    body = request.json() or {}
    if body.get('grant_type') != 'client_credential':
        return _error(40002, "invalid grant_type")
    if error := _check_app(state, body.get('appid'), body.get('secret')):
        return error
    if body.get('force_refresh'):
        state.rotate_token(body['appid'])
    with state.lock:
        state.token_fetches += 1
    token, expires_in = state.current_token(body['appid'])
    return 200, {'access_token': token, 'expires_in': expires_in}


@route('POST', r'/wxa/business/getuserphonenumber')
def getuserphonenumber(state, request):
    appid, error = _check_token(state, request)
    if error:
        return error
    body = request.json() or {}
    data = state.use_code(state.phone_codes, body.get('code'))
    if (not data or data['appid'] != appid
            or (body.get('openid') and data['openid']
                and body['openid'] != data['openid'])):
        return _error(40029, "invalid code")
    country = data['country_code']
    return 200, {
        'errcode': 0,
        'errmsg': 'ok',
        'phone_info': {
            'phoneNumber': (data['phone'] if country == '86'
                else f"+{country}{data['phone']}"),
            'purePhoneNumber': data['phone'],
            'countryCode': country,
            'watermark': {'timestamp': int(time.time()), 'appid': appid},
            },
        }


# The data checks of WeChat, by key prefix, for 47003
_SUBSCRIBE_LENGTHS = {
    'thing': 20, 'number': 32, 'letter': 32, 'symbol': 5,
    'character_string': 32, 'phone_number': 17, 'car_number': 8,
    'name': 20, 'phrase': 5, 'amount': 14, 'time': 40, 'date': 40,
    }


def _bad_subscribe_key(data):
    if not isinstance(data, dict) or not data:
        return 'data'
    for key, item in data.items():
        kind = re.sub(r'\d+$', '', key)
        value = item.get('value') if isinstance(item, dict) else None
        if (not isinstance(value, str) or not value
                or kind not in _SUBSCRIBE_LENGTHS
                or len(value) > _SUBSCRIBE_LENGTHS[kind]):
            return key


@route('POST', r'/cgi-bin/message/subscribe/send')
def subscribe_send(state, request):
    appid, error = _check_token(state, request)
    if error:
        return error
    body = request.json() or {}
    template_id = body.get('template_id')
    if template_id not in state.templates:
        return _error(40037, "invalid template_id")
    if not body.get('touser'):
        return _error(40003, "invalid openid")
    if body.get('miniprogram_state', 'formal') not in {
            'developer', 'trial', 'formal'}:
        return _error(47001, "data format error")
    if key := _bad_subscribe_key(body.get('data')):
        return _error(47003, f"argument invalid! data.{key}.value invalid")
    with state.lock:
        quota_key = (body['touser'], template_id)
        if state.quota.get(quota_key, 0) <= 0:
            return _error(43101, "user refuse to accept the msg")
        state.quota[quota_key] -= 1
        state.sent.append(body)
    return 200, {'errcode': 0, 'errmsg': 'ok'}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def _dispatch(self, method):
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        request = FakeRequest(method, parts.path,
            dict(urllib.parse.parse_qsl(parts.query)), self.headers, body)
        # the path and query exactly as sent (WeChat Pay signs them)
        request.target = self.path
        state = self.server.state
        with state.lock:
            state.requests.append((method, parts.path))
        for route_method, pattern, func in self.server.routes:
            if route_method != method:
                continue
            if match := pattern.fullmatch(parts.path):
                result = func(state, request, *match.groups())
                break
        else:
            # WeChat answers unknown paths (e.g. the wrong case) this way
            result = _error(40066, "invalid url")
        status, payload, *headers = result
        headers = headers[0] if headers else {}
        if payload is None:
            data = b''
        elif isinstance(payload, bytes):
            data = payload
        else:
            data = json.dumps(payload, ensure_ascii=False).encode('utf-8')
        self.send_response(status)
        headers = {'Content-Type': 'application/json; charset=utf-8',
            **headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._dispatch('GET')

    def do_POST(self):
        self._dispatch('POST')

    def do_PUT(self):
        self._dispatch('PUT')

    def do_DELETE(self):
        self._dispatch('DELETE')

    def log_message(self, format, *args):
        pass


class FakeWeChatServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state=None, routes=None):
        super().__init__(('127.0.0.1', 0), _Handler)
        self.state = state or FakeWeChatState()
        self.routes = routes if routes is not None else ROUTES
        self.thread = None

    @property
    def base_url(self):
        host, port = self.server_address[:2]
        return f'http://{host}:{port}'

    def start(self):
        self.thread = threading.Thread(
            target=self.serve_forever, name='fake-wechat', daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        if self.thread:
            self.thread.join(5)


def start(state=None):
    "Start a fake WeChat server on a free loopback port"
    return FakeWeChatServer(state).start()


def stop(server):
    server.stop()


def unreachable_url():
    "Return a loopback URL where nothing listens"
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}'
