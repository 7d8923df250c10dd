# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The mini-program API toolkit used by every module's routes.

A route is declared once with `endpoint`: the decorator registers it on
trytond's WSGI app and in the OpenAPI document, authenticates the bearer
session, checks the permission matrix, validates the JSON body and the query
against their schemas, runs the handler in a transaction and turns every
error into the one JSON error shape.
"""
import datetime as dt
import decimal
import json
import logging
import re
from functools import wraps
from http import HTTPStatus

from werkzeug.exceptions import HTTPException

import trytond.config as config
from trytond import backend
from trytond.cache import Cache
from trytond.exceptions import (
    RateLimitException, UserError, UserWarning)
from trytond.i18n import gettext
from trytond.model.exceptions import AccessError, ValidationError
from trytond.protocols.wrappers import (
    Response, with_pool, with_transaction)
from trytond.transaction import Transaction
from trytond.wsgi import app

logger = logging.getLogger(__name__)

API_PREFIX = '/<database_name>/api/v1'
DEFAULT_MAX_BODY = 64 * 1024
ALL_ROLES = frozenset({'guest', 'merchant', 'tenant', 'technician'})
CERTIFIED = frozenset({'merchant', 'tenant'})

# The front-end permission matrix (requirements, seed 4.1.2)
PERMISSIONS = {
    'content.read': ALL_ROLES,
    'leasing.read': ALL_ROLES,
    'visit.apply': ALL_ROLES,
    'profile': ALL_ROLES,
    'certification.submit': frozenset({'guest'}),
    'bill.pay': CERTIFIED,
    'repair.submit': CERTIFIED,
    'repair.take': frozenset({'technician'}),
    'technician.passage': frozenset({'technician'}),
    'visitor.invite': CERTIFIED,
    'lost_found': CERTIFIED | {'technician'},
    'complaint': CERTIFIED,
    }


def capabilities(role):
    return sorted(c for c, roles in PERMISSIONS.items() if role in roles)


class APIError(Exception):
    def __init__(self, status, code, message, field=None, headers=None):
        super().__init__(message)
        self.status = HTTPStatus(status)
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers or {}

    def response(self):
        return json_response({'error': {
                    'code': self.code,
                    'message': self.message,
                    'field': self.field,
                    }}, status=self.status, headers=self.headers)


def error(status, code, message_id, field=None, **variables):
    "Build an APIError with a translated message from message.xml"
    return APIError(status, code, gettext(message_id, **variables), field)


def _default(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f'{type(value)} is not JSON serializable')


def json_response(data, status=HTTPStatus.OK, headers=None):
    if status == HTTPStatus.NO_CONTENT:
        return Response(status=status, headers=headers)
    return Response(
        json.dumps(data, ensure_ascii=False, default=_default),
        status=status, headers=headers,
        content_type='application/json; charset=utf-8')


# Schemas: a small declarative validator that also writes the OpenAPI schema.

class Field:
    json_type = None

    def __init__(self, required=False, nullable=False, description=None):
        self.required = required
        self.nullable = nullable
        self.description = description

    def validate(self, value, name):
        if value is None:
            if self.nullable:
                return None
            raise _invalid(name, 'msg_api_field_null')
        return self._validate(value, name)

    def _validate(self, value, name):
        return value

    def schema(self):
        schema = {'type': self.json_type}
        if self.nullable:
            schema['type'] = [self.json_type, 'null']
        if self.description:
            schema['description'] = self.description
        return schema


def _invalid(name, message_id, **variables):
    return error(422, 'invalid', 'property_community.' + message_id,
        field=name, field_name=name, **variables)


class String(Field):
    json_type = 'string'

    def __init__(self, max_length=255, min_length=0, pattern=None,
            strip=True, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.pattern = re.compile(pattern) if pattern else None
        self.strip = strip

    def _validate(self, value, name):
        if not isinstance(value, str):
            raise _invalid(name, 'msg_api_field_type', type='string')
        if self.strip:
            value = value.strip()
        if '\x00' in value:
            raise _invalid(name, 'msg_api_field_type', type='string')
        if len(value) > self.max_length:
            raise _invalid(name, 'msg_api_field_too_long',
                max=self.max_length)
        if len(value) < self.min_length:
            raise _invalid(name, 'msg_api_field_too_short',
                min=self.min_length)
        if self.pattern and not self.pattern.fullmatch(value):
            raise _invalid(name, 'msg_api_field_format')
        return value

    def schema(self):
        schema = super().schema()
        schema['maxLength'] = self.max_length
        if self.min_length:
            schema['minLength'] = self.min_length
        if self.pattern:
            schema['pattern'] = self.pattern.pattern
        return schema


class Phone(String):
    "A mainland mobile number, 11 digits starting with 1"

    def __init__(self, **kwargs):
        super().__init__(max_length=11, min_length=11,
            pattern=r'1[3-9]\d{9}', **kwargs)


class Integer(Field):
    json_type = 'integer'

    def __init__(self, minimum=None, maximum=None, **kwargs):
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum

    def _validate(self, value, name):
        if isinstance(value, str) and getattr(self, '_from_query', False):
            if not re.fullmatch(r'-?\d{1,18}', value):
                raise _invalid(name, 'msg_api_field_type', type='integer')
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, 'msg_api_field_type', type='integer')
        if self.minimum is not None and value < self.minimum:
            raise _invalid(name, 'msg_api_field_range',
                min=self.minimum, max=self.maximum)
        if self.maximum is not None and value > self.maximum:
            raise _invalid(name, 'msg_api_field_range',
                min=self.minimum, max=self.maximum)
        return value

    def schema(self):
        schema = super().schema()
        if self.minimum is not None:
            schema['minimum'] = self.minimum
        if self.maximum is not None:
            schema['maximum'] = self.maximum
        return schema


ID = Integer  # record ids: Integer(minimum=1)


class Boolean(Field):
    json_type = 'boolean'

    def _validate(self, value, name):
        if getattr(self, '_from_query', False) and value in {'true', 'false'}:
            return value == 'true'
        if not isinstance(value, bool):
            raise _invalid(name, 'msg_api_field_type', type='boolean')
        return value


class DateTime(String):
    "An ISO 8601 date-time with its offset, returned as naive UTC"

    def __init__(self, **kwargs):
        super().__init__(max_length=40, **kwargs)

    def _validate(self, value, name):
        value = super()._validate(value, name)
        try:
            result = dt.datetime.fromisoformat(value)
        except ValueError:
            raise _invalid(name, 'msg_api_field_format')
        if result.tzinfo is None:
            # A local time would be read differently by each side
            raise _invalid(name, 'msg_api_field_format')
        return result.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def schema(self):
        schema = super().schema()
        schema.pop('maxLength', None)
        schema['format'] = 'date-time'
        return schema


class Enum(String):
    def __init__(self, values, **kwargs):
        super().__init__(max_length=max(len(v) for v in values), **kwargs)
        self.values = list(values)

    def _validate(self, value, name):
        value = super()._validate(value, name)
        if value not in self.values:
            raise _invalid(name, 'msg_api_field_choice',
                choices=', '.join(self.values))
        return value

    def schema(self):
        schema = super().schema()
        schema.pop('maxLength', None)
        schema['enum'] = self.values
        return schema


class Array(Field):
    json_type = 'array'

    def __init__(self, items, max_items=100, min_items=0, unique=False,
            **kwargs):
        super().__init__(**kwargs)
        self.items = items
        self.max_items = max_items
        self.min_items = min_items
        self.unique = unique

    def _validate(self, value, name):
        if not isinstance(value, list):
            raise _invalid(name, 'msg_api_field_type', type='array')
        if len(value) > self.max_items:
            raise _invalid(name, 'msg_api_field_too_many',
                max=self.max_items)
        if len(value) < self.min_items:
            raise _invalid(name, 'msg_api_field_too_few', min=self.min_items)
        result = [self.items.validate(v, f'{name}[{i}]')
            for i, v in enumerate(value)]
        if self.unique and len(set(map(repr, result))) != len(result):
            raise _invalid(name, 'msg_api_field_duplicate')
        return result

    def schema(self):
        schema = super().schema()
        schema['items'] = self.items.schema()
        schema['maxItems'] = self.max_items
        if self.min_items:
            schema['minItems'] = self.min_items
        if self.unique:
            schema['uniqueItems'] = True
        return schema


class Object(Field):
    json_type = 'object'

    def __init__(self, properties, **kwargs):
        super().__init__(**kwargs)
        self.properties = properties

    def _validate(self, value, name=None):
        if not isinstance(value, dict):
            raise _invalid(name or 'body', 'msg_api_field_type',
                type='object')
        prefix = f'{name}.' if name else ''
        for key in value:
            if key not in self.properties:
                raise _invalid(prefix + str(key)[:64], 'msg_api_field_unknown')
        result = {}
        for key, field in self.properties.items():
            if key in value:
                result[key] = field.validate(value[key], prefix + key)
            elif field.required:
                raise _invalid(prefix + key, 'msg_api_field_required')
        return result

    def schema(self):
        schema = super().schema()
        schema['properties'] = {
            k: f.schema() for k, f in self.properties.items()}
        required = [k for k, f in self.properties.items() if f.required]
        if required:
            schema['required'] = required
        schema['additionalProperties'] = False
        return schema


class Query(Object):
    "Query-string parameters: strings from the URL, converted by the fields"

    def __init__(self, properties, **kwargs):
        super().__init__(properties, **kwargs)
        for field in properties.values():
            field._from_query = True

    def parameters(self):
        return [{
                'name': k, 'in': 'query', 'required': f.required,
                'schema': f.schema(),
                } for k, f in self.properties.items()]


def pagination(max_limit=100, **extra):
    "Query schema with offset/limit plus extra parameters"
    return Query({
            'offset': Integer(minimum=0, maximum=10 ** 6),
            'limit': Integer(minimum=1, maximum=max_limit),
            **extra,
            })


def page(Model, domain, offset=0, limit=20, order=None, serialize=None,
        describe=None):
    """Search one page of Model and return the page envelope

    serialize turns a record into its JSON; describe turns the list of ids
    into the list of JSON items at once (e.g. with one query).
    """
    records = Model.search(domain, offset=offset, limit=limit, order=order)
    total = Model.search_count(domain)
    if describe:
        items = describe([r.id for r in records])
    elif serialize:
        items = [serialize(r) for r in records]
    else:
        items = records
    return {
        'items': items,
        'total': total,
        'offset': offset,
        'limit': limit,
        }


# OpenAPI registry

class OpenAPI:
    def __init__(self):
        self.operations = {}
        self.components = {
            'securitySchemes': {
                'session': {
                    'type': 'http', 'scheme': 'bearer',
                    'description': "Session token from a sign-in route",
                    },
                },
            'schemas': {
                'Error': {
                    'type': 'object',
                    'required': ['error'],
                    'properties': {'error': {
                            'type': 'object',
                            'required': ['code', 'message'],
                            'properties': {
                                'code': {'type': 'string'},
                                'message': {'type': 'string'},
                                'field': {'type': ['string', 'null']},
                                },
                            }},
                    },
                },
            'responses': {},
            }
        self.security_schemes = self.components['securitySchemes']
        for status, description in ERROR_STATUSES.items():
            self.components['responses'][str(status)] = {
                'description': description,
                'content': {'application/json': {
                        'schema': {'$ref': '#/components/schemas/Error'}}},
                }

    @staticmethod
    def path(rule):
        path = rule.replace(API_PREFIX, '')
        return re.sub(r'<(?:\w+:)?(\w+)>', r'{\1}', path)

    def add(self, rule, method, operation):
        self.operations.setdefault(self.path(rule), {})[
            method.lower()] = operation

    def document(self):
        return {
            'openapi': '3.1.0',
            'info': {
                'title': "Smart property platform mini-program API",
                'version': '1',
                },
            'servers': [{'url': './'}],
            'paths': self.operations,
            'components': self.components,
            }


ERROR_STATUSES = {
    400: "Malformed request",
    401: "Missing, invalid or expired session",
    403: "Not allowed for the account's role",
    404: "Not found",
    409: "Conflicts with the current state",
    413: "Request body too large",
    422: "Invalid input",
    429: "Too many requests",
    503: "Busy, retry after the given delay",
    }
openapi = OpenAPI()


def _read_json(request, schema, max_body):
    if request.content_length is not None and request.content_length > max_body:
        raise error(413, 'too_large',
            'property_community.msg_api_body_too_large', max=max_body)
    data = request.get_data(cache=True)
    if len(data) > max_body:
        raise error(413, 'too_large',
            'property_community.msg_api_body_too_large', max=max_body)
    if schema is None:
        return None
    if not data:
        body = {}
    else:
        mimetype = request.mimetype or ''
        if mimetype != 'application/json':
            raise error(400, 'bad_request',
                'property_community.msg_api_content_type')
        try:
            body = json.loads(data.decode('utf-8'),
                parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise error(400, 'bad_request',
                'property_community.msg_api_malformed_json')
    return schema.validate(body, None)


def _reject_constant(value):
    raise ValueError(value)


def _bearer(request):
    header = request.headers.get('Authorization', '')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'bearer' or not token.strip():
        return None
    return token.strip()


def authenticate(request, pool, permission):
    Session = pool.get('web.user.api_session')
    User = pool.get('web.user')
    token = _bearer(request)
    found = Session.authenticate(token) if token else None
    if not found:
        raise error(401, 'unauthenticated',
            'property_community.msg_api_unauthenticated')
    session_id, user_id, role = found
    if permission and role not in PERMISSIONS[permission]:
        raise error(403, 'forbidden',
            'property_community.msg_api_forbidden')
    return Session(session_id), User(user_id)


_company_cache = Cache('property_community.api_company', context=False)


def api_company(pool):
    """The company whose date and time zone the API uses

    The only company of the database, or [property] company when there are
    several.
    """
    company_id = _company_cache.get(pool.database_name, -1)
    if company_id == -1:
        company_id = config.getint('property', 'company', default=None)
        if company_id is None:
            Company = pool.get('company.company')
            companies = Company.search([], limit=2)
            company_id = companies[0].id if len(companies) == 1 else None
        _company_cache.set(pool.database_name, company_id)
    return company_id


def _language(request):
    accept = request.headers.get('Accept-Language', '')
    if accept[:2].lower() == 'en':
        return 'en'
    return 'zh_CN'


def _user_error_response(exception):
    if isinstance(exception, AccessError):
        status, code = 403, 'forbidden'
    elif isinstance(exception, ValidationError):
        status, code = 422, 'invalid'
    else:
        status, code = 409, 'conflict'
    return APIError(status, code, exception.message).response()


def endpoint(rule, methods=('GET',), *, permission='profile', body=None,
        query=None, response=None, summary='', tags=(), status=200,
        max_body=DEFAULT_MAX_BODY, readonly=None, public=False, raw=False,
        security=None, errors=(), operation_id=None):
    """Declare an API route.

    permission: a key of PERMISSIONS the session's role must have, or None
    with public=True for routes without a session.
    body / query: Object / Query schemas; the validated data is passed to
    the handler as `body` and `query` keyword arguments.
    raw: the handler reads request itself (no JSON parsing of the body).
    """
    if not public:
        assert permission in PERMISSIONS, permission
    full_rule = API_PREFIX + rule if not rule.startswith('/<') else rule

    def decorator(func):
        for method in methods:
            op_errors = set(errors) | {400, 422, 503}
            operation = {
                'operationId': operation_id or (
                    func.__name__ if len(methods) == 1
                    else f'{func.__name__}_{method.lower()}'),
                'summary': summary or (func.__doc__ or '').strip(),
                'tags': list(tags),
                }
            if public:
                operation['security'] = security if security is not None else []
            else:
                operation['security'] = [{'session': []}]
                op_errors |= {401, 403}
                operation['x-permission'] = permission
                operation['x-roles'] = sorted(PERMISSIONS[permission])
            if body is not None:
                operation['requestBody'] = {
                    'required': any(f.required
                        for f in body.properties.values()),
                    'content': {'application/json': {
                            'schema': body.schema()}},
                    }
                op_errors |= {413}
            elif raw:
                op_errors |= {413}
            parameters = [{
                    'name': name, 'in': 'path', 'required': True,
                    'schema': {'type': 'integer'
                        if conv == 'int' else 'string'},
                    } for conv, name in re.findall(
                    r'<(?:(\w+):)?(\w+)>', full_rule)
                if name != 'database_name']
            if query is not None:
                parameters += query.parameters()
            if parameters:
                operation['parameters'] = parameters
            responses = {str(status): {
                    'description': HTTPStatus(status).phrase}}
            if response is not None and status != 204:
                responses[str(status)]['content'] = {
                    'application/json': {'schema': response}}
            for code in sorted(op_errors):
                responses[str(code)] = {
                    '$ref': f'#/components/responses/{code}'}
            operation['responses'] = responses
            openapi.add(full_rule, method, operation)

        context = {'_check_access': False}
        module_name = None
        if func.__module__.startswith('trytond.modules.'):
            module_name = func.__module__.split('.')[2]

        @wraps(func)
        def transactional(request, pool, *args, **kwargs):
            transaction = Transaction()
            request.web_user = request.api_session = None
            with transaction.set_context(language=_language(request),
                    company=api_company(pool)):
                if not public:
                    request.api_session, request.web_user = authenticate(
                        request, pool, permission)
                # Every module's routes are registered on the one WSGI app:
                # a database without the module does not have them.
                if module_name and module_name not in pool._modules:
                    raise error(404, 'not_found',
                        'property_community.msg_api_not_found')
                if raw:
                    if (request.content_length or 0) > max_body:
                        raise error(413, 'too_large',
                            'property_community.msg_api_body_too_large',
                            max=max_body)
                else:
                    kwargs['body'] = _read_json(request, body, max_body)
                if query is not None:
                    kwargs['query'] = query.validate(
                        request.args.to_dict(), None)
                result = func(request, pool, *args, **kwargs)
                if isinstance(result, Response):
                    return result
                return json_response(result, status=status)

        transactional = with_transaction(
            readonly=readonly, context=context)(transactional)

        @wraps(func)
        def guarded(request, pool, *args, **kwargs):
            try:
                return transactional(request, pool, *args, **kwargs)
            except APIError as e:
                return e.response()
            except RateLimitException:
                return APIError(429, 'rate_limited', _message(
                        pool, request,
                        'property_community.msg_api_rate_limited'),
                    headers={'Retry-After': '60'}).response()
            except (UserError, UserWarning) as e:
                return _user_error_response(e)
            except backend.DatabaseOperationalError:
                logger.info("database busy on %s", request.path,
                    exc_info=True)
                return _busy(pool, request)
            except HTTPException as e:
                if e.code == 413:
                    return APIError(413, 'too_large', _message(
                            pool, request,
                            'property_community.msg_api_body_too_large',
                            max=max_body)).response()
                return APIError(e.code, 'http_error', e.description or '',
                    ).response()

        def handler(request, database_name, *args, **kwargs):
            try:
                return with_pool(guarded)(
                    request, database_name, *args, **kwargs)
            except HTTPException:
                raise
            except backend.DatabaseOperationalError:
                return _busy()

        handler.__name__ = f'api_{func.__module__}_{func.__name__}'
        if raw:
            # trytond caps bodies of requests without a Tryton session at
            # [request] max_size; a raw route reads up to its own max_body.
            handler.max_request_size = max_body
        app.route(full_rule, methods=list(methods))(handler)
        func.openapi_rule = full_rule
        return func
    return decorator


def _message(pool, request, message_id, **variables):
    "Translate message_id outside of the request's transaction"
    with Transaction().start(pool.database_name, 0, readonly=True,
            context={'language': _language(request)}):
        return gettext(message_id, **variables)


class APIMiddleware:
    """WSGI concerns of the API that come before or after routing

    - POST may carry X-HTTP-Method-Override: WeChat's wx.request has no
      PATCH, so the mini-program sends POST with the header;
    - an unknown route or method answers the JSON error shape, not HTML.
    """
    override_methods = {'PATCH', 'PUT', 'DELETE'}

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if '/api/v1/' not in environ.get('PATH_INFO', ''):
            return self.wsgi_app(environ, start_response)
        if environ.get('REQUEST_METHOD') == 'POST':
            override = environ.get(
                'HTTP_X_HTTP_METHOD_OVERRIDE', '').upper()
            if override in self.override_methods:
                environ['REQUEST_METHOD'] = override
        replaced = []

        def json_start_response(status, headers, exc_info=None):
            code = int(status.split(' ', 1)[0])
            content_type = dict(
                (k.lower(), v) for k, v in headers).get('content-type', '')
            if code in {404, 405} and 'json' not in content_type:
                phrase = HTTPStatus(code).phrase
                body = json.dumps({'error': {
                            'code': phrase.lower().replace(' ', '_'),
                            'message': phrase,
                            'field': None,
                            }}).encode('utf-8')
                headers = [(k, v) for k, v in headers
                    if k.lower() not in {'content-type', 'content-length'}]
                headers += [
                    ('Content-Type', 'application/json'),
                    ('Content-Length', str(len(body))),
                    ]
                replaced.append(body)
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, json_start_response)
        if replaced:
            if hasattr(result, 'close'):
                result.close()
            return [replaced[0]]
        return result


if not isinstance(app.wsgi_app, APIMiddleware):
    app.wsgi_app = APIMiddleware(app.wsgi_app)


def _busy(pool=None, request=None):
    message = "The server is busy. Please try again shortly."
    if pool is not None:
        try:
            message = _message(pool, request,
                'property_community.msg_api_busy')
        except Exception:
            # The database may be what is busy: keep the fallback text
            pass
    return APIError(503, 'busy', message,
        headers={'Retry-After': '1'}).response()
