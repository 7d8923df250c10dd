# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import unittest

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction

from .tools import setup_billing


class BillingSetupTestCase(unittest.TestCase):
    "Test the chart of accounts and the billing configuration"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    @with_transaction()
    def test_setup_billing(self):
        "Test the property chart of accounts with the billing configuration"
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        company = create_company()
        with set_company(company):
            records = setup_billing(company, days_until_due=10)
            configuration = Configuration(1)

            self.assertEqual(records['receivable'].code, '1122')
            self.assertTrue(records['receivable'].type.receivable)
            self.assertTrue(records['receivable'].party_required)
            self.assertEqual(records['wechat'].code, '1012')
            self.assertTrue(records['late_fee'].type.revenue)
            self.assertEqual(
                configuration.get_fee_account('water'), records['water'])
            self.assertEqual(
                configuration.get_payment_term(), records['payment_term'])
            self.assertEqual(
                configuration.get_invoice_journal().code, 'REV')

    @with_transaction()
    def test_payment_term_from_days(self):
        "Test the payment term made from the days until due"
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        company = create_company()
        with set_company(company):
            configuration = Configuration(1)
            configuration.days_until_due = 20
            configuration.save()

            term = configuration.get_payment_term()

            self.assertEqual(
                term.lines[0].relativedeltas[0].days, 20)
            self.assertEqual(configuration.get_payment_term(), term)

