# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.pool import Pool
from trytond.tools import escape_wildcard

from .api import (
    APIError, Array, Enum, Integer, Object, Phone, String, capabilities,
    endpoint, error, json_response, openapi, page, pagination)
from .estate import LEASABLE_TYPES
from .exceptions import (
    AccountError, CertificationValidationError, UploadValidationError,
    WeChatCodeError, WeChatError)
from .upload import MAX_PHOTO_SIZE

ME = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': ['string', 'null']},
        'phone': {'type': ['string', 'null']},
        'role': {'type': 'string',
            'enum': ['guest', 'merchant', 'tenant', 'technician']},
        'capabilities': {'type': 'array', 'items': {'type': 'string'}},
        'modules': {'type': 'array', 'items': {'type': 'string'}},
        'units': {'type': 'array', 'items': {'type': 'object'}},
        'certification': {'type': ['object', 'null']},
        },
    }


@endpoint('/health', public=True, tags=['system'],
    response={'type': 'object'})
def health(request, pool, body):
    "Liveness of the API (no database work beyond the transaction)"
    return {'status': 'ok'}


@endpoint('/openapi.json', public=True, tags=['system'],
    response={'type': 'object'})
def openapi_document(request, pool, body):
    "This OpenAPI document"
    return json_response(openapi.document())


def serialize_unit(unit):
    "The API description of one unit (Unit.describe does many at once)"
    return Pool().get('property.unit').describe([unit.id])[0]


def serialize_me(user):
    "The API profile of the account (two queries: GET /me is the hottest)"
    pool = Pool()
    User = pool.get('web.user')
    Certification = pool.get('property.certification')
    Date = pool.get('ir.date')
    profile = User.api_profile(user.id, Date.today())
    return {
        'id': profile['id'],
        'name': profile['name'],
        'phone': profile['phone'],
        'role': profile['role'],
        'capabilities': capabilities(profile['role']),
        'modules': sorted(
            m for m in pool._modules if m.startswith('property_')),
        'units': profile['units'],
        'certification': Certification.current_summary(user.id),
        }


@endpoint('/me', tags=['account'], response=ME)
def me(request, pool, body):
    "The signed-in account"
    return serialize_me(request.web_user)


@endpoint('/me', methods=['PATCH'], tags=['account'], response=ME,
    operation_id='update_me',
    body=Object({
            'name': String(max_length=60, min_length=1),
            'phone': Phone(),
            }))
def update_me(request, pool, body):
    "Update the profile of the signed-in account"
    user = request.web_user
    if 'name' in body:
        user.display_name = body['name']
    if 'phone' in body:
        user.phone = body['phone']
    user.save()
    return serialize_me(user)


# Sign-in (ACC-1, ACC-3)

SIGN_IN = {
    'type': 'object',
    'properties': {
        'token': {'type': 'string'},
        'expires_at': {'type': 'string', 'format': 'date-time'},
        'user': ME,
        },
    }
WECHAT_CODE = String(required=True, min_length=1, max_length=128,
    pattern=r'[0-9A-Za-z_\-]+', description="Code from wx.login or "
    "from the getPhoneNumber button")


def signed_in(pool, user, kind):
    "The answer of a sign-in: a new session token and the account"
    Session = pool.get('web.user.api_session')
    token, session = Session.new(user, kind=kind)
    return {
        'token': token,
        # Timestamps are naive UTC in Tryton
        'expires_at': session.expires_at.replace(
            microsecond=0).isoformat() + 'Z',
        'user': serialize_me(user),
        }


def _sign_in_error(exception):
    if isinstance(exception, WeChatCodeError):
        return APIError(400, 'invalid_code', exception.message, field='code')
    if isinstance(exception, AccountError):
        return APIError(403, 'account_inactive', exception.message)
    return APIError(503, 'wechat_unavailable', exception.message,
        headers={'Retry-After': '5'})


def _dev_login_disabled():
    return error(404, 'not_found', 'property_community.msg_api_not_found')


@endpoint('/auth/wechat', methods=['POST'], public=True, tags=['auth'],
    body=Object({'code': WECHAT_CODE}), response=SIGN_IN,
    errors=(403, 429))
def sign_in_wechat(request, pool, body):
    "Sign in with the code of wx.login; a new WeChat user becomes a guest"
    User = pool.get('web.user')
    try:
        user = User.sign_in_wechat_code(body['code'])
    except (WeChatError, AccountError) as exception:
        raise _sign_in_error(exception)
    return signed_in(pool, user, 'wechat')


