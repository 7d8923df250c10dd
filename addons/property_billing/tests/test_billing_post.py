# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import re
import unittest
from decimal import Decimal

from trytond.model.exceptions import DomainValidationError
from trytond.modules.company.tests import (
    create_company, create_employee, set_company)
from trytond.modules.property_community.tests.tools import create_estate
from trytond.pool import Pool
from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction

from ..exceptions import BillingRunError
from ..invoice import RUN_CONTEXT, run_invoices_built
from .tools import create_fee, create_party, month, occupy, setup_billing


class BillingPostTestCase(unittest.TestCase):
    "Test how billing runs post their invoices"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('property_billing')

    def setup_run(self, company, payers=3):
        "Return a computed run of an estate with payers tenants"
        pool = Pool()
        Unit = pool.get('property.unit')
        Run = pool.get('property.billing.run')
        setup_billing(company)
        estate = create_estate(company, code='HX', units=payers)
        units = list(estate.buildings[0].units)
        Unit.write(units, {'type': 'office', 'area': Decimal('50')})
        create_fee(estate, 'management', '3.50', name="Management Fee")
        create_fee(estate, 'parking', '300', code='P', name="Parking")
        for i, unit in enumerate(units):
            occupy(unit, create_party(f"Tenant {i}"))
        run = Run(company=company, estate=estate, period=month(3),
            invoice_date=dt.date(dt.date.today().year, 4, 1))
        run.save()
        Run.compute([run])
        return run

    def moves(self, invoices):
        "Return what accounting holds of invoices, without their ids"
        return [(
                i.state, i.number, i.sequence_type_cache,
                i.invoice_date, i.payment_term_date, i.untaxed_amount_cache,
                i.tax_amount_cache, i.total_amount_cache, i.account,
                i.move.state, i.move.date, i.move.period, i.move.journal,
                bool(i.move.number), i.move.post_date,
                sorted((l.account.id, l.party, l.debit, l.credit,
                        l.maturity_date, l.description, l.reconciliation)
                    for l in i.move.lines))
            for i in invoices]

    @with_transaction()
    def test_posted_by(self):
        "Test the run sets posted by to the employee of the user running it"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Invoice = pool.get('account.invoice')
        User = pool.get('res.user')
        company = create_company()
        with set_company(company):
            employee = create_employee(company, name="Billing Clerk")
            clerk = User(login='clerk', companies=[company], company=company,
                employees=[employee], employee=employee)
            clerk.save()
            run = self.setup_run(company)
            with Transaction().set_user(clerk.id):
                Run.create_invoices([run], batch_size=2, commit=False,
                    post=True)
            invoices = Invoice.browse(Run(run.id).invoices)
            self.assertEqual(len(invoices), 3)
            self.assertEqual({i.state for i in invoices}, {'posted'})
            self.assertEqual({i.posted_by for i in invoices}, {employee})

    @with_transaction()
    def test_posted_by_post_button(self):
        "Test the post step of a run sets posted by"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Invoice = pool.get('account.invoice')
        User = pool.get('res.user')
        company = create_company()
        with set_company(company):
            employee = create_employee(company, name="Billing Clerk")
            clerk = User(login='clerk', companies=[company], company=company,
                employees=[employee], employee=employee)
            clerk.save()
            run = self.setup_run(company, payers=2)
            Run.create_invoices([run], commit=False)
            self.assertEqual(
                {i.posted_by for i in Invoice.browse(Run(run.id).invoices)},
                {None})
            with Transaction().set_user(clerk.id):
                Run.post_invoices([run], batch_size=1, commit=False)
            invoices = Invoice.browse(Run(run.id).invoices)
            self.assertEqual({i.state for i in invoices}, {'posted'})
            self.assertEqual({i.posted_by for i in invoices}, {employee})

    @with_transaction()
    def test_run_accounting_equal_to_plain_post(self):
        "Test the accounting of run invoices equals a plain Invoice.post"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Invoice = pool.get('account.invoice')
        company = create_company()
        with set_company(company):
            run = self.setup_run(company)
            # the plain way first, on copies of the lines the run builds
            run = Run(run.id)
            lines = sorted(run.lines, key=lambda l: (l.party.id, l.id))
            context = run._invoice_context()
            addresses = run._invoice_addresses([l.party for l in lines])
            plain = []
            for party in sorted({l.party for l in lines}, key=lambda p: p.id):
                invoice = run._get_invoice(party, addresses[party],
                    [l for l in lines if l.party == party], context)
                for line in invoice.lines:
                    line.origin = None
                plain.append(invoice)
            Invoice.save(plain)
            with Transaction().set_context(_skip_warnings=True):
                # as the run: the payment dates are in the past
                Invoice.post(plain)
            plain_moves = self.moves(Invoice.browse(plain))

            Run.create_invoices([run], batch_size=3, commit=False, post=True)
            invoices = Invoice.browse(Run(run.id).invoices)
            run_moves = self.moves(invoices)
            # all but the first invoice of the kind skipped the field checks
            with Transaction().set_context({RUN_CONTEXT: run.id}):
                self.assertEqual(
                    run_invoices_built([i.id for i in invoices]),
                    {i.id for i in invoices[1:]})

            def without_numbers(moves):
                return [m[:1] + m[2:] for m in moves]
            self.assertEqual(
                without_numbers(run_moves), without_numbers(plain_moves))
            # numbered after the plain ones, in order, in the same sequence
            numbers = [int(re.sub(r'\D', '', m[1]))
                for m in plain_moves + run_moves]
            self.assertEqual(numbers, list(range(numbers[0], numbers[0] + 6)))

    @with_transaction()
    def test_closed_account_refused(self):
        "Test the run still refuses an account closed after the preview"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Account = pool.get('account.account')
        company = create_company()
        with set_company(company):
            run = self.setup_run(company)
            fee = run.lines[0].fee
            Account.write([fee.get_account()], {'closed': True})
            with self.assertRaises(DomainValidationError):
                Run.create_invoices([run], commit=False, post=True)

    @with_transaction()
    def test_other_invoice_checked_in_run_context(self):
        "Test invoices not built by the run are fully checked in its context"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Address = pool.get('party.address')
        company = create_company()
        with set_company(company):
            run = self.setup_run(company)
            line = run.lines[0]
            context = run._invoice_context()
            address = Address(party=create_party("Someone Else"))
            address.save()
            for run_id, origin in [
                    (run.id, None),  # not from a billing line
                    (run.id + 1, line),  # a line of another run
                    (run.id, line),  # first of its kind: fully checked
                    ]:
                invoice = run._get_invoice(line.party, address, [line],
                    context)
                invoice.lines[0].origin = origin
                with Transaction().set_context({RUN_CONTEXT: run_id}):
                    with self.assertRaises(DomainValidationError):
                        # the invoice address of another party
                        Invoice.save([invoice])

    @with_transaction()
    def test_entry_points_refuse_invalid_input(self):
        "Test fees, tariffs and runs refuse invalid input in the run context"
        pool = Pool()
        Run = pool.get('property.billing.run')
        Tariff = pool.get('property.billing.tariff')
        Fee = pool.get('property.billing.fee')
        Rule = pool.get('property.billing.fee.rule')
        company = create_company()
        with set_company(company):
            run = self.setup_run(company, payers=1)
            fee = run.lines[0].fee
            charge_fee = Fee(company=company, kind='other', code='X',
                name="Repairs")
            charge_fee.save()
            with Transaction().set_context({RUN_CONTEXT: run.id}):
                with self.assertRaises(DomainValidationError):
                    # one-off charges are not fees of unit types
                    Rule.create([{
                                'estate': run.estate.id,
                                'fee': charge_fee.id,
                                }])
                with self.assertRaises(DomainValidationError):
                    Tariff.create([{
                                'fee': fee.id, 'estate': run.estate.id,
                                'start_date': dt.date(2001, 2, 3),
                                'rate': Decimal('-1'),
                                }])
                with self.assertRaises(BillingRunError):
                    Run.create([{
                                'company': company.id,
                                'estate': run.estate.id,
                                'period': '2026-13',
                                'invoice_date': dt.date.today(),
                                }])
