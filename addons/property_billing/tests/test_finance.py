# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from decimal import Decimal

from trytond.modules.property_community.sheet import write_sheet
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase

from .test_payment import PaymentTestMixin


class FinanceRouteTestCase(PaymentTestMixin, RouteTestCase):
    "Test the payments received from the finance system"

    @classmethod
    def setUpPayments(cls):
        super().setUpPayments()
        Integration = Pool().get('property.finance.integration')
        integration = Integration(name="Kingdee", company=cls.company_id)
        integration.save()
        cls.key = integration.new_key()
        revoked = Integration(name="Old system", company=cls.company_id,
            active=False)
        revoked.save()
        cls.revoked_key = revoked.new_key()

    def post_payments(self, payments, key=None):
        key = key or self.key
        return self.client().post(self.url('/finance/payments'),
            json={'payments': payments},
            headers={'Authorization': f'Bearer {key}'})

    def bill_number(self, bill_id):
        Invoice = Pool(DB_NAME).get('account.invoice')
        with self.transaction():
            return Invoice(bill_id).number

    def bank_moves(self, bill_id):
        Move = Pool(DB_NAME).get('account.move')
        return Move.search([
                ('journal.code', '=', 'CASH'),
                ('origin', '=', f'account.invoice,{bill_id}'),
                ])

    def test_key_required(self):
        "Test the endpoint refuses requests without a valid, active key"
        payment = {'reference': 'K-1', 'bill_number': 'X', 'amount': '1.00',
            'date': '2026-01-05'}
        client = self.client()
        for headers in [{}, {'Authorization': 'Bearer fin_nope'},
                {'Authorization': f'Bearer {self.revoked_key}'},
                {'Authorization': f'Basic {self.key}'}]:
            with self.subTest(headers=headers):
                response = client.post(self.url('/finance/payments'),
                    json={'payments': [payment]}, headers=headers)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(
                    response.json['error']['code'], 'unauthenticated')
        # A mini-program session is not an integration key
        response = client.post(self.url('/finance/payments'),
            json={'payments': [payment]}, headers=self.auth('a'))
        self.assertEqual(response.status_code, 401)

    def test_pay_by_bill_number_once(self):
        "Test a payment with a bill number pays it, once per reference"
        bill_id = self.new_bill('a', Decimal('210.50'))
        number = self.bill_number(bill_id)
        payment = {'reference': 'KD-0001', 'bill_number': number,
            'amount': '210.50', 'date': '2026-01-05'}

        response = self.post_payments([payment])
        self.assertEqual(response.status_code, 200, response.json)
        item, = response.json['items']
        self.assertEqual((item['status'], item['state'], item['bill_number'],
                item['amount']), ('created', 'posted', number, '210.50'))
        self.assertEqual(response.json['unmatched'], [])

        response = self.post_payments([payment, payment])
        self.assertEqual([(i['status'], i['id'])
                for i in response.json['items']],
            [('duplicate', item['id'])] * 2)

        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            move, = self.bank_moves(bill_id)
            debit, = [l for l in move.lines if l.debit]
            self.assertEqual(debit.account.code, '1002')
            self.assertEqual(str(move.date), '2026-01-05')

    def test_partial_payment(self):
        "Test a part payment leaves the rest of the bill due"
        bill_id = self.new_bill('a', Decimal('100.00'))
        number = self.bill_number(bill_id)

        response = self.post_payments([{'reference': 'KD-P1',
                    'bill_number': number, 'amount': '30', 'date':
                    '2026-01-06'}])

        self.assertEqual(response.json['items'][0]['state'], 'posted')
        with self.transaction():
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('70.00')))

    def test_pay_by_payer_and_amount(self):
        "Test a payment without bill number pays the payer's oldest bill"
        self.new_bill('b', Decimal('55.55'))
        first = self.new_bill('b', Decimal('66.66'))
        second = self.new_bill('b', Decimal('66.66'))

        response = self.post_payments([{'reference': 'KD-B1',
                    'payer': "Lanyuan Books", 'amount': '66.66',
                    'date': '2026-01-07'}])

        item, = response.json['items']
        self.assertEqual(item['state'], 'posted')
        self.assertEqual(item['bill_number'], self.bill_number(first))
        with self.transaction():
            self.assertEqual(self.invoice(first)[0], 'paid')
            self.assertEqual(self.invoice(second)[0], 'posted')

    def test_unmatched(self):
        "Test payments designating no payable bill are kept as unmatched"
        bill_id = self.new_bill('a', Decimal('40.00'))
        number = self.bill_number(bill_id)
        payments = [
            {'reference': 'KD-U1', 'bill_number': 'NOPE-1', 'amount': '1',
                'date': '2026-01-08'},
            {'reference': 'KD-U2', 'bill_number': number,
                'amount': '40.01', 'date': '2026-01-08'},
            {'reference': 'KD-U3', 'payer': "Nobody Ltd", 'amount': '5',
                'date': '2026-01-08'},
            {'reference': 'KD-U4', 'payer': "Huaxia Tea Shop",
                'amount': '12345.67', 'date': '2026-01-08'},
            {'reference': 'KD-U5', 'amount': '5', 'date': '2026-01-08'},
            {'reference': 'KD-U6', 'bill_number': number,
                'payer': "Lanyuan Books", 'amount': '40',
                'date': '2026-01-08'},
            ]

        response = self.post_payments(payments)

        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['unmatched'],
            [p['reference'] for p in payments])
        for item in response.json['items']:
            self.assertEqual(item['state'], 'unmatched')
            self.assertTrue(item['message'])
        response = self.post_payments(payments)
        self.assertEqual({i['status'] for i in response.json['items']},
            {'duplicate'})
        self.assertEqual(len(response.json['unmatched']), len(payments))

        # A person designates the bill of an unmatched payment
        Payment = Pool(DB_NAME).get('property.finance.payment')

        def match():
            payment, = Payment.search([('reference', '=', 'KD-U3')])
            payment.invoice = bill_id
            payment.save()
            Payment.match([payment])
            return Payment(payment.id).state
        self.assertEqual(self.committed(match), 'posted')
        with self.transaction():
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('35.00')))

    def test_invalid_payments(self):
        "Test malformed payments are refused with the field at fault"
        for payment, field in [
                ({'reference': 'V1', 'amount': '1.234',
                        'date': '2026-01-01'}, 'payments[0].amount'),
                ({'reference': 'V1', 'amount': '0',
                        'date': '2026-01-01'}, 'payments[0].amount'),
                ({'reference': 'V1', 'amount': 12,
                        'date': '2026-01-01'}, 'payments[0].amount'),
                ({'reference': 'V1', 'amount': '1',
                        'date': '2026-02-30'}, 'payments[0].date'),
                ({'amount': '1', 'date': '2026-01-01'},
                    'payments[0].reference'),
                ]:
            with self.subTest(payment=payment):
                response = self.post_payments([payment])
                self.assertEqual(response.status_code, 422)
                self.assertEqual(response.json['error']['field'], field)
        response = self.post_payments([])
        self.assertEqual(response.status_code, 422)

    def test_import_statistics(self):
        "Test importing the exported statistics twice pays bills once"
        Sheet = Pool(DB_NAME).get('property.finance.payment.sheet')
        Company = Pool(DB_NAME).get('company.company')
        paid = self.new_bill('a', Decimal('11.00'))
        by_payer = self.new_bill('b', Decimal('12.34'))
        header = ['Reference', 'Bill Number', 'Payer', 'Amount', 'Date']
        rows = [
            ['IMP-1', self.bill_number(paid), '', '11.00', '2026-01-09'],
            ['IMP-2', '', 'Lanyuan Books', '12.34', '2026/01/09'],
            ['IMP-3', 'NOPE-9', '', '3.00', '2026-01-09'],
            ['IMP-4', '', '', 'abc', '2026-01-09'],
            ['IMP-1', self.bill_number(paid), '', '11.00', '2026-01-09'],
            ]

        def import_(format_):
            return Sheet.import_file(write_sheet(header, rows, format_),
                Company(self.company_id), filename=f'stats.{format_}')
        outcome = self.committed(lambda: import_('csv'))

        self.assertEqual({k: outcome[k] for k in [
                    'rows', 'created', 'paid', 'unmatched', 'duplicate',
                    'bad']}, {
                'rows': 5, 'created': 3, 'paid': 2, 'unmatched': 1,
                'duplicate': 0, 'bad': 1})
        self.assertEqual([(e['row'], e['value']) for e in outcome['errors']],
            [(4, 'IMP-3'), (5, 'abc')])

        outcome = self.committed(lambda: import_('xlsx'))
        self.assertEqual((outcome['created'], outcome['duplicate']), (0, 3))
        with self.transaction():
            self.assertEqual(self.invoice(paid)[0], 'paid')
            self.assertEqual(self.invoice(by_payer)[0], 'paid')
            self.assertEqual(len(self.bank_moves(paid)), 1)
            self.assertEqual(len(self.bank_moves(by_payer)), 1)

    def test_import_wizard(self):
        "Test the import wizard reports its summary and the rows not posted"
        pool = Pool(DB_NAME)
        Import = pool.get('property.finance.import', type='wizard')
        data = write_sheet(['Reference', 'Payer', 'Amount', 'Date'],
            [['W-1', 'Nobody', '1.00', '2026-01-10']], 'xlsx')

        def run():
            session_id, _, _ = Import.create()
            result = Import.execute(session_id, {'start': {
                        'company': self.company_id, 'file': data,
                        'filename': 'stats.xlsx'}}, 'import_')
            Import.delete(session_id)
            return result['view']['defaults']
        result = self.committed(run)
        self.assertIn('1', result['summary'])
        error, = result['errors']
        self.assertEqual((error['row'], error['value']), (2, 'W-1'))

    def test_issue_key(self):
        "Test a new key replaces the former one"
        Integration = Pool(DB_NAME).get('property.finance.integration')

        def issue():
            integration = Integration(name="ERP", company=self.company_id)
            integration.save()
            first = integration.new_key()
            second = integration.new_key()
            self.assertTrue(integration.key_hint.startswith(second[:8]))
            self.assertNotEqual(integration.key_hash, second)
            return first, second
        first, second = self.committed(issue)
        payment = {'reference': 'KEY-1', 'amount': '1',
            'date': '2026-01-11'}
        self.assertEqual(
            self.post_payments([payment], key=first).status_code, 401)
        self.assertEqual(
            self.post_payments([payment], key=second).status_code, 200)

    def test_openapi(self):
        "Test the OpenAPI document has the finance route and its security"
        response = self.client().get(self.url('/openapi.json'))
        document = response.json
        operation = document['paths']['/finance/payments']['post']
        self.assertEqual(operation['security'], [{'integration_key': []}])
        self.assertIn('integration_key',
            document['components']['securitySchemes'])
        self.assertIn('/bills/{bill_id}/pay', document['paths'])
        self.assertFalse([p for p in document['paths'] if 'notify' in p])


del RouteTestCase