@endpoint('/auth/dev', methods=['POST'], public=True, tags=['auth'],
    body=Object({
            'account_id': Integer(required=True, minimum=1,
                maximum=2 ** 31 - 1),
            }),
    response=SIGN_IN, errors=(403, 404, 429))
def sign_in_dev(request, pool, body):
    "Sign in as an account without WeChat (development servers only)"
    User = pool.get('web.user')
    if not User.dev_login_enabled():
        raise _dev_login_disabled()
    try:
        user = User.sign_in_dev(body['account_id'])
    except AccountError as exception:
        raise _sign_in_error(exception)
    if not user:
        raise error(404, 'not_found', 'property_community.msg_api_not_found',
            field='account_id')
    return signed_in(pool, user, 'dev')


@endpoint('/auth/dev/accounts', public=True, tags=['auth'], errors=(404,),
    response={
        'type': 'object',
        'properties': {'items': {'type': 'array', 'items': {
                    'type': 'object',
                    'properties': {
                        'id': {'type': 'integer'},
                        'name': {'type': 'string'},
                        'role': {'type': 'string'},
                        'phone': {'type': ['string', 'null']},
                        }}}},
        })
def dev_accounts(request, pool, body):
    "The accounts of the development sign-in (development servers only)"
    User = pool.get('web.user')
    if not User.dev_login_enabled():
        raise _dev_login_disabled()
    return {'items': [{
                'id': u.id,
                'name': u.rec_name,
                'role': u.front_role,
                'phone': u.phone,
                } for u in User.dev_accounts()]}


@endpoint('/auth/logout', methods=['POST'], tags=['auth'], status=204)
def logout(request, pool, body):
    "End the session: its token stops working"
    Session = pool.get('web.user.api_session')
    Session.revoke([request.api_session])


@endpoint('/me/phone', methods=['POST'], tags=['account'], response=ME,
    body=Object({'code': WECHAT_CODE}), errors=(429,),
    operation_id='bind_phone')
def bind_phone(request, pool, body):
    "Bind the phone number from WeChat's getPhoneNumber button"
    try:
        user = request.web_user.bind_wechat_phone(
            body['code'], session=request.api_session)
    except WeChatError as exception:
        raise _sign_in_error(exception)
    return serialize_me(user)


# Certification (ACC-2): estates and units to choose from, photo uploads,
# the request and its status.

UNIT = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'code': {'type': 'string'},
        'type': {'type': 'string'},
        'floor': {'type': ['integer', 'null']},
        'area': {'type': ['string', 'null']},
        'estate': {'type': 'string'},
        'building': {'type': 'string'},
        },
    }
CERT = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'state': {'type': 'string',
            'enum': ['pending', 'approved', 'rejected', 'cancelled']},
        'name': {'type': 'string'},
        'phone': {'type': 'string'},
        'role': {'type': 'string', 'enum': ['merchant', 'tenant']},
        'units': {'type': 'array', 'items': UNIT},
        'reject_reason': {'type': ['string', 'null']},
        'submitted_at': {'type': 'string', 'format': 'date-time'},
        'decided_at': {'type': ['string', 'null'], 'format': 'date-time'},
        },
    }


UPLOAD = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'name': {'type': 'string'},
        'size': {'type': 'integer'},
        'mimetype': {'type': 'string',
            'enum': ['image/jpeg', 'image/png', 'image/webp']},
        },
    }


@endpoint('/estates', tags=['estate'], response={
        'type': 'object',
        'properties': {'items': {'type': 'array', 'items': {
                    'type': 'object',
                    'properties': {
                        'id': {'type': 'integer'},
                        'name': {'type': 'string'},
                        'code': {'type': 'string'},
                        },
                    }}},
        })
def estates(request, pool, body):
    "The estates, to filter units by"
    Estate = pool.get('property.estate')
    records = Estate.search([], order=[('code', 'ASC'), ('id', 'ASC')])
    return {'items': [
            {'id': e.id, 'name': e.name, 'code': e.code} for e in records]}


@endpoint('/units', tags=['estate'],
    query=pagination(
        q=String(max_length=60,
            description="Part of the unit number, estate or building"),
        estate=Integer(minimum=1)),
    response={
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': UNIT},
            'total': {'type': 'integer'},
            'offset': {'type': 'integer'},
            'limit': {'type': 'integer'},
            },
        })
