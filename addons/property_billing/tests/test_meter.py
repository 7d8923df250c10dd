# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_billing.exceptions import (
    ReadingValidationError)
from trytond.modules.property_community.sheet import write_sheet
from trytond.modules.property_community.tests.tools import create_estate
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from .tools import create_fee


class MeterTestCase(unittest.TestCase):
    "Test meters, readings, replacements and the import of readings"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    def create_meter(self, estate, code='W1', unit=None, **values):
        Meter = Pool().get('property.billing.meter')
        unit = unit or estate.buildings[0].units[0]
        meter = Meter(estate=estate, code=code, kind='water', unit=unit,
            **values)
        meter.save()
        return meter

    def read(self, meter, date, value):
        Reading = Pool().get('property.billing.meter.reading')
        reading = Reading(meter=meter, date=date, value=Decimal(value))
        reading.save()
        return reading

    @with_transaction()
    def test_tariff_tiers(self):
        "Test tiered prices by usage thresholds"
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            fee = create_fee(estate, 'water', '3.00',
                tiers=[('10', '4.00'), ('20', '6.00')])
            tariff, = fee.tariffs

            self.assertEqual(tariff.compute(Decimal('8')), Decimal('24.00'))
            self.assertEqual(tariff.compute(Decimal('10')), Decimal('30.00'))
            self.assertEqual(
                tariff.compute(Decimal('15.5')), Decimal('52.00'))
            self.assertEqual(tariff.compute(Decimal('25')), Decimal('100.00'))
            self.assertEqual(
                tariff.compute(Decimal('25'), rate=Decimal('2')),
                Decimal('50'))

    @with_transaction()
    def test_tariff_in_force(self):
        "Test the tariff in force is the last effective one"
        pool = Pool()
        Tariff = pool.get('property.billing.tariff')
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            fee = create_fee(estate, 'management', '3.00',
                start_date=dt.date(2024, 1, 1))
            Tariff(fee=fee, estate=estate, start_date=dt.date(2025, 1, 1),
                rate=Decimal('3.50')).save()

            key = (fee, estate)
            self.assertEqual(Tariff.get_tariffs(
                    {key}, dt.date(2024, 12, 31))[key].rate, Decimal('3.00'))
            self.assertEqual(Tariff.get_tariffs(
                    {key}, dt.date(2025, 1, 31))[key].rate, Decimal('3.50'))
            self.assertEqual(
                Tariff.get_tariffs({key}, dt.date(2023, 12, 31)), {})

    @with_transaction()
    def test_lower_reading_refused(self):
        "Test a reading lower than the previous one is refused"
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            meter = self.create_meter(estate, initial_reading=Decimal(100))
            self.read(meter, dt.date(2025, 1, 31), '120')

            with self.assertRaises(ReadingValidationError):
                self.read(meter, dt.date(2025, 2, 28), '119.99')
            with self.assertRaises(ReadingValidationError):
                self.read(meter, dt.date(2025, 1, 15), '121')
            with self.assertRaises(ReadingValidationError):
                self.read(meter, dt.date(2025, 1, 10), '99')

    @with_transaction()
    def test_same_reading_accepted(self):
        "Test a reading equal to the previous one is accepted"
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            meter = self.create_meter(estate, initial_reading=Decimal(100))
            self.read(meter, dt.date(2025, 1, 31), '100')
            self.read(meter, dt.date(2025, 2, 28), '100')

            self.assertEqual(meter.last_reading, Decimal(100))

    @with_transaction()
    def test_replacement(self):
        "Test a lower reading after the meter was replaced"
        pool = Pool()
        Replacement = pool.get('property.billing.meter.replacement')
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            meter = self.create_meter(estate, multiplier=Decimal(2))
            jan = self.read(meter, dt.date(2025, 1, 31), '950')
            Replacement(meter=meter, date=dt.date(2025, 2, 10),
                final_reading=Decimal('990'),
                initial_reading=Decimal('0')).save()
            feb = self.read(meter, dt.date(2025, 2, 28), '15')

            self.assertEqual(meter.consumption(jan, feb), Decimal('110'))
            self.assertEqual(meter.consumption(None, jan), Decimal('1900'))
            self.assertEqual(meter.last_reading, Decimal('15'))

    @with_transaction()
    def test_replacement_final_lower_refused(self):
        "Test the final reading of a replaced meter is not lower"
        pool = Pool()
        Replacement = pool.get('property.billing.meter.replacement')
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            meter = self.create_meter(estate)
            self.read(meter, dt.date(2025, 1, 31), '950')

            with self.assertRaises(ReadingValidationError):
                Replacement(meter=meter, date=dt.date(2025, 2, 10),
                    final_reading=Decimal('900'),
                    initial_reading=Decimal('0')).save()

    @with_transaction()
    def test_period_readings(self):
        "Test the readings that bill a period"
        pool = Pool()
        Meter = pool.get('property.billing.meter')
        company = create_company()
        with set_company(company):
            estate = create_estate(company)
            meter = self.create_meter(estate)
            other = self.create_meter(
                estate, code='W2', unit=estate.buildings[0].units[1])
            jan = self.read(meter, dt.date(2025, 1, 31), '10')
            self.read(meter, dt.date(2025, 3, 15), '20')
            mar = self.read(meter, dt.date(2025, 3, 31), '30')
            first = self.read(other, dt.date(2025, 3, 2), '5')

            readings = Meter.period_readings(
                [meter, other], dt.date(2025, 3, 1), dt.date(2025, 3, 31))

            self.assertEqual(readings[meter], (jan, mar))
            self.assertEqual(readings[other], (None, first))
            self.assertEqual(Meter.period_readings(
                    [meter], dt.date(2025, 2, 1), dt.date(2025, 2, 28)), {})

    def import_readings(self, rows, skip=False, format_='csv'):
        pool = Pool()
        # as the back-office import wizard finds it
        ImportStart = pool.get('property.sheet.import.start')
        Sheet = pool.get(ImportStart.sheets()['meter_reading'])
        data = write_sheet(
            ['Estate', 'Meter', 'Date', 'Reading'], rows, format_)
        return Sheet.import_file(data, skip_bad_rows=skip)

    @with_transaction()
    def test_import_readings(self):
        "Test importing readings from a spreadsheet"
        pool = Pool()
        Reading = pool.get('property.billing.meter.reading')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, code='E1')
            meter = self.create_meter(estate)
            self.create_meter(estate, code='W2',
                unit=estate.buildings[0].units[1])
            self.read(meter, dt.date(2025, 1, 31), '10')

            result = self.import_readings([
                    ['E1', 'W1', '2025-02-28', '12.5'],
                    ['', 'W2', dt.date(2025, 2, 28), '3'],
                    ['E1', 'W1', '2025-01-31', '10'],
                    ], format_='xlsx')

            self.assertEqual(result['errors'], [])
            self.assertEqual((result['created'], result['unchanged']),
                (2, 1))
            self.assertEqual(
                [(r.meter.code, r.value) for r in Reading.search(
                        [], order=[('meter.code', 'ASC'), ('date', 'ASC')])],
                [('W1', Decimal('10')), ('W1', Decimal('12.5')),
                    ('W2', Decimal('3'))])

    @with_transaction()
    def test_import_readings_errors(self):
        "Test a file with bad rows imports nothing and says why per row"
        pool = Pool()
        Reading = pool.get('property.billing.meter.reading')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, code='E1')
            meter = self.create_meter(estate)
            self.create_meter(estate, code='W2',
                unit=estate.buildings[0].units[1])
            self.read(meter, dt.date(2025, 1, 31), '10')

            rows = [
                ['E1', 'W1', '2025-02-28', '9'],
                ['E1', 'W9', '2025-02-28', '1'],
                ['E1', 'W2', '2025-02-30', '1'],
                ['E1', 'W2', '2025-02-28', '-1'],
                ['E1', 'W2', '2025-03-31', '4'],
                ]
            result = self.import_readings(rows)

            self.assertEqual([e['row'] for e in result['errors']],
                [2, 3, 4, 5])
            self.assertIn('lower', result['errors'][0]['message'])
            self.assertEqual(result['imported'], 0)
            self.assertEqual(Reading.search([], count=True), 1)

            result = self.import_readings(rows, skip=True)

            self.assertEqual(result['imported'], 1)
            self.assertEqual(Reading.search([], count=True), 2)
