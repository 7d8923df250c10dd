# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Mini-program and gate routes of the visitors' module.

Mini-program routes use the session of the toolkit; gate routes are called
by gate devices with `Authorization: Gate <gate id>:<gate key>`.
"""
from trytond.modules.property_community.api import (
    APIError, Array, DateTime, Enum, Integer, Object, Phone, Query, String,
    endpoint, error, json_response, openapi, page, pagination)
from trytond.modules.property_community.routes import UNIT, serialize_unit
from trytond.protocols.wrappers import Response
from trytond.transaction import Transaction

from .exceptions import (
    BatchError, GateAuthenticationError, HostNotFound, PassError, VisitError,
    VisitValidationError)
from .pass_ import REASONS, qr_image, timestamp

openapi.security_schemes['gate'] = {
    'type': 'apiKey', 'in': 'header', 'name': 'Authorization',
    'description': "Gate <gate id>:<gate key>, the key given when the "
    "gate was registered in the back office",
    }
GATE_SECURITY = [{'gate': []}]
DATE_TIME = {'type': 'string', 'format': 'date-time'}
NULL_DATE_TIME = {'type': ['string', 'null'], 'format': 'date-time'}
REF = {
    'type': 'object',
    'properties': {'id': {'type': 'integer'}, 'name': {'type': 'string'}},
    }
PASS = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'state': {'type': 'string',
            'enum': ['active', 'used', 'revoked', 'expired']},
        'kind': {'type': 'string', 'enum': ['visit', 'card']},
        'visit': {'type': ['integer', 'null']},
        'batch': {'type': ['integer', 'null']},
        'visitor_name': {'type': ['string', 'null']},
        'valid_from': DATE_TIME,
        'valid_to': DATE_TIME,
        'estate': REF,
        'gates': {'type': 'array', 'items': REF},
        'used_at': NULL_DATE_TIME,
        'token': {'type': ['string', 'null'],
            'description': "Static token of the whole window while the "
            "pass is active, to draw as a QR code"},
        'share_key': {'type': ['string', 'null'],
            'description': "For the host: key of the share page "
            "GET /passes/shared/{share_key}"},
        'claimed': {'type': 'boolean',
            'description': "Whether a visitor's account holds the pass"},
        },
    }
VISIT = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'state': {'type': 'string', 'enum': [
                'requested', 'approved', 'rejected', 'cancelled',
                'expired', 'completed']},
        'origin': {'type': 'string', 'enum': ['invitation', 'application']},
        'visitor_name': {'type': 'string'},
        'visitor_phone': {'type': ['string', 'null']},
        'plate': {'type': ['string', 'null']},
        'purpose': {'type': ['string', 'null']},
        'valid_from': DATE_TIME,
        'valid_to': DATE_TIME,
        'estate': REF,
        'unit': {'type': ['object', 'null'], 'properties': {
                'id': {'type': 'integer'}, 'code': {'type': 'string'}}},
        'reject_reason': {'type': ['string', 'null']},
        'decided_at': NULL_DATE_TIME,
        'created_at': DATE_TIME,
        'pass': {'oneOf': [PASS, {'type': 'null'}]},
        },
    }
BATCH = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'state': {'type': 'string', 'enum': [
                'requested', 'approved', 'rejected', 'cancelled',
                'expired']},
        'group_name': {'type': 'string'},
        'purpose': {'type': ['string', 'null']},
        'quantity': {'type': 'integer'},
        'issued': {'type': 'integer'},
        'valid_from': DATE_TIME,
        'valid_to': DATE_TIME,
        'estate': REF,
        'unit': {'type': ['object', 'null']},
        'reject_reason': {'type': ['string', 'null']},
        'cards': {'type': 'array', 'items': PASS},
        },
    }
CODE = {
    'type': 'object',
    'properties': {
        'token': {'type': 'string'},
        'not_before': DATE_TIME,
        'expires_at': DATE_TIME,
        'refresh_at': {**DATE_TIME,
            'description': "When the next code is available"},
        },
    }
PASSAGE = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'estate': REF,
        'direction': {'type': 'string', 'enum': ['in', 'out']},
        'at': DATE_TIME,
        'note': {'type': ['string', 'null']},
        },
    }
VERDICT = {
    'type': 'object',
    'properties': {
        'result': {'type': 'string', 'enum': ['open', 'deny']},
        'reason': {'type': ['string', 'null'],
            'enum': [r for r, _ in REASONS] + [None]},
        'message': {'type': ['string', 'null']},
        'pass_id': {'type': ['integer', 'null']},
        'passage_id': {'type': 'integer'},
        'error': {'type': 'object',
            'description': "Only when denied: the error shape, code = reason"},
        },
    }


def _page_schema(item):
    return {
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': item},
            'total': {'type': 'integer'},
            'offset': {'type': 'integer'},
            'limit': {'type': 'integer'},
            },
        }


def utc(value):
    if value is None:
        return None
    return value.replace(microsecond=0).isoformat() + 'Z'


def serialize_pass(pass_, user=None):
    "The pass as the host or the holder sees it"
    is_host = user is not None and pass_.host == user
    token = None
    if pass_.state == 'active':
        try:
            token = pass_.static_token()
        except PassError:
            pass
    return {
        'id': pass_.id,
        'state': pass_.state,
        'kind': 'card' if pass_.batch else 'visit',
        'visit': pass_.visit.id if pass_.visit else None,
        'batch': pass_.batch.id if pass_.batch else None,
        'visitor_name': pass_.visitor_name,
        'valid_from': utc(pass_.valid_from),
        'valid_to': utc(pass_.valid_to),
        'estate': {'id': pass_.estate.id, 'name': pass_.estate.name},
        'gates': [{'id': g.id, 'name': g.name} for g in pass_.gates],
        'used_at': utc(pass_.used_at),
        'token': token,
        'share_key': pass_.share_key if is_host else None,
        'claimed': bool(pass_.holder),
        }


def serialize_visit(visit, user):
    pass_ = visit.pass_
    return {
        'id': visit.id,
        'state': visit.state,
        'origin': visit.origin,
        'visitor_name': visit.visitor_name,
        'visitor_phone': visit.visitor_phone,
        'plate': visit.plate,
        'purpose': visit.purpose,
        'valid_from': utc(visit.valid_from),
        'valid_to': utc(visit.valid_to),
        'estate': {'id': visit.estate.id, 'name': visit.estate.name},
        'unit': ({'id': visit.unit.id, 'code': visit.unit.full_code}
            if visit.unit else None),
        'reject_reason': visit.reject_reason,
        'decided_at': utc(visit.decided_at),
        'created_at': utc(visit.create_date),
        'pass': serialize_pass(pass_, user) if pass_ else None,
        }


def serialize_batch(batch, user, cards=True):
    return {
        'id': batch.id,
        'state': batch.state,
        'group_name': batch.group_name,
        'purpose': batch.purpose,
        'quantity': batch.quantity,
        'issued': batch.issued,
        'valid_from': utc(batch.valid_from),
        'valid_to': utc(batch.valid_to),
        'estate': {'id': batch.estate.id, 'name': batch.estate.name},
        'unit': ({'id': batch.unit.id, 'code': batch.unit.full_code}
            if batch.unit else None),
        'reject_reason': batch.reject_reason,
        'cards': ([serialize_pass(p, user) for p in batch.passes]
            if cards else []),
        }


def _not_found():
    return error(404, 'not_found', 'property_visitor.msg_api_not_found')


def _conflict(exception, code='conflict'):
    return APIError(409, getattr(exception, 'code', code) or code,
        exception.message)


def _invalid(exception, field=None):
    return APIError(422, 'invalid', exception.message,
        field=getattr(exception, 'field', None) or field)


def _get(Model, record_id, domain):
    records = Model.search([('id', '=', record_id)] + domain, limit=1)
    if not records:
        raise _not_found()
    return records[0]


def _unit(pool, unit_id, field='unit'):
    Unit = pool.get('property.unit')
    units = Unit.search([('id', '=', unit_id)], limit=1)
    if not units:
        raise error(404, 'not_found', 'property_community.msg_unit_not_found',
            field=field, id=unit_id)
    return units[0]


def _window_body(**extra):
    return Object({
            'visitor_name': String(min_length=1, max_length=60,
                required=True),
            'visitor_phone': Phone(),
            'plate': String(max_length=12, pattern=r'[^\s]{5,12}'),
            'purpose': String(max_length=120),
            'valid_from': DateTime(required=True),
            'valid_to': DateTime(required=True),
            **extra,
            })


def _values(body, *names):
    "The values of names given in body"
    return {n: body[n] for n in names if n in body}


def _visit_values(body):
    return _values(body, 'visitor_name', 'visitor_phone', 'plate', 'purpose',
        'valid_from', 'valid_to')


def _host_unit(request, pool, body):
    "The unit of the body, or else the first unit of the host"
    Visit = pool.get('property.visitor.visit')
    if 'unit' in body:
        return _unit(pool, body['unit'])
    units = Visit.host_units(request.web_user)
    if not units:
        raise error(422, 'invalid', 'property_visitor.msg_unit_not_hosts',
            field='unit')
    return units[0]


def _page_of(Model, domain, query, serialize):
    "The page of the records of domain the query asks for, in its state"
    if query.get('state'):
        domain = domain + [('state', '=', query['state'])]
    return page(Model, domain, offset=query.get('offset', 0),
        limit=query.get('limit', 20), serialize=serialize)


def _transition(record, method, state, *args):
    """Move record to state with its workflow method or answer 409

    Return the record read again.
    """
    Model = record.__class__
    if (record.state, state) not in Model._transitions:
        raise error(409, 'conflict', 'property_visitor.msg_api_state',
            state=record.state_string)
    getattr(Model, method)([record], *args)
    return Model(record.id)


# Hosts: merchants and tenants (VIS-1, VIS-2, VIS-3)

@endpoint('/host/units', permission='visitor.invite', tags=['visitor'],
    response={'type': 'object', 'properties': {
            'items': {'type': 'array', 'items': UNIT}}})
def host_units(request, pool, body):
    "The units the signed-in merchant or tenant receives visitors at"
    Visit = pool.get('property.visitor.visit')
    return {'items': [serialize_unit(u)
            for u in Visit.host_units(request.web_user)]}


@endpoint('/visits/invitations', methods=['POST'],
    permission='visitor.invite', tags=['visitor'], status=201,
    response=VISIT, errors=[404],
    body=_window_body(unit=Integer(minimum=1, description="One of "
            "GET /host/units; the first one when omitted")))
def invite(request, pool, body):
    "Register an expected visitor and get the pass at once"
    Visit = pool.get('property.visitor.visit')
    user = request.web_user
    unit = _host_unit(request, pool, body)
    try:
        visit = Visit.invite(user, unit, _visit_values(body))
    except VisitValidationError as e:
        raise _invalid(e)
    return serialize_visit(visit, user)


VISIT_STATES = Enum(['requested', 'approved', 'rejected', 'cancelled',
        'expired', 'completed'])


@endpoint('/host/visits', permission='visitor.invite', tags=['visitor'],
    query=pagination(state=VISIT_STATES), response=_page_schema(VISIT))
def host_visits(request, pool, body, query):
    "The visits to the signed-in merchant or tenant, newest first"
    Visit = pool.get('property.visitor.visit')
    user = request.web_user
    return _page_of(Visit, [('host', '=', user.id)], query,
        lambda v: serialize_visit(v, user))


def _host_visit(request, pool, visit_id):
    Visit = pool.get('property.visitor.visit')
    return _get(Visit, visit_id, [('host', '=', request.web_user.id)])


@endpoint('/host/visits/<int:visit_id>', permission='visitor.invite',
    tags=['visitor'], response=VISIT, errors=[404])
def host_visit(request, pool, body, visit_id):
    "A visit to the signed-in merchant or tenant"
    return serialize_visit(
        _host_visit(request, pool, visit_id), request.web_user)


@endpoint('/host/visits/<int:visit_id>/approve', methods=['POST'],
    permission='visitor.invite', tags=['visitor'], response=VISIT,
    errors=[404, 409])
def approve_visit(request, pool, body, visit_id):
    "Approve an application to visit: the pass is issued"
    visit = _host_visit(request, pool, visit_id)
    try:
        visit = _transition(visit, 'approve', 'approved')
    except VisitError as e:
        raise _conflict(e)
    return serialize_visit(visit, request.web_user)


@endpoint('/host/visits/<int:visit_id>/reject', methods=['POST'],
    permission='visitor.invite', tags=['visitor'], response=VISIT,
    errors=[404, 409], body=Object({'reason': String(max_length=200)}))
def reject_visit(request, pool, body, visit_id):
    "Reject an application to visit"
    visit = _transition(_host_visit(request, pool, visit_id),
        'reject', 'rejected', body.get('reason'))
    return serialize_visit(visit, request.web_user)


@endpoint('/host/visits/<int:visit_id>/cancel', methods=['POST'],
    permission='visitor.invite', tags=['visitor'], response=VISIT,
    errors=[404, 409])
def cancel_host_visit(request, pool, body, visit_id):
    "Cancel a visit: its pass stops opening the gates"
    visit = _transition(_host_visit(request, pool, visit_id),
        'cancel', 'cancelled')
    return serialize_visit(visit, request.web_user)


BATCH_STATES = Enum(['requested', 'approved', 'rejected', 'cancelled',
        'expired'])


@endpoint('/card-batches', methods=['POST'], permission='visitor.invite',
    tags=['visitor'], status=201, response=BATCH, errors=[404],
    body=Object({
            'unit': Integer(minimum=1),
            'group_name': String(min_length=1, max_length=60, required=True),
            'purpose': String(max_length=120),
            'quantity': Integer(minimum=1, maximum=500, required=True),
            'valid_from': DateTime(required=True),
            'valid_to': DateTime(required=True),
            }))
def request_batch(request, pool, body):
    "Ask for visitor cards for a group; the property office approves"
    Batch = pool.get('property.visitor.card.batch')
    user = request.web_user
    unit = _host_unit(request, pool, body)
    values = _values(body,
        'group_name', 'purpose', 'quantity', 'valid_from', 'valid_to')
    try:
        batch = Batch.request(user, unit, values)
    except VisitValidationError as e:
        raise _invalid(e)
    return serialize_batch(batch, user)


@endpoint('/card-batches', permission='visitor.invite', tags=['visitor'],
    query=pagination(state=BATCH_STATES), response=_page_schema(BATCH))
def batches(request, pool, body, query):
    "The card batches the signed-in merchant or tenant asked for"
    Batch = pool.get('property.visitor.card.batch')
    user = request.web_user
    return _page_of(Batch, [('requester', '=', user.id)], query,
        lambda b: serialize_batch(b, user, cards=False))


def _own_batch(request, pool, batch_id):
    Batch = pool.get('property.visitor.card.batch')
    return _get(Batch, batch_id, [('requester', '=', request.web_user.id)])


@endpoint('/card-batches/<int:batch_id>', permission='visitor.invite',
    tags=['visitor'], response=BATCH, errors=[404])
def batch(request, pool, body, batch_id):
    "A card batch with the cards issued"
    return serialize_batch(
        _own_batch(request, pool, batch_id), request.web_user)


@endpoint('/card-batches/<int:batch_id>/cards', methods=['POST'],
    permission='visitor.invite', tags=['visitor'], status=201,
    response=PASS, errors=[404, 409],
    body=Object({'visitor_name': String(max_length=60)}))
def issue_card(request, pool, body, batch_id):
    "Issue the next card of an approved batch: a single-use pass"
    Pass = pool.get('property.visitor.pass')
    batch = _own_batch(request, pool, batch_id)
    try:
        card = batch.issue_card(visitor_name=body.get('visitor_name'))
    except BatchError as e:
        raise _conflict(e)
    return serialize_pass(Pass(card.id), request.web_user)


@endpoint('/card-batches/<int:batch_id>/cancel', methods=['POST'],
    permission='visitor.invite', tags=['visitor'], response=BATCH,
    errors=[404, 409])
def cancel_batch(request, pool, body, batch_id):
    "Cancel a card batch: its cards stop opening the gates"
    batch = _transition(_own_batch(request, pool, batch_id),
        'cancel', 'cancelled')
    return serialize_batch(batch, request.web_user)


# Visitors: any signed-in account (VIS-2)

@endpoint('/visits/applications', methods=['POST'],
    permission='visit.apply', tags=['visitor'], status=201, response=VISIT,
    errors=[404, 409],
    body=_window_body(
        unit=Integer(minimum=1, required=True,
            description="The unit visited, from GET /units"),
        host_phone=Phone(description="The phone of the person visited, "
            "if known: the application then goes only to them")))
def apply(request, pool, body):
    "Ask the merchant or tenant of a unit to be let in"
    Visit = pool.get('property.visitor.visit')
    user = request.web_user
    unit = _unit(pool, body['unit'])
    try:
        visit = Visit.apply(user, unit, _visit_values(body),
            host_phone=body.get('host_phone'))
    except HostNotFound as e:
        raise APIError(404, 'host_not_found', e.message, field='unit')
    except VisitValidationError as e:
        raise _invalid(e)
    except VisitError as e:
        raise _conflict(e)
    return serialize_visit(visit, user)


@endpoint('/visits/mine', permission='visit.apply', tags=['visitor'],
    query=pagination(state=VISIT_STATES), response=_page_schema(VISIT))
def my_visits(request, pool, body, query):
    "The applications of the signed-in account to visit, newest first"
    Visit = pool.get('property.visitor.visit')
    user = request.web_user
    return _page_of(Visit, [('applicant', '=', user.id)], query,
        lambda v: serialize_visit(v, user))


def _my_visit(request, pool, visit_id):
    Visit = pool.get('property.visitor.visit')
    return _get(Visit, visit_id, [('applicant', '=', request.web_user.id)])


@endpoint('/visits/mine/<int:visit_id>', permission='visit.apply',
    tags=['visitor'], response=VISIT, errors=[404])
def my_visit(request, pool, body, visit_id):
    "An application of the signed-in account, with its pass once approved"
    return serialize_visit(
        _my_visit(request, pool, visit_id), request.web_user)


@endpoint('/visits/mine/<int:visit_id>/cancel', methods=['POST'],
    permission='visit.apply', tags=['visitor'], response=VISIT,
    errors=[404, 409])
def cancel_my_visit(request, pool, body, visit_id):
    "Withdraw an application or give up an approved visit"
    visit = _transition(_my_visit(request, pool, visit_id),
        'cancel', 'cancelled')
    return serialize_visit(visit, request.web_user)


# Passes: the host's and the visitor's

def _pass(request, pool, pass_id):
    "The pass if the account is its host or holder"
    Pass = pool.get('property.visitor.pass')
    user = request.web_user
    return _get(Pass, pass_id, [['OR',
                ('host', '=', user.id),
                ('holder', '=', user.id),
                ]])


@endpoint('/passes/<int:pass_id>', permission='visit.apply',
    tags=['pass'], response=PASS, errors=[404])
def get_pass(request, pool, body, pass_id):
    "A pass of the signed-in account, as host or as holder"
    return serialize_pass(_pass(request, pool, pass_id), request.web_user)


@endpoint('/passes/shared/<share_key>', permission='visit.apply',
    tags=['pass'], response=PASS, errors=[404, 409], readonly=False)
def shared_pass(request, pool, body, share_key):
    """Open the pass a host shared; the first visitor to open it holds it

    Afterwards only the host and that visitor can see the pass and its
    rotating code.
    """
    Pass = pool.get('property.visitor.pass')
    user = request.web_user
    if len(share_key) > 64:
        raise _not_found()
    passes = Pass.search([('share_key', '=', share_key)], limit=1)
    if not passes:
        raise _not_found()
    pass_, = passes
    if pass_.host != user:
        if pass_.holder and pass_.holder != user:
            raise error(409, 'claimed', 'property_visitor.msg_pass_claimed')
        if not pass_.holder:
            Pass.write([pass_], {'holder': user.id})
    return serialize_pass(Pass(pass_.id), user)


@endpoint('/passes/<int:pass_id>/code', permission='visit.apply',
    tags=['pass'], response=CODE, errors=[404, 409])
def pass_code(request, pool, body, pass_id):
    "The rotating short-lived code of a pass, to show as a QR code"
    pass_ = _pass(request, pool, pass_id)
    try:
        token, nbf, exp, refresh = pass_.rotating_token()
    except PassError as e:
        raise _conflict(e)
    return json_response({
            'token': token,
            'not_before': utc(nbf),
            'expires_at': utc(exp),
            'refresh_at': utc(refresh),
            }, headers={'Cache-Control': 'no-store'})


QR_QUERY = Query({
        'mode': Enum(['static', 'rotating'],
            description="static (default): the whole window, to share "
            "or print; rotating: the current short-lived code"),
        'scale': Integer(minimum=1, maximum=20),
        })


def _qr(request, pool, pass_id, query, format_):
    pass_ = _pass(request, pool, pass_id)
    try:
        if query.get('mode') == 'rotating':
            token = pass_.rotating_token()[0]
        else:
            token = pass_.static_token()
    except PassError as e:
        raise _conflict(e)
    mimetype = 'image/png' if format_ == 'png' else 'image/svg+xml'
    return Response(qr_image(token, format_, query.get('scale')),
        mimetype=mimetype, headers={'Cache-Control': 'no-store'})


@endpoint('/passes/<int:pass_id>/qr.svg', permission='visit.apply',
    tags=['pass'], query=QR_QUERY, errors=[404, 409],
    response={'type': 'string', 'contentMediaType': 'image/svg+xml'})
def pass_qr_svg(request, pool, body, query, pass_id):
    "The QR code of a pass as SVG"
    return _qr(request, pool, pass_id, query, 'svg')


@endpoint('/passes/<int:pass_id>/qr.png', permission='visit.apply',
    tags=['pass'], query=QR_QUERY, errors=[404, 409],
    response={'type': 'string', 'contentMediaType': 'image/png'})
def pass_qr_png(request, pool, body, query, pass_id):
    "The QR code of a pass as PNG, e.g. to send to an elderly visitor"
    return _qr(request, pool, pass_id, query, 'png')


for _path in ['/passes/{pass_id}/qr.svg', '/passes/{pass_id}/qr.png']:
    _media = 'image/png' if _path.endswith('png') else 'image/svg+xml'
    openapi.operations[_path]['get']['responses']['200']['content'] = {
        _media: {'schema': {'type': 'string'}}}


# Technicians (VIS-5)

def serialize_passage(passage):
    return {
        'id': passage.id,
        'estate': {'id': passage.estate.id, 'name': passage.estate.name},
        'direction': passage.direction,
        'at': utc(passage.scanned_at),
        'note': passage.note,
        }


@endpoint('/technician/passages', methods=['POST'],
    permission='technician.passage', tags=['technician'], status=201,
    response=PASSAGE, errors=[404],
    body=Object({
            'estate': Integer(minimum=1, required=True),
            'direction': Enum(['in', 'out'], required=True),
            'note': String(max_length=200),
            }))
def technician_passage(request, pool, body):
    "Record the signed-in technician's entry into or exit from an estate"
    Estate = pool.get('property.estate')
    Passage = pool.get('property.visitor.passage')
    estates = Estate.search([('id', '=', body['estate'])], limit=1)
    if not estates:
        raise error(404, 'not_found', 'property_visitor.msg_api_not_found',
            field='estate')
    passage = Passage.record_technician(request.web_user, estates[0],
        body['direction'], note=body.get('note'))
    return serialize_passage(passage)


@endpoint('/technician/passages', permission='technician.passage',
    tags=['technician'], query=pagination(),
    response={**_page_schema(PASSAGE), 'properties': {
            **_page_schema(PASSAGE)['properties'],
            'inside': {'type': 'boolean',
                'description': "Whether the last record is an entry"},
            }})
def technician_passages(request, pool, body, query):
    "The entries and exits the signed-in technician recorded"
    Passage = pool.get('property.visitor.passage')
    user = request.web_user
    result = _page_of(Passage, [
            ('technician', '=', user.id),
            ('kind', '=', 'technician'),
            ], query, serialize_passage)
    last = Passage.last_technician_passage(user)
    result['inside'] = bool(last and last.direction == 'in')
    return result


# Gates (VIS-4)

def authenticate_gate(request, pool, cached=False):
    "Return the gate of the Authorization header or raise 401/403"
    Gate = pool.get('property.visitor.gate')
    scheme, _, credentials = request.headers.get(
        'Authorization', '').partition(' ')
    gate_id, _, key = credentials.strip().partition(':')
    gate = None
    if scheme.lower() == 'gate' and gate_id.isdigit() and len(gate_id) < 10:
        with Transaction().set_context(active_test=False):
            gate = Gate.authenticate(int(gate_id), key, cached=cached)
    if not gate:
        raise _gate_unauthenticated()
    if not gate.active:
        raise _gate_inactive()
    return gate


def _gate_unauthenticated():
    return APIError(401, 'unauthenticated', _message(
            'property_visitor.msg_gate_unauthenticated'),
        headers={'WWW-Authenticate': 'Gate'})


def _gate_inactive():
    return error(403, 'forbidden', 'property_visitor.msg_gate_inactive')


def _message(message_id, **variables):
    from trytond.i18n import gettext
    return gettext(message_id, **variables)


def _reason_message(reason):
    return _message(f'property_visitor.msg_deny_{reason}')


@endpoint('/gate/verify', methods=['POST'], public=True,
    security=GATE_SECURITY, tags=['gate'], response=VERDICT,
    errors=[401, 403, 409],
    body=Object({
            'token': String(max_length=200, required=True,
                description="The decoded QR code, as scanned"),
            }))
def gate_verify(request, pool, body):
    """Check a scanned pass at the gate and consume it: 200 opens

    A refused pass answers 409 with the reason; the pass is consumed by the
    first gate that opens for it, so the same code scanned twice, even at
    two gates at the same moment, opens once.
    """
    # The hot path of the gates: the gate may come from the cache
    gate = authenticate_gate(request, pool, cached=True)
    try:
        scan = gate.verify(body['token'])
    except GateAuthenticationError as e:
        raise (_gate_inactive() if e.code == 'inactive'
            else _gate_unauthenticated())
    verdict = {
        'result': scan.result,
        'reason': scan.reason,
        'message': None,
        'pass_id': scan.pass_id,
        'passage_id': scan.passage_id,
        }
    if scan.result == 'open':
        return verdict
    verdict['message'] = _reason_message(scan.reason)
    verdict['error'] = {
        'code': scan.reason, 'message': verdict['message'],
        'field': 'token'}
    return json_response(verdict, status=409)


@endpoint('/gate/keys', public=True, security=GATE_SECURITY, tags=['gate'],
    errors=[401, 403],
    response={'type': 'object', 'properties': {
            'gate': {'type': 'object'},
            'keys': {'type': 'array', 'items': {'type': 'object'}},
            'clock_skew': {'type': 'integer'},
            'server_time': {'type': 'integer'},
            }})
def gate_keys(request, pool, body):
    """The public keys that check passes offline, and the gate's scope

    A pass opens this gate if its site is `gate.site` and its gate mask has
    the bit `gate.bit`.
    """
    import datetime as dt
    SigningKey = pool.get('property.visitor.signing_key')
    Configuration = pool.get('property.visitor.configuration')
    gate = authenticate_gate(request, pool)
    return {
        'gate': {
            'id': gate.id,
            'name': gate.name,
            'site': gate.estate.id,
            'bit': gate.bit,
            'direction': gate.direction,
            },
        'keys': [{
                'kid': k.kid,
                'algorithm': 'Ed25519',
                'public_key': k.public_key,
                'state': k.state,
                } for k in SigningKey.public_keys(gate.company)],
        'clock_skew': Configuration(1).clock_skew,
        'server_time': timestamp(dt.datetime.now()),
        }


@endpoint('/gate/offline-scans', methods=['POST'], public=True,
    security=GATE_SECURITY, tags=['gate'], errors=[401, 403],
    max_body=512 * 1024,
    body=Object({
            'scans': Array(Object({
                        'token': String(max_length=200, required=True),
                        'scanned_at': DateTime(required=True),
                        'result': Enum(['open', 'deny'], required=True),
                        }), min_items=1, max_items=500, required=True),
            }),
    response={'type': 'object', 'properties': {
            'items': {'type': 'array', 'items': {
                    'type': 'object',
                    'properties': {
                        'index': {'type': 'integer'},
                        'status': {'type': 'string', 'enum': [
                                'recorded', 'duplicate', 'flagged']},
                        'reason': {'type': ['string', 'null']},
                        'pass_id': {'type': ['integer', 'null']},
                        }}},
            }})
def gate_offline_scans(request, pool, body):
    """Upload the scans made while the gate was offline

    Uploading the same scans again changes nothing. A pass opened offline
    after it was used elsewhere, or a code the server refuses but the gate
    opened for, is flagged for the property office.
    """
    gate = authenticate_gate(request, pool)
    outcomes = gate.reconcile_offline(body['scans'])
    return {'items': [{'index': i, **o} for i, o in enumerate(outcomes)]}
