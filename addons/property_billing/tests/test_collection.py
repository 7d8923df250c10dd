# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import io
import unittest
from decimal import Decimal

from openpyxl import load_workbook

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import create_estate
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from ..export import report_sheet
from ..payment import reconcile_invoice
from .tools import (
    create_fee, create_party, day, month, occupy, run_billing, setup_billing,
    setup_payment_methods)


class CollectionTestCase(unittest.TestCase):
    "Test collection statistics and arrears aging against known bills"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    def setup_bills(self, company):
        """Bill March and April to two tenants and pay some of March

        Tenant A leases units 1 and 2 of building 1 (350 + 700 a month),
        tenant B unit 1 of building 2 (140 a month).  The bills fall due 15
        days after the 1st of the next month.  A pays half of March (525),
        B all of March.
        """
        pool = Pool()
        Unit = pool.get('property.unit')
        accounts = setup_billing(company)
        _, bank = setup_payment_methods(company, accounts)
        estate = create_estate(company, code='CL', buildings=2, units=2)
        building1, building2 = estate.buildings
        unit1, unit2 = building1.units
        unit3, _ = building2.units
        Unit.write([unit1], {'area': Decimal(100), 'type': 'office'})
        Unit.write([unit2], {'area': Decimal(200), 'type': 'office'})
        Unit.write([unit3], {'area': Decimal(40), 'type': 'office'})
        create_fee(estate, 'management', '3.50', unit_type='office')
        tenant_a = create_party("Tenant A")
        tenant_b = create_party("Tenant B")
        occupy(unit1, tenant_a)
        occupy(unit2, tenant_a)
        occupy(unit3, tenant_b)
        march = run_billing(estate, month(3))
        run_billing(estate, month(4))
        bills = {i.party: i for i in march.invoices}
        bills[tenant_a].pay_invoice(Decimal(525), bank, day(4, 20))
        bills[tenant_b].pay_invoice(Decimal(140), bank, day(4, 20))
        for invoice in bills.values():
            reconcile_invoice(invoice.__class__(invoice.id))
        return {
            'estate': estate, 'buildings': (building1, building2),
            'units': (unit1, unit2, unit3), 'parties': (tenant_a, tenant_b),
            }

    def figures(self, records, key):
        return {key(r): (r.billed, r.paid, r.outstanding, r.rate)
            for r in records}

    @with_transaction()
    def test_collection_per_estate_building_unit(self):
        "Test billed, paid, outstanding and rate per estate, building, unit"
        pool = Pool()
        Estate = pool.get('property.billing.collection.estate')
        Building = pool.get('property.billing.collection.building')
        Unit = pool.get('property.billing.collection.unit')
        Period = pool.get('property.billing.collection.period')
        company = create_company()
        with set_company(company):
            data = self.setup_bills(company)
            estate = data['estate']
            building1, building2 = data['buildings']
            unit1, unit2, unit3 = data['units']
            with Transaction().set_context(estate=estate.id,
                    from_period=month(3), to_period=month(4)):
                self.assertEqual(
                    self.figures(Estate.search([]),
                        lambda r: (r.estate, r.period)), {
                        (estate, month(3)): (Decimal('1190.00'),
                            Decimal('665.00'), Decimal('525.00'),
                            Decimal('55.88')),
                        (estate, month(4)): (Decimal('1190.00'),
                            Decimal('0.00'), Decimal('1190.00'),
                            Decimal('0.00')),
                        })
                self.assertEqual(
                    self.figures(Building.search([
                                ('period', '=', month(3))]),
                        lambda r: r.building), {
                        building1: (Decimal('1050.00'), Decimal('525.00'),
                            Decimal('525.00'), Decimal('50.00')),
                        building2: (Decimal('140.00'), Decimal('140.00'),
                            Decimal('0.00'), Decimal('100.00')),
                        })
                # A's half payment is shared by the units by their amounts
                self.assertEqual(
                    self.figures(Unit.search([('period', '=', month(3))]),
                        lambda r: r.unit), {
                        unit1: (Decimal('350.00'), Decimal('175.00'),
                            Decimal('175.00'), Decimal('50.00')),
                        unit2: (Decimal('700.00'), Decimal('350.00'),
                            Decimal('350.00'), Decimal('50.00')),
                        unit3: (Decimal('140.00'), Decimal('140.00'),
                            Decimal('0.00'), Decimal('100.00')),
                        })
                period, = Period.search([('period', '=', month(3))])
                self.assertEqual(period.outstanding, Decimal('525.00'))

            with Transaction().set_context(estate=estate.id,
                    building=building2.id, from_period=month(4),
                    to_period=month(4)):
                unit, = Unit.search([])
                self.assertEqual((unit.unit, unit.period, unit.billed),
                    (unit3, month(4), Decimal('140.00')))

    @with_transaction()
    def test_aging_buckets(self):
        "Test arrears aging buckets per payer and unit and overdue bills"
        pool = Pool()
        AgingParty = pool.get('property.billing.aging.party')
        AgingUnit = pool.get('property.billing.aging.unit')
        Overdue = pool.get('property.billing.overdue')
        company = create_company()
        with set_company(company):
            data = self.setup_bills(company)
            tenant_a, tenant_b = data['parties']
            unit1, unit2, unit3 = data['units']

            def buckets(record):
                return (record.not_due, record.days_30, record.days_60,
                    record.days_90, record.days_more, record.overdue)

            # March fell due on April 16, April on May 16
            with Transaction().set_context(date=day(5, 20)):
                self.assertEqual(
                    {r.party: buckets(r) for r in AgingParty.search([])}, {
                        tenant_a: (Decimal(0), Decimal('1050.00'),
                            Decimal('525.00'), Decimal(0), Decimal(0),
                            Decimal('1575.00')),
                        tenant_b: (Decimal(0), Decimal('140.00'),
                            Decimal(0), Decimal(0), Decimal(0),
                            Decimal('140.00')),
                        })
                self.assertEqual(
                    {(r.unit, r.party): (r.days_30, r.days_60)
                        for r in AgingUnit.search([])}, {
                        (unit1, tenant_a): (
                            Decimal('350.00'), Decimal('175.00')),
                        (unit2, tenant_a): (
                            Decimal('700.00'), Decimal('350.00')),
                        (unit3, tenant_b): (Decimal('140.00'), Decimal(0)),
                        })
                overdues = Overdue.search([])
                self.assertEqual(
                    (overdues[0].party, overdues[0].period, overdues[0].days),
                    (tenant_a, month(3), 34))
                self.assertEqual(
                    sorted((o.party.name, o.period, o.days, o.outstanding)
                        for o in overdues), [
                        ("Tenant A", month(3), 34, Decimal('525.00')),
                        ("Tenant A", month(4), 4, Decimal('1050.00')),
                        ("Tenant B", month(4), 4, Decimal('140.00')),
                        ])

            # Two months later March is over 90 days overdue
            with Transaction().set_context(date=day(7, 20)):
                aging, = AgingParty.search([('party', '=', tenant_a.id)])
                self.assertEqual(buckets(aging), (Decimal(0), Decimal(0),
                        Decimal(0), Decimal('1050.00'), Decimal('525.00'),
                        Decimal('1575.00')))

            # Before April 16 nothing is overdue yet
            with Transaction().set_context(date=day(4, 10)):
                self.assertEqual(Overdue.search([]), [])
                aging, = AgingParty.search([('party', '=', tenant_b.id)])
                self.assertEqual(aging.not_due, Decimal('140.00'))

    @with_transaction()
    def test_export_arrears(self):
        "Test the XLSX exports of the statistics and of the arrears"
        pool = Pool()
        Export = pool.get('property.billing.collection.export', type='wizard')
        company = create_company()
        with set_company(company):
            data = self.setup_bills(company)
            session_id, _, _ = Export.create()
            export = Export(session_id)
            export.start.report = 'collection_unit'
            export.start.company = company
            export.start.estate = data['estate']
            export.start.building = None
            export.start.from_period = month(3)
            export.start.to_period = month(3)
            export.start.date = None
            export.transition_export()
            sheet = load_workbook(io.BytesIO(export.result.file)).active
            rows = [list(r) for r in sheet.iter_rows(values_only=True)]
            self.assertEqual(rows[0], ["Period", "Estate", "Building",
                    "Unit", "Billed", "Paid", "Outstanding",
                    "Collection Rate (%)", "Late Fees", "Late Fees Paid",
                    "Late Fees Outstanding"])
            self.assertEqual(len(rows), 4)
            self.assertEqual(sorted((r[3], r[4], r[6]) for r in rows[1:]),
                sorted((u.rec_name, b, o) for u, b, o in zip(
                        data['units'], [350, 700, 140], [175, 350, 0])))
            self.assertEqual(export.result.filename,
                f'collection-unit-CL-{month(3)}-{month(3)}.xlsx')

            header, rows = report_sheet('overdue', {
                    'company': company.id, 'date': day(5, 20)})
            rows = list(rows)
            self.assertIn("Days Overdue", header)
            self.assertEqual(sorted(r[header.index("Outstanding")]
                    for r in rows),
                [Decimal('140.00'), Decimal('525.00'), Decimal('1050.00')])
