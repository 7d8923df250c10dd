# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Helpers reused by the tests of the visitors' module"
import datetime as dt
import types
import unittest
from contextlib import contextmanager

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import (
    create_account, create_estate)
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, drop_db


def create_host(unit, role='merchant', name="Li Lei", phone='13911112222'):
    "Create a merchant or tenant account occupying unit"
    pool = Pool()
    Party = pool.get('party.party')
    Occupancy = pool.get('property.occupancy')
    Date = pool.get('ir.date')
    party = Party(name=name)
    party.save()
    Occupancy(unit=unit, party=party, role=role,
        start_date=Date.today() - dt.timedelta(days=30)).save()
    return create_account(role, name=name, phone=phone, party=party)


def create_gate(estate, code, name=None, bit=None):
    "Create a gate of estate and return it with its key"
    Gate = Pool().get('property.visitor.gate')
    gate = Gate(estate=estate, company=estate.company, code=code,
        name=name or f"Gate {code}", bit=bit)
    gate.save()
    return gate, gate.set_new_key()


def setup_estate(company, code='E1'):
    """Create an estate with two gates, a merchant and a tenant

    Return a namespace with company, estate, units, gates, keys and hosts.
    """
    estate = create_estate(company, code=code, units=4)
    units = list(estate.buildings[0].units)
    north, north_key = create_gate(estate, 'N', "North Gate")
    south, south_key = create_gate(estate, 'S', "South Gate")
    merchant = create_host(units[1], 'merchant', "Li Lei", '13911112222')
    tenant = create_host(units[0], 'tenant', "Han Meimei", '13922223333')
    return types.SimpleNamespace(
        company=company, estate=estate, units=units, north=north, south=south,
        north_key=north_key, south_key=south_key,
        merchant=merchant, tenant=tenant)


@contextmanager
def company_estate(name="Dunder Mifflin", code='E1'):
    """Create a company with an estate (see setup_estate) and work in it

    Yield the namespace of setup_estate.
    """
    company = create_company(name=name)
    with set_company(company):
        yield setup_estate(company, code=code)


def window(start=dt.timedelta(hours=-1), length=dt.timedelta(hours=4)):
    "A visit window around now, as naive UTC datetimes"
    now = dt.datetime.now().replace(microsecond=0)
    return now + start, now + start + length


def invite(setup, start=dt.timedelta(hours=-1), length=dt.timedelta(hours=4),
        **values):
    "Invite a visitor of the merchant of setup and return the visit"
    Visit = Pool().get('property.visitor.visit')
    valid_from, valid_to = window(start, length)
    return Visit.invite(setup.merchant, setup.units[1], {
            'visitor_name': "Zhang San",
            'visitor_phone': '13700001111',
            'valid_from': valid_from,
            'valid_to': valid_to,
            **values,
            })


class DBTestCase(unittest.TestCase):
    "Tests on a database with the module activated, without the generic ones"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['property_visitor'])

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()
