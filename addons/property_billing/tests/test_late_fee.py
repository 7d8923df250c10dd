# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import unittest
from decimal import Decimal

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import create_estate
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from ..late_fee import split_by_amounts
from ..payment import reconcile_invoice
from .tools import (
    create_fee, create_party, day, month, occupy, run_billing, setup_billing,
    setup_payment_methods)


class LateFeeTestCase(unittest.TestCase):
    "Test late fees billed by the dunning levels"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    def setup_bills(self, company):
        """Bill March and April to two tenants, dun with a late fee level

        Tenant A leases units 1 and 2 (350 + 700 a month) and pays half of
        March (525), tenant B unit 3 (140 a month) and pays March.  The
        bills fall due 15 days after the 1st of the next month; a level at
        7 days overdue charges 0.05 % a day.
        """
        pool = Pool()
        Unit = pool.get('property.unit')
        Fee = pool.get('account.dunning.fee')
        Procedure = pool.get('account.dunning.procedure')
        AccountConfiguration = pool.get('account.configuration')
        accounts = setup_billing(company)
        _, bank = setup_payment_methods(company, accounts)
        fee = Fee(name="Late Fee", journal=accounts['journal_revenue'],
            compute_method='late_fee')
        fee.save()
        procedure = Procedure(name="Property Fees", levels=[{
                    'sequence': 10,
                    'name': "Payment Reminder",
                    'overdue': dt.timedelta(days=7),
                    'fee': fee.id,
                    }])
        procedure.save()
        configuration = AccountConfiguration(1)
        configuration.default_dunning_procedure = procedure
        configuration.save()
        estate = create_estate(company, code='LF', buildings=2, units=2)
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
        april = run_billing(estate, month(4))
        bills = {i.party: i for i in march.invoices}
        bills[tenant_a].pay_invoice(Decimal(525), bank, day(4, 20))
        bills[tenant_b].pay_invoice(Decimal(140), bank, day(4, 20))
        for invoice in bills.values():
            reconcile_invoice(invoice.__class__(invoice.id))

        return {
            'estate': estate, 'units': (unit1, unit2, unit3),
            'parties': (tenant_a, tenant_b), 'bank': bank,
            'march': bills,
            'april': {i.party: i for i in april.invoices},
            }

    def dun(self, date):
        Pool().get('account.dunning').run_reminders(date=date)

    def late_fee_bills(self):
        Invoice = Pool().get('account.invoice')
        return [i for i in Invoice.search([], order=[('id', 'ASC')])
            if i.is_late_fee]

    def test_split_by_amounts(self):
        "Test a late fee is split by amounts, the last share taking the rest"
        def rounding(amount):
            return amount.quantize(Decimal('0.01'))
        self.assertEqual(
            split_by_amounts(Decimal('1.00'), [1, 1, 1], rounding),
            [Decimal('0.33'), Decimal('0.33'), Decimal('0.34')])
        self.assertEqual(
            split_by_amounts(Decimal('6.30'), [350, 700], rounding),
            [Decimal('2.10'), Decimal('4.20')])

    @with_transaction()
    def test_late_fee_bill(self):
        "Test the late fee of a level is a posted bill per unit and period"
        pool = Pool()
        LateFee = pool.get('property.billing.late_fee')
        Dunning = pool.get('account.dunning')
        company = create_company()
        with set_company(company):
            data = self.setup_bills(company)
            tenant_a, _ = data['parties']
            unit1, unit2, _ = data['units']
            march_a = data['march'][tenant_a]

            # March is due on April 16: on May 10 A still owes 525.00 of it
            # for 24 days, 525 x 0.0005 x 24 = 6.30
            self.dun(day(5, 10))
            late_bill, = self.late_fee_bills()
            self.assertEqual(late_bill.state, 'posted')
            self.assertEqual(late_bill.party, tenant_a)
            self.assertEqual(late_bill.invoice_date, day(5, 10))
            self.assertEqual(late_bill.total_amount, Decimal('6.30'))
            self.assertEqual(late_bill.late_fee_of, march_a)
            self.assertEqual(
                sorted((l.origin.unit, l.origin.period, l.amount)
                    for l in late_bill.lines), [
                    (unit1, month(3), Decimal('2.10')),
                    (unit2, month(3), Decimal('4.20')),
                    ])
            dunning, = Dunning.search([])
            charge, = dunning.fees
            self.assertEqual(charge.invoice, late_bill)
            self.assertEqual((charge.from_date, charge.to_date),
                (day(4, 17), day(5, 10)))
            self.assertEqual(
                {f.charge for f in LateFee.search([])}, {charge})

            # the days are charged once
            self.dun(day(5, 10))
            self.dun(day(5, 11))
            self.assertEqual(len(self.late_fee_bills()), 1)
            with Transaction().set_context(dunning_date=day(5, 10)):
                self.assertEqual(
                    Dunning(dunning.id).late_fee_due(charge.level.fee),
                    Decimal(0))

    @with_transaction()
    def test_late_fee_not_dunned(self):
        "Test a late fee bill overdue is not dunned for itself"
        pool = Pool()
        Dunning = pool.get('account.dunning')
        company = create_company()
        with set_company(company):
            data = self.setup_bills(company)
            tenant_a, tenant_b = data['parties']
            self.dun(day(5, 10))
            late_bill, = self.late_fee_bills()

            # on June 5 the late fee bill (due May 25) is 11 days overdue,
            # the April bills (due May 16) 20 days
            self.dun(day(6, 5))
            self.assertEqual(
                {d.invoice for d in Dunning.search([])},
                {data['march'][tenant_a], data['april'][tenant_a],
                    data['april'][tenant_b]})
            # each April bill got its late fee bill
            self.assertEqual(
                sorted((i.party.name, i.total_amount)
                    for i in self.late_fee_bills()), [
                    ("Tenant A", Decimal('6.30')),
                    ("Tenant A", Decimal('10.50')),
                    ("Tenant B", Decimal('1.40')),
                    ])

    @with_transaction()
    def test_collection_counts_late_fees_apart(self):
        "Test collection figures show the late fees apart from the fees"
        pool = Pool()
        Estate = pool.get('property.billing.collection.estate')
        Unit = pool.get('property.billing.collection.unit')
        AgingParty = pool.get('property.billing.aging.party')
        company = create_company()
        with set_company(company):
            data = self.setup_bills(company)
            estate = data['estate']
            tenant_a, _ = data['parties']
            unit1, unit2, unit3 = data['units']
            self.dun(day(5, 10))
            late_bill, = self.late_fee_bills()

            def figures(records, key):
                return {key(r): (r.billed, r.paid, r.outstanding, r.rate,
                        r.late_fees, r.late_fees_paid,
                        r.late_fees_outstanding)
                    for r in records}

            with Transaction().set_context(estate=estate.id,
                    from_period=month(3), to_period=month(3)):
                self.assertEqual(
                    figures(Estate.search([]), lambda r: r.period), {
                        month(3): (Decimal('1190.00'), Decimal('665.00'),
                            Decimal('525.00'), Decimal('55.88'),
                            Decimal('6.30'), Decimal('0.00'),
                            Decimal('6.30')),
                        })
                self.assertEqual(
                    figures(Unit.search([]), lambda r: r.unit), {
                        unit1: (Decimal('350.00'), Decimal('175.00'),
                            Decimal('175.00'), Decimal('50.00'),
                            Decimal('2.10'), Decimal('0.00'),
                            Decimal('2.10')),
                        unit2: (Decimal('700.00'), Decimal('350.00'),
                            Decimal('350.00'), Decimal('50.00'),
                            Decimal('4.20'), Decimal('0.00'),
                            Decimal('4.20')),
                        unit3: (Decimal('140.00'), Decimal('140.00'),
                            Decimal('0.00'), Decimal('100.00'),
                            Decimal('0.00'), Decimal('0.00'),
                            Decimal('0.00')),
                        })

            # the arrears count the late fees: 525 + 1050 (April) + 6.30
            with Transaction().set_context(
                    estate=estate.id, date=day(5, 10)):
                aging = {a.party: a.outstanding for a in AgingParty.search([])}
                self.assertEqual(aging[tenant_a], Decimal('1581.30'))

            late_bill.pay_invoice(
                Decimal('6.30'), data['bank'], day(5, 12))
            reconcile_invoice(late_bill.__class__(late_bill.id))
            with Transaction().set_context(estate=estate.id,
                    from_period=month(3), to_period=month(3)):
                record, = Estate.search([])
                self.assertEqual(figures([record], lambda r: r.period), {
                        month(3): (Decimal('1190.00'), Decimal('665.00'),
                            Decimal('525.00'), Decimal('55.88'),
                            Decimal('6.30'), Decimal('6.30'),
                            Decimal('0.00')),
                        })
