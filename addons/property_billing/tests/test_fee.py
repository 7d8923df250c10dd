# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.property_billing.billing import (
    payer_segments, period_dates, split_by_days)
from trytond.modules.property_billing.fee import round_fen
from trytond.modules.property_billing.meter import apportion


class Occupancy:
    _ids = iter(range(1, 1000))

    def __init__(self, party, role, start, end=None):
        self.id = next(self._ids)
        self.party, self.role = party, role
        self.start_date, self.end_date = start, end


class BillingRulesTestCase(unittest.TestCase):
    "Test the billing rules that need no database"

    def test_round_half_up(self):
        "Test amounts round half up to the fen"
        self.assertEqual(round_fen(Decimal('0.125')), Decimal('0.13'))
        self.assertEqual(round_fen(Decimal('0.135')), Decimal('0.14'))
        self.assertEqual(round_fen(Decimal('2.004999')), Decimal('2.00'))
        self.assertEqual(round_fen(Decimal('2.005')), Decimal('2.01'))

    def test_period_dates(self):
        "Test the first and last day of a period"
        self.assertEqual(period_dates('2024-02'),
            (dt.date(2024, 2, 1), dt.date(2024, 2, 29)))
        for period in ['2024-13', '2024-1', '24-01', '', None]:
            with self.subTest(period=period):
                with self.assertRaises(ValueError):
                    period_dates(period)

    def test_payer_tenant_over_owner(self):
        "Test the tenant pays while leasing and the owner the other days"
        start, end = period_dates('2025-04')
        segments = payer_segments([
                Occupancy('owner', 'owner', dt.date(2020, 1, 1)),
                Occupancy('tenant', 'tenant', dt.date(2025, 4, 11)),
                ], start, end)
        self.assertEqual(segments, [
                ('owner', dt.date(2025, 4, 1), dt.date(2025, 4, 10)),
                ('tenant', dt.date(2025, 4, 11), dt.date(2025, 4, 30)),
                ])

    def test_payer_change(self):
        "Test a merchant leaving and a tenant arriving mid-month"
        start, end = period_dates('2025-04')
        segments = payer_segments([
                Occupancy('a', 'merchant', dt.date(2024, 1, 1),
                    dt.date(2025, 4, 15)),
                Occupancy('b', 'tenant', dt.date(2025, 4, 21)),
                ], start, end)
        self.assertEqual(segments, [
                ('a', dt.date(2025, 4, 1), dt.date(2025, 4, 15)),
                ('b', dt.date(2025, 4, 21), dt.date(2025, 4, 30)),
                ])

    def test_split_whole_month(self):
        "Test parts covering the month add up to the rounded amount"
        parts = split_by_days(Decimal('100.005'), [10, 20], 30)
        self.assertEqual(parts, [Decimal('33.34'), Decimal('66.67')])
        self.assertEqual(sum(parts), Decimal('100.01'))

    def test_split_prorated(self):
        "Test days of a month without payer are not billed"
        parts = split_by_days(Decimal('3100.00'), [10], 31)
        self.assertEqual(parts, [Decimal('1000.00')])
        parts = split_by_days(Decimal('100.00'), [1], 30)
        self.assertEqual(parts, [Decimal('3.33')])

    def test_apportion_by_area(self):
        "Test shared consumption split by area adds up to the total"
        shares = apportion(Decimal('100.00'),
            [Decimal('50'), Decimal('30'), Decimal('20')])
        self.assertEqual(shares,
            [Decimal('50.00'), Decimal('30.00'), Decimal('20.00')])
        shares = apportion(Decimal('10.00'), [1, 1, 1])
        self.assertEqual(sum(shares), Decimal('10.00'))
        self.assertEqual(sorted(shares),
            [Decimal('3.33'), Decimal('3.33'), Decimal('3.34')])

    def test_apportion_without_area(self):
        "Test units without area share equally"
        self.assertEqual(apportion(Decimal('9'), [None, 0, None]),
            [Decimal('3.00')] * 3)
        self.assertEqual(apportion(Decimal('9'), []), [])
