# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Helpers reused by the tests of the property modules"
from decimal import Decimal

from trytond.pool import Pool


def create_estate(company, code='E1', buildings=1, units=4, name=None):
    "Create an estate with buildings of units (office, shop, ...)"
    pool = Pool()
    Estate = pool.get('property.estate')
    types = ['office', 'shop', 'apartment', 'parking']
    estate = Estate(
        name=name or f"Estate {code}", code=code, company=company,
        kind='mixed',
        buildings=[{
                'code': f'B{b}', 'name': f"Building {b}", 'floors': 20,
                'units': [{
                        'code': f'{u + 1:02d}',
                        'type': types[u % len(types)],
                        'floor': 1 + u // 4,
                        'area': Decimal('50.00') + u,
                        } for u in range(units)],
                } for b in range(1, buildings + 1)])
    estate.save()
    return estate


def create_account(role='guest', name=None, phone=None, openid=None,
        party=None):
    "Create a mini-program account"
    pool = Pool()
    User = pool.get('web.user')
    user = User(
        front_role=role, display_name=name, phone=phone, party=party,
        wechat_appid='wx-test-app' if openid else None,
        wechat_openid=openid)
    if not openid and not phone:
        user.phone = '13800000000'
    user.save()
    return user


def sign_in(user, kind='dev'):
    "Return a bearer token for user"
    Session = Pool().get('web.user.api_session')
    token, _ = Session.new(user, kind=kind)
    return token
