# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import unittest
from decimal import Decimal

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import create_estate
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from .tools import (
    create_fee, create_party, day, month, occupy, run_billing, setup_billing)


class BillingRunTestCase(unittest.TestCase):
    "Test billing runs from fees to posted invoices"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    def setup_estate(self, company, units=2):
        "Return an estate of offices with a management fee of 3.50 / m²"
        pool = Pool()
        Unit = pool.get('property.unit')
        setup_billing(company)
        estate = create_estate(company, code='HX', units=units)
        units = list(estate.buildings[0].units)
        Unit.write(units, {'type': 'office'})
        create_fee(estate, 'management', '3.50', name="Management Fee")
        return estate, units

    def lines(self, invoice):
        return [(l.description, l.amount) for l in invoice.lines]

    @with_transaction()
    def test_management_fee_invoiced(self):
        "Test one posted invoice per payer with a line per fee"
        pool = Pool()
        Unit = pool.get('property.unit')
        company = create_company()
        with set_company(company):
            estate, (unit1, unit2) = self.setup_estate(company)
            Unit.write([unit1], {'area': Decimal('100.15')})
            Unit.write([unit2], {'area': Decimal('20')})
            create_fee(estate, 'parking', '300', code='P', name="Parking")
            tenant = create_party("Tenant")
            occupy(unit1, tenant)
            occupy(unit2, tenant)

            run = run_billing(estate, month(3))

            self.assertEqual(run.state, 'posted')
            self.assertEqual(
                (run.unit_count, run.payer_count, run.line_count), (2, 1, 4))
            self.assertEqual((run.invoice_count, run.posted_count), (1, 1))
            invoice, = run.invoices
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.party, tenant)
            # 100.15 x 3.50 = 350.525 rounds half up
            self.assertEqual(
                [l.amount for l in invoice.lines],
                [Decimal('350.53'), Decimal('300.00'),
                    Decimal('70.00'), Decimal('300.00')])
            self.assertEqual(invoice.total_amount, Decimal('1020.53'))
            self.assertEqual(
                {l.origin.__name__ for l in invoice.lines},
                {'property.billing.line'})
            self.assertEqual(invoice.lines[0].origin.unit, unit1)
            self.assertEqual(
                invoice.lines_to_pay[0].maturity_date,
                run.invoice_date + dt.timedelta(days=15))
            self.assertEqual(
                invoice.lines[0].account.code, '6001')

    @with_transaction()
    def test_rerun_creates_nothing(self):
        "Test billing a period again creates nothing new"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        company = create_company()
        with set_company(company):
            estate, (unit1, unit2) = self.setup_estate(company)
            occupy(unit1, create_party("Owner"), role='owner')
            run_billing(estate, month(3))

            run = run_billing(estate, month(3))

            self.assertEqual((run.line_count, run.invoice_count), (0, 0))
            self.assertEqual(run.state, 'posted')
            self.assertEqual(Invoice.search([], count=True), 1)

    @with_transaction()
    def test_payer_change_mid_period(self):
        "Test a unit whose payer changed mid-period is split by days"
        company = create_company()
        with set_company(company):
            estate, (unit1,) = self.setup_estate(company, units=1)
            owner = create_party("Owner")
            merchant = create_party("Merchant")
            tenant = create_party("Tenant")
            occupy(unit1, owner, role='owner')
            occupy(unit1, merchant, role='merchant', end_date=day(4, 10))
            occupy(unit1, tenant, start_date=day(4, 21))

            run = run_billing(estate, month(4))

            by_party = {i.party: i for i in run.invoices}
            self.assertEqual(set(by_party), {owner, merchant, tenant})
            # 50 m2 x 3.50 = 175.00 over 30 days
            self.assertEqual(by_party[merchant].total_amount,
                Decimal('58.33'))
            self.assertEqual(by_party[owner].total_amount, Decimal('58.33'))
            self.assertEqual(by_party[tenant].total_amount, Decimal('58.34'))
            line, = by_party[owner].lines
            self.assertEqual(
                (line.origin.start_date, line.origin.end_date),
                (day(4, 11), day(4, 20)))

    @with_transaction()
    def test_prorated_by_days(self):
        "Test a tenant arriving mid-month pays the days occupied"
        company = create_company()
        with set_company(company):
            estate, (unit,) = self.setup_estate(company, units=1)
            tenant = create_party("Tenant")
            occupy(unit, tenant, start_date=day(3, 22))

            run = run_billing(estate, month(3))

            invoice, = run.invoices
            # 175.00 x 10 / 31 = 56.45
            self.assertEqual(invoice.total_amount, Decimal('56.45'))
            self.assertIn('-', invoice.lines[0].description)

    @with_transaction()
    def test_no_payer_noted(self):
        "Test a vacant unit without owner is not billed and noted"
        company = create_company()
        with set_company(company):
            estate, (unit,) = self.setup_estate(company, units=1)

            run = run_billing(estate, month(3))

            self.assertEqual(run.line_count, 0)
            self.assertIn(unit.rec_name, run.notes)

    def setup_water(self, company):
        pool = Pool()
        Meter = pool.get('property.billing.meter')
        Reading = pool.get('property.billing.meter.reading')
        Unit = pool.get('property.unit')
        estate, units = self.setup_estate(company, units=3)
        Unit.write(units[:1], {'area': Decimal('60')})
        Unit.write(units[1:2], {'area': Decimal('40')})
        Unit.write(units[2:], {'type': 'public'})
        water = create_fee(estate, 'water', '3.00', code='W', name="Water",
            tiers=[('10', '4.00')])
        meter = Meter(estate=estate, code='W1', kind='water', unit=units[0])
        shared = Meter(estate=estate, code='WS', kind='water', shared=True,
            units=units[:2], multiplier=Decimal(10))
        Meter.save([meter, shared])
        Reading.save([
                Reading(meter=meter, date=day(2, 28), value=Decimal(100)),
                Reading(meter=meter, date=day(3, 31), value=Decimal(112)),
                Reading(meter=shared, date=day(2, 28), value=Decimal(50)),
                Reading(meter=shared, date=day(3, 31), value=Decimal(51)),
                ])
        return estate, units, water, meter

    @with_transaction()
    def test_water_with_shared_meter(self):
        "Test water from the meter and the shared meter by area, tiered"
        company = create_company()
        with set_company(company):
            estate, units, water, meter = self.setup_water(company)
            tenant1, tenant2 = create_party("T1"), create_party("T2")
            occupy(units[0], tenant1)
            occupy(units[1], tenant2)

            run = run_billing(estate, month(3))

            by_party = {i.party: i for i in run.invoices}
            water1, = [l for l in by_party[tenant1].lines
                if l.origin.fee == water]
            line = water1.origin
            # own 12 + shared 10 x 60 % = 18; 10 x 3.00 + 8 x 4.00
            self.assertEqual(
                (line.consumption, line.shared_consumption, line.quantity),
                (Decimal('12'), Decimal('6'), Decimal('18')))
            self.assertEqual(
                (line.previous_value, line.current_value),
                (Decimal('100'), Decimal('112')))
            self.assertEqual(line.amount, Decimal('62.00'))
            water2, = [l for l in by_party[tenant2].lines
                if l.origin.fee == water]
            # only the shared 4 m3
            self.assertEqual(water2.amount, Decimal('12.00'))
            self.assertTrue(line.current_reading.billed)
            with self.assertRaises(AccessError):
                line.current_reading.value = Decimal(113)
                line.current_reading.save()

    @with_transaction()
    def test_missing_reading_noted(self):
        "Test a unit without reading in the period is noted, not billed"
        pool = Pool()
        Meter = pool.get('property.billing.meter')
        company = create_company()
        with set_company(company):
            estate, units = self.setup_estate(company, units=1)
            create_fee(estate, 'electricity', '1.00', code='E')
            Meter(estate=estate, code='E1', kind='electricity',
                unit=units[0]).save()
            occupy(units[0], create_party("Tenant"))

            run = run_billing(estate, month(3), post=False)

            self.assertEqual(run.line_count, 1)
            self.assertIn('E1', run.notes.replace(units[0].rec_name, 'E1'))

    @with_transaction()
    def test_unit_fee_overrides(self):
        "Test a unit excluded from a fee and a unit with its own rate"
        pool = Pool()
        UnitFee = pool.get('property.billing.unit.fee')
        Fee = pool.get('property.billing.fee')
        company = create_company()
        with set_company(company):
            estate, (unit1, unit2) = self.setup_estate(company)
            fee, = Fee.search([('kind', '=', 'management')])
            UnitFee.save([
                    UnitFee(unit=unit1, fee=fee, excluded=True),
                    UnitFee(unit=unit2, fee=fee, rate=Decimal('2'),
                        quantity=Decimal('10')),
                    ])
            tenant = create_party("Tenant")
            occupy(unit1, tenant)
            occupy(unit2, tenant)

            run = run_billing(estate, month(3))

            invoice, = run.invoices
            self.assertEqual(self.lines(invoice)[0][1], Decimal('20.00'))
            self.assertEqual(len(invoice.lines), 1)

    @with_transaction()
    def test_one_off_charge(self):
        "Test a one-off charge is billed once with the next run"
        pool = Pool()
        Charge = pool.get('property.billing.charge')
        company = create_company()
        with set_company(company):
            estate, (unit,) = self.setup_estate(company, units=1)
            repair = create_fee(
                estate, 'other', None, code='R', name="Repair", rule=False)
            tenant = create_party("Tenant")
            occupy(unit, tenant)
            charge = Charge(unit=unit, fee=repair, date=day(3, 5),
                description="Door lock", amount=Decimal('80'))
            charge.save()

            run = run_billing(estate, month(3))
            again = run_billing(estate, month(4))

            invoice, = run.invoices
            self.assertEqual(self.lines(invoice)[1],
                ("Door lock", Decimal('80.00')))
            self.assertEqual(invoice.lines[1].account.code, '6051')
            self.assertEqual(Charge(charge.id).state, 'billed')
            self.assertEqual(again.line_count, 1)

    @with_transaction()
    def test_preview_reset(self):
        "Test a computed run can be reset and computed again"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Line = pool.get('property.billing.line')
        company = create_company()
        with set_company(company):
            estate, (unit,) = self.setup_estate(company, units=1)
            occupy(unit, create_party("Tenant"))
            run = Run(estate=estate, period=month(3),
                invoice_date=day(4, 1))
            run.save()
            Run.compute([run])
            self.assertEqual(run.line_count, 1)
            self.assertEqual(run.amount, Decimal('175.00'))

            Run.draft([run])
            self.assertEqual(Line.search([], count=True), 0)
            Run.compute([run])
            Run(run.id)._invoice_batch()

            run = Run(run.id)
            self.assertEqual((run.state, run.invoice_count), ('computed', 1))
            with self.assertRaises(AccessError):
                Run.draft([run])
            with self.assertRaises(AccessError):
                Run.compute([run])

    @with_transaction()
    def test_invoices_in_batches(self):
        "Test invoices are created and posted in batches"
        pool = Pool()
        Run = pool.get('property.billing.run')
        company = create_company()
        with set_company(company):
            estate, units = self.setup_estate(company, units=5)
            for i, unit in enumerate(units):
                occupy(unit, create_party(f"Tenant {i}"))
            run = Run(estate=estate, period=month(3),
                invoice_date=day(4, 1))
            run.save()
            Run.compute([run])

            Run(run.id)._invoice_batch(batch_size=2)
            run = Run(run.id)
            self.assertEqual((run.state, run.invoice_count), ('computed', 2))
            Run.create_invoices([run], batch_size=2, commit=False)
            Run.post_invoices([run], batch_size=2, commit=False)

            run = Run(run.id)
            self.assertEqual(
                (run.state, run.invoice_count, run.posted_count),
                ('posted', 5, 5))
            self.assertEqual(
                {i.state for i in run.invoices}, {'posted'})
            self.assertEqual(len({i.party for i in run.invoices}), 5)
