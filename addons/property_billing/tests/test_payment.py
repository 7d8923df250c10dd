# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import base64
import datetime as dt
import threading
import time
from decimal import Decimal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import create_company, set_company
from trytond.modules.property_community.tests.tools import (
    create_account, override_config, sign_in)
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase
from trytond.transaction import Transaction, TransactionError
from trytond.worker import run_task

from ..exceptions import RefundValidationError
from ..payment import reconcile_invoice
from . import fake_wechat_pay
from .tools import create_bill, setup_billing, setup_payment_methods


class PaymentTestMixin:
    "A company with accounting, two merchants and a fake WeChat Pay"
    module = 'property_billing'

    @classmethod
    def setUpClass(cls):
        cls.keys = fake_wechat_pay.Keys()
        cls.server = fake_wechat_pay.start(cls.keys)
        notify_url = f'http://127.0.0.1/{DB_NAME}/wechat/pay/notify'
        cls.restore_config = override_config({
                ('wechat_pay', k): v for k, v in cls.keys.config(
                    cls.server.base_url, notify_url).items()})
        super().setUpClass()
        extras = {}
        while True:
            # The accounting setup locks tables, which restarts the
            # transaction as RouteTestCase.setUpDatabase cannot
            with Transaction().start(DB_NAME, 1, **extras) as transaction:
                try:
                    cls.setUpPayments()
                except TransactionError as exception:
                    transaction.rollback()
                    exception.fix(extras)
                    continue
            break

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.restore_config()
        cls.server.stop()

    @classmethod
    def setUpPayments(cls):
        pool = Pool(DB_NAME)
        Party = pool.get('party.party')
        company = create_company()
        with set_company(company):
            accounts = setup_billing(company)
            setup_payment_methods(company, accounts)
            parties = Party.create([{
                        'name': name,
                        'addresses': [('create', [{}])],
                        } for name in ["Huaxia Tea Shop", "Lanyuan Books"]])
        cls.company_id = company.id
        cls.revenue_id = accounts['management'].id
        cls.party_ids = {'a': parties[0].id, 'b': parties[1].id}
        cls.tokens = {
            'a': sign_in(create_account('merchant', name="Tea Shop",
                    party=parties[0], openid='openid-a')),
            'b': sign_in(create_account('tenant', name="Books",
                    party=parties[1], openid='openid-b')),
            'dev': sign_in(create_account('merchant', name="No WeChat",
                    party=parties[0], phone='13900000001')),
            'guest': sign_in(create_account('guest', openid='openid-g')),
            'technician': sign_in(create_account('technician',
                    phone='13900000002')),
            }

    def setUp(self):
        super().setUp()
        self.state = self.server.state = fake_wechat_pay.FakePayState(
            self.keys)

    def transaction(self):
        return Transaction().start(DB_NAME, 1, context={
                'company': self.company_id})

    def committed(self, func):
        """Run func in a transaction that is committed, then its queued tasks
        as trytond does without a worker; return its result"""
        extras = {}
        while True:
            with Transaction().start(DB_NAME, 1, context={
                        'company': self.company_id}, **extras) as transaction:
                try:
                    result = func()
                except TransactionError as exception:
                    # Posting locks the sequences: start again with them
                    transaction.rollback()
                    exception.fix(extras)
                    continue
            while transaction.tasks:
                run_task(DB_NAME, transaction.tasks.pop())
            return result

    def queued_postings(self, payment_id):
        "The ids of the queued tasks that post the payment, not run yet"
        Queue = Pool(DB_NAME).get('ir.queue')
        with self.transaction():
            return [t.id for t in Queue.search([
                        ('finished_at', '=', None),
                        ], order=[('id', 'ASC')])
                if t.data['model'] == 'property.payment.attempt'
                and t.data['method'] == 'post_payments'
                and list(t.data['instances']) == [payment_id]]

    def new_bill(self, party='a', amount=Decimal('123.45')):
        "Create a posted bill in its own transaction and return its id"
        pool = Pool(DB_NAME)
        Company = pool.get('company.company')
        Party = pool.get('party.party')
        Account = pool.get('account.account')
        return self.committed(lambda: create_bill(Company(self.company_id),
                Party(self.party_ids[party]), amount,
                Account(self.revenue_id)).id)

    def url(self, path):
        return f'/{self.db_name}/api/v1{path}'

    def auth(self, who):
        return {'Authorization': f'Bearer {self.tokens[who]}'}

    def pay(self, bill_id, who='a'):
        response = self.client().post(
            self.url(f'/bills/{bill_id}/pay'), headers=self.auth(who))
        self.assertEqual(response.status_code, 200, response.json)
        return response.json

    def notify(self, headers, body, client=None):
        return (client or self.client()).post(
            f'/{self.db_name}/wechat/pay/notify', data=body,
            headers=headers, content_type='application/json')

    def invoice(self, bill_id):
        Invoice = Pool(DB_NAME).get('account.invoice')
        invoice = Invoice(bill_id)
        return invoice.state, invoice.amount_to_pay

    def attempt(self, out_trade_no):
        Attempt = Pool(DB_NAME).get('property.payment.attempt')
        attempt, = Attempt.search([('out_trade_no', '=', out_trade_no)])
        return attempt

    def wechat_moves(self, bill_id):
        "The moves on the WeChat Pay journal that pay the bill"
        Move = Pool(DB_NAME).get('account.move')
        return Move.search([
                ('journal.code', '=', 'WXP'),
                ('origin', '=', f'account.invoice,{bill_id}'),
                ])


