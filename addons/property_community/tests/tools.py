# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Helpers reused by the tests of the property modules"
from decimal import Decimal

from lxml import etree

import trytond.config as config
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction


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


def override_config(values):
    """Set {(section, option): value} in trytond's configuration

    Return a function that restores the previous configuration.
    """
    previous = {}
    for (section, option), value in values.items():
        if not config.has_section(section):
            config.add_section(section)
        previous[section, option] = (
            config.get(section, option)
            if option in config.options(section) else None)
        config.set(section, option, str(value))

    def restore():
        for (section, option), value in previous.items():
            if value is not None:
                config.set(section, option, value)
            else:
                # trytond.config has no public way to delete an option
                config._config.remove_option(section, option)
                config._cache_clear()
    return restore


class ListViewTestMixin:
    "Checks of the list views that sao would only show at run time"

    @with_transaction()
    def test_list_view_datetime_widgets(self):
        "Test list views show date-time fields with date and time widgets"
        # sao has no list column for datetime and timestamp fields: like
        # Tryton's own lists, they need widget="date" and widget="time"
        pool = Pool()
        View = pool.get('ir.ui.view')
        missing = []
        for view in View.search([
                    ('module', '=', self.module),
                    ('type', 'in', ['tree', None]),
                    ]):
            Model = pool.get(view.model)
            tree = etree.fromstring(view.arch)
            for element in tree.iter('field'):
                field = Model._fields.get(element.get('name'))
                if field is None or element.get('widget'):
                    continue
                if field._type in {'datetime', 'timestamp'}:
                    missing.append(f"{view.name}.{element.get('name')}")
        self.assertFalse(missing,
            msg="these list fields need widget=\"date\" and widget=\"time\"")
