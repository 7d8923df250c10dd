# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import io
from decimal import Decimal

from pypdf import PdfReader

from trytond.modules.property_community.tests.tools import override_config
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, RouteTestCase

from . import fake_wechat_pay
from .test_payment import PaymentTestMixin

TEMPLATE = 'TPL-BILL-REMINDER'


class MessageRouteTestCase(PaymentTestMixin, RouteTestCase):
    "Test the messages, subscriptions and receipts of the mini-program API"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.restore_wechat = override_config({
                ('wechat', 'appid'): cls.keys.appid,
                ('wechat', 'secret'): fake_wechat_pay.fake_wechat.SECRET,
                ('wechat', 'api_base_url'): cls.server.base_url,
                })
        cls.committed_class(cls.setUpTemplate)

    @classmethod
    def tearDownClass(cls):
        cls.restore_wechat()
        super().tearDownClass()

    @classmethod
    def committed_class(cls, func):
        from trytond.transaction import Transaction
        with Transaction().start(DB_NAME, 1, context={
                    'company': cls.company_id}):
            return func()

    @classmethod
    def setUpTemplate(cls):
        Template = Pool(DB_NAME).get('property.message.template')
        Template(name="Bill reminder", kind='bill_reminder',
            template_id=TEMPLATE,
            keys='thing1=title\namount2=amount\ndate3=date').save()

    def account(self, openid):
        WebUser = Pool(DB_NAME).get('web.user')
        user, = WebUser.search([('wechat_openid', '=', openid)])
        return user

    def send_message(self, openid, title, deliver=False):
        "Send a message to the account of openid; return its id"
        def send():
            Message = Pool(DB_NAME).get('property.message')
            message, = Message.notify([self.account(openid)],
                'bill_reminder', title=title, body="Please pay",
                link='pages/billing/bill/bill?id=1',
                data={'title': title, 'amount': '12.30',
                    'date': '2026-05-16'})
            if deliver:
                Message.deliver([message])
            return message.id
        return self.committed(send)

    def message(self, message_id):
        "Return the WeChat state and the unread flag of the message"
        def read():
            Message = Pool(DB_NAME).get('property.message')
            message = Message(message_id)
            return message.wechat_state, message.unread
        return self.committed(read)

    def remaining(self, openid):
        def read():
            Subscription = Pool(DB_NAME).get(
                'property.message.subscription')
            return Subscription.remaining_of(
                self.account(openid), [TEMPLATE]).get(TEMPLATE, 0)
        return self.committed(read)

    def test_messages_own_only(self):
        "Test an account lists and reads its own messages only"
        own = [self.send_message('openid-a', f"Reminder {i}")
            for i in range(3)]
        other = self.send_message('openid-b', "Reminder of B")
        client = self.client()

        response = client.get(self.url('/messages?limit=2'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 200, response.json)
        self.assertEqual(response.json['total'], 3)
        self.assertEqual(response.json['unread'], 3)
        self.assertEqual([m['id'] for m in response.json['items']],
            [own[2], own[1]])
        message = response.json['items'][0]
        self.assertEqual(
            (message['title'], message['body'], message['link'],
                message['read'], message['kind']),
            ("Reminder 2", "Please pay", 'pages/billing/bill/bill?id=1',
                False, 'bill_reminder'))

        response = client.post(self.url(f'/messages/{other}/read'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 404)
        self.assertTrue(self.message(other)[1])

        response = client.post(self.url(f'/messages/{own[0]}/read'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.json['read'])
        self.assertTrue(response.json['read_at'])
        response = client.get(self.url('/messages?unread=true'),
            headers=self.auth('a'))
        self.assertEqual(response.json['unread'], 2)
        self.assertEqual({m['id'] for m in response.json['items']},
            {own[1], own[2]})

        response = client.get(self.url('/messages'), headers=self.auth('b'))
        self.assertEqual([m['id'] for m in response.json['items']], [other])

    def test_messages_refused_roles(self):
        "Test guests and technicians get 403 on the message routes"
        client = self.client()
        for who in ['guest', 'technician']:
            for method, path, body in [
                    ('GET', '/messages', None),
                    ('POST', '/messages/1/read', None),
                    ('GET', '/subscriptions', None),
                    ('POST', '/subscriptions', {'template_ids': [TEMPLATE]}),
                    ]:
                response = client.open(self.url(path), method=method,
                    json=body, headers=self.auth(who))
                self.assertEqual(response.status_code, 403,
                    (who, method, path))
        response = client.get(self.url('/messages'))
        self.assertEqual(response.status_code, 401)

    def test_subscriptions_quota(self):
        "Test a subscribe message is sent once per accepted subscription"
        client = self.client()
        response = client.get(self.url('/subscriptions'),
            headers=self.auth('a'))
        self.assertEqual(response.json['items'], [{
                    'kind': 'bill_reminder', 'template_id': TEMPLATE,
                    'remaining': 0}])

        # Without a subscription the message is only in the list
        first = self.send_message('openid-a', "First", deliver=True)
        self.assertEqual(self.message(first)[0], 'no_quota')
        self.assertEqual(self.state.sent, [])

        self.state.subscribe('openid-a', TEMPLATE)
        response = client.post(self.url('/subscriptions'),
            headers=self.auth('a'),
            json={'template_ids': [TEMPLATE, 'TPL-UNKNOWN']})
        self.assertEqual(response.status_code, 200, response.json)
        self.assertEqual(response.json['items'], [{
                    'kind': 'bill_reminder', 'template_id': TEMPLATE,
                    'remaining': 1}])

        second = self.send_message('openid-a', "Second", deliver=True)
        self.assertEqual(self.message(second)[0], 'sent')
        sent, = self.state.sent
        self.assertEqual((sent['touser'], sent['template_id'], sent['data']),
            ('openid-a', TEMPLATE, {
                    'thing1': {'value': "Second"},
                    'amount2': {'value': '12.30'},
                    'date3': {'value': '2026-05-16'},
                    }))
        self.assertEqual(self.remaining('openid-a'), 0)

        third = self.send_message('openid-a', "Third", deliver=True)
        self.assertEqual(self.message(third)[0], 'no_quota')
        self.assertEqual(len(self.state.sent), 1)

        # The app reports a subscription WeChat does not know of: WeChat
        # refuses with 43101 and the counter goes back to 0
        client.post(self.url('/subscriptions'), headers=self.auth('a'),
            json={'template_ids': [TEMPLATE]})
        self.assertEqual(self.remaining('openid-a'), 1)
        fourth = self.send_message('openid-a', "Fourth", deliver=True)
        self.assertEqual(self.message(fourth)[0], 'no_quota')
        self.assertEqual(self.remaining('openid-a'), 0)
        self.assertEqual(len(self.state.sent), 1)

        # The counters are per account
        self.assertEqual(self.remaining('openid-b'), 0)

    def test_receipt(self):
        "Test the receipt of a paid payment, for its payer only"
        bill_id = self.new_bill('a', Decimal('88.00'))
        payment = self.pay(bill_id)['payment']
        client = self.client()

        response = client.get(
            self.url(f"/payments/{payment['id']}/receipt"),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 409)

        transaction = self.state.pay(payment['out_trade_no'])
        response = self.notify(*self.state.notification(transaction))
        self.assertEqual(response.status_code, 204)

        response = client.get(
            self.url(f"/payments/{payment['id']}/receipt"),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'application/pdf')
        self.assertTrue(response.data.startswith(b'%PDF'))
        text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
        self.assertIn("Payment Receipt", text)
        self.assertIn(payment['out_trade_no'], text)
        self.assertIn(payment['bill']['number'], text)
        self.assertIn("88.00", text)
        self.assertIn("Huaxia Tea Shop", text)

        response = client.get(
            self.url(f"/payments/{payment['id']}/receipt?format=html"),
            headers=self.auth('a'))
        self.assertEqual(response.mimetype, 'text/html')
        self.assertIn(payment['out_trade_no'], response.data.decode())

        for who in ['b', 'guest']:
            response = client.get(
                self.url(f"/payments/{payment['id']}/receipt"),
                headers=self.auth(who))
            self.assertEqual(response.status_code,
                404 if who == 'b' else 403)

    def test_finance_receipt(self):
        "Test a payment of the finance system has a receipt like WeChat Pay's"
        online_id = self.new_bill('a', Decimal('88.00'))
        payment = self.pay(online_id)['payment']
        transaction = self.state.pay(payment['out_trade_no'])
        self.notify(*self.state.notification(transaction))
        bank_id = self.new_bill('a', Decimal('66.00'))
        client = self.client()

        def receive():
            pool = Pool(DB_NAME)
            Company = pool.get('company.company')
            Invoice = pool.get('account.invoice')
            FinancePayment = pool.get('property.finance.payment')
            (received, _), = FinancePayment.receive(
                Company(self.company_id), [{
                        'reference': 'BK-7788', 'amount': Decimal('66.00'),
                        'date': Invoice(bank_id).invoice_date,
                        'bill_number': Invoice(bank_id).number,
                        }], 'api')
            return received.id, received.state
        received_id, state = self.committed(receive)
        self.assertEqual(state, 'posted')

        response = client.get(self.url('/receipts'), headers=self.auth('a'))
        self.assertEqual(response.status_code, 200, response.json)
        self.assertEqual(response.json['total'], 2)
        self.assertEqual(
            sorted((r['method'], r['amount'], r['bill']['id'], r['receipt'])
                for r in response.json['items']), [
                ('finance', '66.00', bank_id,
                    f'/receipts/finance/{received_id}'),
                ('wechat_pay', '88.00', online_id,
                    f"/payments/{payment['id']}/receipt"),
                ])
        items = response.json['items']
        self.assertEqual([i['date'] for i in items],
            sorted((i['date'] for i in items), reverse=True))
        response = client.get(self.url('/receipts?offset=1&limit=1'),
            headers=self.auth('a'))
        self.assertEqual(response.json['items'], items[1:2])
        self.assertEqual(response.json['total'], 2)

        response = client.get(self.url(f'/receipts/finance/{received_id}'),
            headers=self.auth('a'))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.mimetype, 'application/pdf')
        text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
        self.assertIn("Payment Receipt", text)
        self.assertIn("BK-7788", text)
        self.assertIn("66.00", text)
        self.assertIn("Huaxia Tea Shop", text)
        self.assertIn("Received by the finance system", text)

        response = client.get(
            self.url(f'/receipts/finance/{received_id}?format=html'),
            headers=self.auth('a'))
        self.assertEqual(response.mimetype, 'text/html')
        self.assertIn('BK-7788', response.data.decode())

        # the back office prints the same receipt
        def print_receipt():
            pool = Pool(DB_NAME)
            ActionReport = pool.get('ir.action.report')
            Receipt = pool.get('property.payment.receipt', type='report')
            action, = ActionReport.search([
                    ('report_name', '=', 'property.payment.receipt'),
                    ('model', '=', 'property.finance.payment'),
                    ])
            extension, content, _, _ = Receipt.execute([received_id], {
                    'action_id': action.id,
                    'model': 'property.finance.payment'})
            return extension, bytes(content[:4])
        self.assertEqual(self.committed(print_receipt), ('pdf', b'%PDF'))

        for who in ['b', 'guest']:
            response = client.get(
                self.url(f'/receipts/finance/{received_id}'),
                headers=self.auth(who))
            self.assertEqual(response.status_code,
                404 if who == 'b' else 403)
        response = client.get(self.url('/receipts'), headers=self.auth('b'))
        self.assertEqual(response.json['total'], 0)


del RouteTestCase