def units(request, pool, body, query):
    "Search the leasable units, e.g. for the certification form"
    Unit = pool.get('property.unit')
    domain = [('type', 'in', sorted(LEASABLE_TYPES))]
    if query.get('q'):
        like = f"%{escape_wildcard(query['q'])}%"
        domain.append(['OR',
                ('full_code', 'ilike', like),
                ('building.name', 'ilike', like),
                ('building.estate.name', 'ilike', like),
                ])
    if query.get('estate'):
        domain.append(('building.estate', '=', query['estate']))
    return page(Unit, domain,
        offset=query.get('offset', 0), limit=query.get('limit', 20),
        order=[('full_code', 'ASC'), ('id', 'ASC')], describe=Unit.describe)


@endpoint('/uploads', methods=['POST'], tags=['certification'], raw=True,
    max_body=MAX_PHOTO_SIZE + 64 * 1024, status=201, response=UPLOAD)
def upload(request, pool):
    "Upload a photo: JPEG, PNG or WebP of at most 5 MiB"
    Attachment = pool.get('ir.attachment')
    file = data = None
    try:
        if request.mimetype == 'multipart/form-data':
            file = request.files.get('file')
        if file is not None:
            data = file.stream.read(MAX_PHOTO_SIZE + 1)
    finally:
        request.close()
    if data is None:
        raise error(422, 'invalid',
            'property_community.msg_upload_file_missing', field='file')
    if len(data) > MAX_PHOTO_SIZE:
        raise error(413, 'too_large',
            'property_community.msg_upload_too_large', field='file',
            max=MAX_PHOTO_SIZE // (1024 * 1024))
    try:
        attachment = Attachment.upload_photo(
            request.web_user, file.filename, data)
    except UploadValidationError as e:
        raise APIError(422, 'invalid', e.message, field='file')
    return {
        'id': attachment.id,
        'name': attachment.name,
        'size': len(data),
        'mimetype': attachment.image_mimetype,
        }


openapi.operations['/uploads']['post']['requestBody'] = {
    'required': True,
    'content': {'multipart/form-data': {'schema': {
                'type': 'object',
                'required': ['file'],
                'properties': {'file': {
                        'type': 'string', 'contentMediaType': 'image/*',
                        'maxLength': MAX_PHOTO_SIZE,
                        }},
                }}},
    }


@endpoint('/certifications', methods=['POST'],
    permission='certification.submit', tags=['certification'], status=201,
    response=CERT, errors=[404, 409],
    body=Object({
            'name': String(max_length=60, min_length=1, required=True),
            'phone': Phone(required=True),
            'role': Enum(['merchant', 'tenant'], required=True),
            'units': Array(Integer(minimum=1), min_items=1, max_items=20,
                unique=True, required=True),
            'photos': Array(Integer(minimum=1), max_items=6, unique=True),
            }))
def submit_certification(request, pool, body):
    "Ask to be certified as merchant or tenant of units"
    Certification = pool.get('property.certification')
    Unit = pool.get('property.unit')
    Attachment = pool.get('ir.attachment')
    units = {u.id: u for u in Unit.search([('id', 'in', body['units'])])}
    for i, unit_id in enumerate(body['units']):
        if unit_id not in units:
            raise error(404, 'not_found',
                'property_community.msg_unit_not_found', field=f'units[{i}]',
                id=unit_id)
    photo_ids = body.get('photos', [])
    photos = {a.id: a for a in Attachment.search([('id', 'in', photo_ids)])}
    for i, photo_id in enumerate(photo_ids):
        if photo_id not in photos:
            raise error(422, 'invalid',
                'property_community.msg_certification_photo_foreign',
                field=f'photos[{i}]')
    try:
        certification = Certification.submit(request.web_user,
            body['name'], body['phone'], body['role'],
            [units[i] for i in body['units']],
            [photos[i] for i in photo_ids])
    except CertificationValidationError as e:
        raise APIError(422, 'invalid', e.message, field=e.field)
    return Certification.current_summary(certification.web_user.id)


@endpoint('/certifications/current', tags=['certification'], response=CERT,
    errors=[404])
def current_certification(request, pool, body):
    "The latest certification request of the signed-in account"
    Certification = pool.get('property.certification')
    summary = Certification.current_summary(request.web_user.id)
    if not summary:
        raise error(404, 'not_found',
            'property_community.msg_certification_none')
    return summary
