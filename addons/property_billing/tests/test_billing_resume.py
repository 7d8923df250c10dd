# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import unittest
from unittest.mock import patch

from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import create_estate
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction, TransactionError

from .tools import create_fee, create_party, occupy, setup_billing


class Crash(Exception):
    pass


def committed(func, *args, context=None):
    "Call func in its own committed transaction as a worker would"
    extras = {}
    while True:
        try:
            with Transaction().start(
                    DB_NAME, 0, context=context, **extras):
                return func(*args)
        except TransactionError as e:
            e.fix(extras)


class BillingResumeTestCase(unittest.TestCase):
    "Test a billing run stopped midway resumes without half-billed payers"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    @classmethod
    def tearDownClass(cls):
        # the test commits: the next tests start from a clean database
        drop_db()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.context = {'company': committed(self.setup_run)}

    def setup_run(self):
        pool = Pool()
        Run = pool.get('property.billing.run')
        company = create_company()
        with set_company(company):
            setup_billing(company)
            estate = create_estate(company, code='RS', units=5)
            create_fee(estate, 'management', '3.00')
            create_fee(estate, 'parking', '100', code='PK')
            for i, unit in enumerate(estate.buildings[0].units):
                occupy(unit, create_party(f"Payer {i}"))
            today = dt.date.today()
            self.run_id = Run.create([{
                        'company': company.id,
                        'estate': estate.id,
                        'period': today.strftime('%Y-%m'),
                        'invoice_date': today,
                        }])[0].id
        return company.id

    def invoices_by_party(self):
        "Return the state and counts of the run and the invoices by payer"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Line = pool.get('property.billing.line')
        run = Run(self.run_id)
        invoices = {}
        for line in Line.search([('run', '=', self.run_id)]):
            invoice = line.invoice
            invoices.setdefault(line.party.id, set()).add(
                (invoice.state, invoice.party.id, len(invoice.lines))
                if invoice else None)
        return (run.state, run.invoice_count, run.posted_count), invoices

    def test_resume_after_crash(self):
        "Test a run that crashed in its second batch resumes where it stopped"
        calls = []

        def compute_and_crash():
            pool = Pool()
            Run = pool.get('property.billing.run')
            Invoice = pool.get('account.invoice')
            post = Invoice.post_billing

            def crash_second_batch(invoices):
                calls.append(len(invoices))
                if len(calls) == 2:
                    raise Crash
                return post(invoices)

            Run.compute([Run(self.run_id)])
            Transaction().commit()
            with patch.object(Invoice, 'post_billing', crash_second_batch):
                Run.create_invoices(
                    [Run(self.run_id)], batch_size=2, post=True)

        with self.assertRaises(Crash):
            committed(compute_and_crash, context=self.context)

        run, invoices = committed(self.invoices_by_party,
            context=self.context)
        self.assertEqual(run, ('computed', 2, 2))
        billed = {p: i for p, i in invoices.items() if i != {None}}
        self.assertEqual(len(billed), 2)
        for party, party_invoices in billed.items():
            self.assertEqual(party_invoices, {('posted', party, 2)})

        def resume():
            Run = Pool().get('property.billing.run')
            Run.process([Run(self.run_id)], batch_size=2)

        committed(resume, context=self.context)

        run, invoices = committed(self.invoices_by_party,
            context=self.context)
        self.assertEqual(run, ('posted', 5, 5))
        self.assertEqual(len(invoices), 5)
        for party, party_invoices in invoices.items():
            self.assertEqual(party_invoices, {('posted', party, 2)})