class PaymentRouteTestCase(PaymentTestMixin, RouteTestCase):
    "Test the bills and the WeChat Pay payment of the mini-program API"

    def test_bills_of_own_party(self):
        "Test a merchant sees its own bills with their lines, never others'"
        own = self.new_bill('a', Decimal('88.00'))
        other = self.new_bill('b', Decimal('66.00'))
        client = self.client()

        response = client.get(self.url('/bills?state=unpaid&limit=100'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 200)
        ids = {b['id'] for b in response.json['items']}
        self.assertIn(own, ids)
        self.assertNotIn(other, ids)
        bill, = [b for b in response.json['items'] if b['id'] == own]
        self.assertEqual(bill['state'], 'unpaid')
        self.assertEqual(bill['total'], '88.00')
        self.assertEqual(bill['amount_due'], '88.00')
        self.assertTrue(bill['payable'])
        self.assertTrue(bill['number'])
        self.assertTrue(bill['due_date'])
        self.assertEqual([(l['description'], l['amount'])
                for l in bill['lines']], [("Management fee", '88.00')])

        response = client.get(self.url(f'/bills/{other}'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(set(response.json), {'error'})
        response = client.post(self.url(f'/bills/{other}/pay'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.state.orders, {})

        response = client.get(self.url(f'/bills/{own}'),
            headers=self.auth('b'))
        self.assertEqual(response.status_code, 404)
        response = client.get(self.url('/bills?state=paid'),
            headers=self.auth('a'))
        self.assertNotIn(own, {b['id'] for b in response.json['items']})

    def test_bills_refused_roles(self):
        "Test guests and technicians get 403 on every bill route"
        bill_id = self.new_bill('a')
        client = self.client()
        for who in ['guest', 'technician']:
            for method, path in [
                    ('GET', '/bills'),
                    ('GET', f'/bills/{bill_id}'),
                    ('POST', f'/bills/{bill_id}/pay'),
                    ('GET', '/payments'),
                    ('GET', '/payments/1'),
                    ]:
                with self.subTest(who=who, path=path):
                    response = client.open(self.url(path), method=method,
                        headers=self.auth(who))
                    self.assertEqual(response.status_code, 403)
                    self.assertEqual(
                        response.json['error']['code'], 'forbidden')
        response = client.get(self.url('/bills'))
        self.assertEqual(response.status_code, 401)

    def test_pay_gives_request_payment(self):
        "Test paying a bill orders it at WeChat Pay and signs requestPayment"
        bill_id = self.new_bill('a', Decimal('123.45'))

        result = self.pay(bill_id)

        payment, params = result['payment'], result['params']
        self.assertEqual(payment['state'], 'pending')
        self.assertEqual(payment['amount'], '123.45')
        self.assertEqual(payment['bill']['id'], bill_id)
        order = self.state.order(payment['out_trade_no'])
        self.assertEqual(order['amount'], {'total': 12345, 'currency': 'CNY'})
        self.assertEqual(order['payer'], {'openid': 'openid-a'})
        self.assertEqual(params['package'], f"prepay_id={order['prepay_id']}")
        message = (f"{self.keys.appid}\n{params['timeStamp']}\n"
            f"{params['nonceStr']}\n{params['package']}\n").encode()
        self.keys.merchant_key.public_key().verify(
            base64.b64decode(params['paySign']), message,
            padding.PKCS1v15(), hashes.SHA256())

        again = self.pay(bill_id)
        self.assertEqual(again['payment']['out_trade_no'],
            payment['out_trade_no'])
        self.assertEqual(len(self.state.orders), 1)

    def test_pay_without_wechat(self):
        "Test an account signed in without WeChat cannot pay online"
        bill_id = self.new_bill('a')

        response = self.client().post(self.url(f'/bills/{bill_id}/pay'),
            headers=self.auth('dev'))

        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json['error']['code'], 'wechat_required')

    def test_pay_wechat_pay_down(self):
        "Test an unreachable WeChat Pay answers 503 and keeps no order"
        from trytond.modules.property_community.tests.fake_wechat import (
            unreachable_url)
        bill_id = self.new_bill('a')
        restore = override_config({
                ('wechat_pay', 'pay_base_url'): unreachable_url()})
        try:
            response = self.client().post(
                self.url(f'/bills/{bill_id}/pay'), headers=self.auth('a'))
        finally:
            restore()
        self.assertEqual(response.status_code, 503)
        self.assertEqual(
            response.json['error']['code'], 'payment_unavailable')
        with self.transaction():
            Attempt = Pool(DB_NAME).get('property.payment.attempt')
            self.assertEqual(
                Attempt.search([('invoice', '=', bill_id)]), [])

    def test_simulated_payment(self):
        "Test a payment is simulated only against a test WeChat Pay"
        client = self.client()
        bill_id = self.new_bill('a', Decimal('20.00'))
        response = client.get(
            self.url('/payments/config'), headers=self.auth('a'))
        self.assertEqual(
            response.json, {'available': True, 'simulation': False})
        payment = self.pay(bill_id)['payment']
        url = self.url(f"/payments/{payment['id']}/simulate")
        response = client.post(url, headers=self.auth('a'))
        self.assertEqual(response.status_code, 404)

        restore = override_config({('wechat_pay', 'simulation'): 'True'})
        try:
            response = client.get(
                self.url('/payments/config'), headers=self.auth('a'))
            self.assertTrue(response.json['simulation'])
            response = client.post(url, headers=self.auth('b'))
            self.assertEqual(response.status_code, 404)
            response = client.post(url, headers=self.auth('a'))
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.json['state'], 'pending')
            order = self.state.orders[payment['out_trade_no']]
            self.assertEqual(order['trade_state'], 'SUCCESS')
        finally:
            restore()

    def test_notification_pays_once(self):
        "Test the notification pays the bill once however often it comes"
        bill_id = self.new_bill('a', Decimal('50.10'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        headers, body = self.state.notification(transaction)

        for _ in range(3):
            response = self.notify(headers, body)
            self.assertEqual(response.status_code, 204)
        # WeChat signs each delivery anew
        response = self.notify(*self.state.notification(transaction))
        self.assertEqual(response.status_code, 204)

        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            attempt = self.attempt(payment['out_trade_no'])
            self.assertEqual(attempt.state, 'paid')
            self.assertEqual(
                attempt.transaction_id, transaction['transaction_id'])
            move, = self.wechat_moves(bill_id)
            self.assertEqual(attempt.move, move)
            debit, = [l for l in move.lines if l.debit]
            self.assertEqual(
                (debit.account.code, debit.debit), ('1012', Decimal('50.10')))

        client = self.client()
        response = client.get(self.url(f'/bills/{bill_id}'),
            headers=self.auth('a'))
        self.assertEqual(response.json['state'], 'paid')
        self.assertEqual(response.json['amount_due'], '0.00')
        self.assertFalse(response.json['payable'])
        response = client.post(self.url(f'/bills/{bill_id}/pay'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json['error']['code'], 'nothing_to_pay')

    def test_notification_concurrent(self):
        "Test concurrent deliveries of a notification pay the bill once"
        bill_id = self.new_bill('a', Decimal('77.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        deliveries = [self.state.notification(transaction)
            for _ in range(6)]
        statuses = []
        barrier = threading.Barrier(len(deliveries))

        def deliver(headers, body):
            client = self.client()
            barrier.wait()
            statuses.append(self.notify(headers, body, client).status_code)

        threads = [threading.Thread(target=deliver, args=d)
            for d in deliveries]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        self.assertEqual(len(statuses), len(deliveries))
        # A delivery that could not wait for the lock asks WeChat to retry
        self.assertTrue(set(statuses) <= {204, 503}, statuses)
        self.assertIn(204, statuses)
        self.assertEqual(self.notify(*deliveries[0]).status_code, 204)
        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            self.assertEqual(len(self.wechat_moves(bill_id)), 1)

    def test_notification_posted_by_queue(self):
        "Test a paid bill shows paid while its payment waits to be posted"
        bill_id = self.new_bill('a', Decimal('61.20'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        client = self.client()
        restore = override_config({('queue', 'worker'): 'True'})
        try:
            response = self.notify(*self.state.notification(transaction))
            self.assertEqual(response.status_code, 204)

            with self.transaction():
                self.assertEqual(
                    self.invoice(bill_id), ('posted', Decimal('61.20')))
                attempt = self.attempt(payment['out_trade_no'])
                self.assertEqual(attempt.state, 'paid')
                self.assertIsNone(attempt.move)
            response = client.get(self.url(f'/bills/{bill_id}'),
                headers=self.auth('a'))
            self.assertEqual(
                (response.json['state'], response.json['amount_due'],
                    response.json['payable'], response.json['processing']),
                ('paid', '0.00', False, True))
            for state, listed in [('unpaid', False), ('paid', True)]:
                response = client.get(
                    self.url(f'/bills?state={state}&limit=100'),
                    headers=self.auth('a'))
                self.assertEqual(
                    bill_id in {b['id'] for b in response.json['items']},
                    listed, state)
            response = client.post(self.url(f'/bills/{bill_id}/pay'),
                headers=self.auth('a'))
            self.assertEqual(response.status_code, 409)
            self.assertEqual(
                response.json['error']['code'], 'nothing_to_pay')
            self.assertEqual(
                self.notify(*self.state.notification(transaction))
                .status_code, 204)
            tasks = self.queued_postings(payment['id'])
            self.assertEqual(len(tasks), 1)
        finally:
            restore()

        # The worker runs the task; a task run again posts nothing more
        run_task(DB_NAME, tasks[0])
        run_task(DB_NAME, tasks[0])
        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            move, = self.wechat_moves(bill_id)
            self.assertEqual(self.attempt(payment['out_trade_no']).move, move)
        response = client.get(self.url(f'/bills/{bill_id}'),
            headers=self.auth('a'))
        self.assertEqual(
            (response.json['state'], response.json['processing']),
            ('paid', False))

    def test_posting_concurrent(self):
        "Test concurrent postings of a paid order post its payment once"
        bill_id = self.new_bill('b', Decimal('42.00'))
        payment = self.pay(bill_id, who='b')['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        restore = override_config({('queue', 'worker'): 'True'})
        try:
            self.assertEqual(
                self.notify(*self.state.notification(transaction))
                .status_code, 204)
        finally:
            restore()
        task, = self.queued_postings(payment['id'])
        Attempt = Pool(DB_NAME).get('property.payment.attempt')
        barrier = threading.Barrier(4)

        def post():
            barrier.wait()
            if threading.current_thread().name.endswith('task'):
                run_task(DB_NAME, task)
            else:
                self.committed(lambda: Attempt.post_payments(
                        [Attempt(payment['id'])]))
        threads = [threading.Thread(target=post, name=f'{i}-{kind}')
            for i, kind in enumerate(['task', 'task', 'button', 'button'])]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            self.assertEqual(len(self.wechat_moves(bill_id)), 1)

    def test_posting_bill_paid_meanwhile(self):
        "Test a bill paid otherwise before posting flags the paid order"
        pool = Pool(DB_NAME)
        Configuration = pool.get('property.billing.configuration')
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        bill_id = self.new_bill('a', Decimal('33.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        restore = override_config({('queue', 'worker'): 'True'})
        try:
            self.assertEqual(
                self.notify(*self.state.notification(transaction))
                .status_code, 204)
        finally:
            restore()

        def pay_at_office():
            invoice = Invoice(bill_id)
            method = Configuration(1).get_payment_method(
                'finance_payment_method', company=self.company_id)
            lines = invoice.pay_invoice(
                invoice.amount_to_pay, method, Date.today())
            reconcile_invoice(Invoice(bill_id))
            return lines
        self.committed(pay_at_office)
        for task in self.queued_postings(payment['id']):
            run_task(DB_NAME, task)

        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            self.assertEqual(self.wechat_moves(bill_id), [])
            attempt = self.attempt(payment['out_trade_no'])
            self.assertEqual(attempt.state, 'flagged')
            self.assertIn(attempt.invoice.number, attempt.flagged_reason)

    def test_notification_wrong_amount(self):
        "Test a notification of another amount pays nothing and is flagged"
        bill_id = self.new_bill('a', Decimal('99.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'], total=9800)

        response = self.notify(*self.state.notification(transaction))
        # Received and kept for a person: WeChat need not send it again
        self.assertEqual(response.status_code, 204)

        with self.transaction():
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('99.00')))
            attempt = self.attempt(payment['out_trade_no'])
            self.assertEqual(attempt.state, 'flagged')
            self.assertIn('9800', attempt.flagged_reason)
            self.assertIn('9900', attempt.flagged_reason)
            self.assertEqual(self.wechat_moves(bill_id), [])
        # The right amount afterwards does not pay a flagged order either
        transaction = self.state.pay(payment['out_trade_no'])
        self.assertEqual(
            self.notify(*self.state.notification(transaction)).status_code,
            204)
        with self.transaction():
            self.assertEqual(self.invoice(bill_id)[0], 'posted')

    def test_notification_other_merchant(self):
        "Test a notification for another mchid pays nothing"
        bill_id = self.new_bill('a', Decimal('10.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        transaction['mchid'] = '1900000999'

        response = self.notify(*self.state.notification(transaction))

        self.assertEqual(response.status_code, 204)
        with self.transaction():
            self.assertEqual(
                self.attempt(payment['out_trade_no']).state, 'flagged')
            self.assertEqual(self.invoice(bill_id)[0], 'posted')

    def test_notification_refused(self):
        "Test forged, stale and unknown-serial notifications are refused"
        bill_id = self.new_bill('a', Decimal('20.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        state = self.state
        headers, body = state.notification(transaction)
        cases = {
            'bad_signature': (headers, body.replace(b'}}', b'} }')),
            'forged': state.notification(
                transaction, key=self.keys.merchant_key),
            'probe': state.notification(
                transaction, signature='WECHATPAY/SIGNTEST/xyz'),
            'stale': state.notification(
                transaction, timestamp=time.time() - 600),
            'unknown_serial': state.notification(
                transaction, serial='PUB_KEY_ID_0000000000000000000000'),
            'no_headers': ({}, body),
            }
        for name, (headers, body) in cases.items():
            with self.subTest(case=name):
                response = self.notify(headers, body)
                self.assertEqual(response.status_code, 401)
                self.assertEqual(response.json['code'], 'FAIL')
        with self.transaction():
            self.assertEqual(self.invoice(bill_id)[0], 'posted')
            self.assertEqual(
                self.attempt(payment['out_trade_no']).state, 'pending')

    def test_notification_unknown_order(self):
        "Test a notification of an unknown order is refused"
        self.state.orders['PBUNKNOWN0001'] = {
            'appid': self.keys.appid, 'mchid': self.keys.mchid,
            'out_trade_no': 'PBUNKNOWN0001', 'trade_state': 'NOTPAY',
            'payer': {'openid': 'x'}, 'amount': {'total': 100},
            }
        transaction = self.state.pay('PBUNKNOWN0001')

        response = self.notify(*self.state.notification(transaction))

        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json['code'], 'FAIL')

    def test_check_pending(self):
        "Test the scheduled check pays orders whose notification is lost"
        Attempt = Pool(DB_NAME).get('property.payment.attempt')
        paid_bill = self.new_bill('a', Decimal('30.00'))
        paid = self.pay(paid_bill)['payment']
        expired_bill = self.new_bill('a', Decimal('31.00'))
        expired = self.pay(expired_bill)['payment']
        waiting_bill = self.new_bill('a', Decimal('32.00'))
        waiting = self.pay(waiting_bill)['payment']
        self.state.pay(paid['out_trade_no'])
        with self.transaction() as transaction:
            table = Attempt.__table__()
            cursor = transaction.connection.cursor()
            late = dt.datetime.now() - dt.timedelta(minutes=10)
            cursor.execute(*table.update(
                    [table.create_date], [late],
                    where=table.id.in_([paid['id'], expired['id']])))
            cursor.execute(*table.update(
                    [table.time_expire], [late],
                    where=table.id == expired['id']))
            transaction.commit()

        self.committed(Attempt.check_pending)

        with self.transaction():
            self.assertEqual(self.invoice(paid_bill)[0], 'paid')
            self.assertEqual(self.attempt(paid['out_trade_no']).state, 'paid')
            self.assertEqual(
                self.attempt(expired['out_trade_no']).state, 'closed')
            self.assertEqual(
                self.attempt(waiting['out_trade_no']).state, 'pending')
        self.assertEqual(
            self.state.order(expired['out_trade_no'])['trade_state'],
            'CLOSED')
        # Paying the bill again orders anew
        again = self.pay(expired_bill)['payment']
        self.assertNotEqual(again['out_trade_no'], expired['out_trade_no'])

    def test_check_pending_posts_late(self):
        "Test the scheduled check posts the payments left unposted"
        Attempt = Pool(DB_NAME).get('property.payment.attempt')
        bill_id = self.new_bill('a', Decimal('36.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        restore = override_config({('queue', 'worker'): 'True'})
        try:
            self.assertEqual(
                self.notify(*self.state.notification(transaction))
                .status_code, 204)
            # No worker ran the task; another check leaves it to the worker
            self.committed(Attempt.check_pending)
            with self.transaction():
                self.assertEqual(self.invoice(bill_id)[0], 'posted')
            with self.transaction() as transaction:
                table = Attempt.__table__()
                cursor = transaction.connection.cursor()
                cursor.execute(*table.update(
                        [table.write_date],
                        [dt.datetime.now() - dt.timedelta(minutes=10)],
                        where=table.id == payment['id']))
                transaction.commit()

            self.committed(Attempt.check_pending)
        finally:
            restore()

        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))
            self.assertEqual(len(self.wechat_moves(bill_id)), 1)
            self.assertEqual(self.attempt(payment['out_trade_no']).move,
                self.wechat_moves(bill_id)[0])

    def test_payments_history(self):
        "Test my payments list, and a pending one confirmed when asked"
        Attempt = Pool(DB_NAME).get('property.payment.attempt')
        bill_id = self.new_bill('a', Decimal('45.00'))
        payment = self.pay(bill_id)['payment']
        client = self.client()

        response = client.get(self.url(f"/payments/{payment['id']}"),
            headers=self.auth('a'))
        self.assertEqual(response.json['state'], 'pending')
        self.state.pay(payment['out_trade_no'])
        with self.transaction() as transaction:
            table = Attempt.__table__()
            cursor = transaction.connection.cursor()
            cursor.execute(*table.update(
                    [table.create_date, table.checked_at],
                    [dt.datetime.now() - dt.timedelta(seconds=10), None],
                    where=table.id == payment['id']))
            transaction.commit()
        response = client.get(self.url(f"/payments/{payment['id']}"),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json['state'], 'paid')
        self.assertTrue(response.json['paid_at'])

        response = client.get(self.url('/payments?limit=100'),
            headers=self.auth('a'))
        self.assertIn(payment['id'],
            [p['id'] for p in response.json['items']])
        response = client.get(self.url('/payments?limit=100'),
            headers=self.auth('b'))
        self.assertNotIn(payment['id'],
            [p['id'] for p in response.json['items']])
        response = client.get(self.url(f"/payments/{payment['id']}"),
            headers=self.auth('b'))
        self.assertEqual(response.status_code, 404)

    def test_refund_flow(self):
        "Test a refund is approved by a billing administrator, then posted"
        pool = Pool(DB_NAME)
        Attempt = pool.get('property.payment.attempt')
        Refund = pool.get('property.payment.refund')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        bill_id = self.new_bill('a', Decimal('100.00'))
        payment = self.pay(bill_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        self.assertEqual(
            self.notify(*self.state.notification(transaction)).status_code,
            204)

        def request_refund():
            clerk = User(login='clerk', name="Billing Clerk",
                companies=[self.company_id], company=self.company_id,
                groups=[ModelData.get_id('property_billing', 'group_billing')])
            clerk.save()
            with Transaction().set_user(clerk.id), \
                    Transaction().set_context(_check_access=True):
                refund = Refund(attempt=payment['id'],
                    amount=Decimal('40.00'), reason="Charged twice")
                refund.save()
                with self.assertRaises(AccessButtonError):
                    Refund.approve([refund])
            self.assertEqual(refund.state, 'requested')
            self.assertEqual(refund.requested_by, clerk)
            self.assertEqual(refund.company.id, self.company_id)
            return refund.id
        refund_id = self.committed(request_refund)
        with self.assertRaises(RefundValidationError):
            with self.transaction():
                Refund(attempt=payment['id'], amount=Decimal('60.01'),
                    reason="Too much").save()
        self.assertEqual(self.state.refunds, {})

        def approve():
            refund = Refund(refund_id)
            Refund.approve([refund])
            refund = Refund(refund_id)
            self.assertEqual(refund.state, 'processing')
            self.assertTrue(refund.refund_id)
            return refund.out_refund_no
        out_refund_no = self.committed(approve)
        self.assertEqual(self.state.refunds[out_refund_no]['amount'],
            {'refund': 4000, 'total': 10000})

        refund = self.state.finish_refund(out_refund_no, 'SUCCESS')
        headers, body = self.state.refund_notification(refund)
        for _ in range(2):
            response = self.client().post(
                f'/{self.db_name}/wechat/refund/notify', data=body,
                headers=headers, content_type='application/json')
            self.assertEqual(response.status_code, 204)

        with self.transaction():
            refund = Refund(refund_id)
            self.assertEqual(refund.state, 'succeeded')
            self.assertTrue(refund.success_time)
            # The payment is reversed, the 60.00 kept is paid again
            lines = {(l.account.code, l.debit, l.credit)
                for l in refund.move.lines}
            self.assertEqual(lines, {
                    ('1122', Decimal('100.00'), Decimal(0)),
                    ('1122', Decimal(0), Decimal('60.00')),
                    ('1012', Decimal(0), Decimal('40.00')),
                    })
            self.assertEqual(refund.move.state, 'posted')
            self.assertEqual(len(Refund.search([
                            ('attempt', '=', payment['id']),
                            ('move', '!=', None)])), 1)
            # The payer owes again what was given back
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('40.00')))
            self.assertEqual(Attempt(payment['id']).state, 'paid')
        response = self.client().get(self.url(f"/payments/{payment['id']}"),
            headers=self.auth('a'))
        self.assertEqual(response.json['refunded'], '40.00')

    def test_refund_full(self):
        "Test a full refund WeChat Pay makes at once reopens the whole bill"
        Refund = Pool(DB_NAME).get('property.payment.refund')
        bill_id = self.new_bill('b', Decimal('25.00'))
        payment = self.pay(bill_id, who='b')['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        self.notify(*self.state.notification(transaction))
        self.state.refund_status = 'SUCCESS'

        def request():
            refund = Refund(attempt=payment['id'], amount=Decimal('25.00'),
                reason="Moved out")
            refund.save()
            return refund.id
        refund_id = self.committed(request)

        def approve():
            # Approving again after a restart sends the same refund number
            Refund.approve([Refund(refund_id)])
            refund = Refund(refund_id)
            return refund.state, sorted((l.account.code, l.debit, l.credit)
                for l in refund.move.lines)
        state, lines = self.committed(approve)

        self.assertEqual(state, 'succeeded')
        self.assertEqual(lines, [
                ('1012', Decimal(0), Decimal('25.00')),
                ('1122', Decimal('25.00'), Decimal(0)),
                ])
        with self.transaction():
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('25.00')))
        # Paid again, the bill is paid by the new order
        payment = self.pay(bill_id, who='b')['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        self.assertEqual(
            self.notify(*self.state.notification(transaction)).status_code,
            204)
        with self.transaction():
            self.assertEqual(self.invoice(bill_id), ('paid', Decimal(0)))

    def test_refund_before_posting(self):
        "Test a refund approved before the payment is posted posts it first"
        Refund = Pool(DB_NAME).get('property.payment.refund')
        bill_id = self.new_bill('b', Decimal('27.00'))
        payment = self.pay(bill_id, who='b')['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        self.state.refund_status = 'SUCCESS'
        restore = override_config({('queue', 'worker'): 'True'})
        try:
            self.assertEqual(
                self.notify(*self.state.notification(transaction))
                .status_code, 204)

            def refund():
                refund = Refund(attempt=payment['id'],
                    amount=Decimal('27.00'), reason="Moved out")
                refund.save()
                Refund.approve([refund])
                refund = Refund(refund.id)
                return refund.state, sorted((l.account.code, l.debit,
                        l.credit) for l in refund.move.lines)
            state, lines = self.committed(refund)
        finally:
            restore()

        self.assertEqual(state, 'succeeded')
        self.assertEqual(lines, [
                ('1012', Decimal(0), Decimal('27.00')),
                ('1122', Decimal('27.00'), Decimal(0)),
                ])
        with self.transaction():
            self.assertEqual(len(self.wechat_moves(bill_id)), 1)
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('27.00')))
        # The queued posting finds the payment posted
        for task in self.queued_postings(payment['id']):
            run_task(DB_NAME, task)
        with self.transaction():
            self.assertEqual(len(self.wechat_moves(bill_id)), 1)
            self.assertEqual(
                self.invoice(bill_id), ('posted', Decimal('27.00')))

    def test_refund_notification_refused(self):
        "Test a refund notification must be signed by WeChat Pay"
        response = self.client().post(
            f'/{self.db_name}/wechat/refund/notify', data=b'{}',
            headers={}, content_type='application/json')
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.json['code'], 'FAIL')


del RouteTestCase
