# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.pool import Pool

from .api import (
    Object, Phone, String, capabilities, endpoint, json_response, openapi)

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
    return {
        'id': unit.id,
        'code': unit.full_code,
        'type': unit.type,
        'floor': unit.floor,
        'area': unit.area,
        'estate': unit.building.estate.name,
        'building': unit.building.name,
        }


def serialize_me(user):
    pool = Pool()
    Unit = pool.get('property.unit')
    modules = sorted(m for m in pool._modules if m.startswith('property_'))
    return {
        'id': user.id,
        'name': user.display_name,
        'phone': user.phone,
        'role': user.front_role,
        'capabilities': capabilities(user.front_role),
        'modules': modules,
        'units': [serialize_unit(u) for u in Unit.browse(user.units)],
        'certification': user.current_certification_summary(),
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
