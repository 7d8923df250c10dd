# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Online payment of bills with WeChat Pay (BILL-4, BILL-6)"
import datetime as dt
import logging
import secrets

from sql import For, Literal, Null

import trytond.config as config
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction

from . import wechat_pay
from .exceptions import BillingConfigurationError, PaymentError
from .wechat_pay import WeChatPayError, from_fen, parse_rfc3339, to_fen

logger = logging.getLogger(__name__)

# WeChat keeps a prepay_id valid for 2 hours; orders live less
DEFAULT_ORDER_LIFETIME = 30 * 60
# A pending order is asked about when its notification is this late
QUERY_DELAY = dt.timedelta(minutes=5)
# The mini-program asks about its order at most this often
POLL_DELAY = dt.timedelta(seconds=3)
# A paid order is posted by a queued task; the scheduled check posts those
# still waiting after this long (no worker, or a failed task)
POST_DELAY = dt.timedelta(minutes=2)


def new_number(prefix):
    "Return a number WeChat Pay accepts (6-32 of [0-9A-Za-z_-|*]), unique"
    # Random rather than sequential: several databases (staging, demo,
    # production) may share one merchant account
    return (prefix + dt.datetime.now().strftime('%y%m%d%H%M%S')
        + secrets.token_hex(5).upper())


def lock_for_update(Model, records):
    """Lock the rows of records until the end of the transaction

    Unlike Model.lock (NOWAIT), a concurrent transaction waits for the lock
    and then fails to serialize if the row changed: it is retried and sees
    the new state.
    """
    transaction = Transaction()
    if not records:
        return
    if not transaction.database.has_select_for():
        Model.lock(records)
        return
    table = Model.__table__()
    cursor = transaction.connection.cursor()
    cursor.execute(*table.select(table.id,
            where=table.id.in_([r.id for r in records]),
            for_=For('UPDATE')))


class Configuration(metaclass=PoolMeta):
    __name__ = 'property.billing.configuration'
    wechat_pay_method = fields.MultiValue(fields.Many2One(
            'account.invoice.payment.method', "WeChat Pay Method",
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            help="How bills paid with WeChat Pay are posted: its journal "
            "and the WeChat Pay clearing account."))
    finance_payment_method = fields.MultiValue(fields.Many2One(
            'account.invoice.payment.method', "Finance System Method",
            domain=[
                ('company', '=', Eval('context', {}).get('company', -1)),
                ],
            help="How payments reported by the finance system are posted."))

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in {'wechat_pay_method', 'finance_payment_method'}:
            return pool.get('property.billing.configuration.company')
        return super().multivalue_model(field)

    def get_payment_method(self, name, **pattern):
        method = self.get_multivalue(name, **pattern)
        if not method:
            raise BillingConfigurationError(gettext(
                    'property_billing'
                    '.msg_configuration_payment_method_missing',
                    method=self.__class__.fields_get([name])[name]['string']))
        return method


class ConfigurationCompany(metaclass=PoolMeta):
    __name__ = 'property.billing.configuration.company'
    wechat_pay_method = fields.Many2One(
        'account.invoice.payment.method', "WeChat Pay Method",
        domain=[('company', '=', Eval('company', -1))])
    finance_payment_method = fields.Many2One(
        'account.invoice.payment.method', "Finance System Method",
        domain=[('company', '=', Eval('company', -1))])


class PaymentAttempt(Workflow, ModelSQL, ModelView):
    "WeChat Pay order of a bill"
    __name__ = 'property.payment.attempt'
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    invoice = fields.Many2One(
        'account.invoice', "Bill", required=True, readonly=True,
        ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    party = fields.Many2One(
        'party.party', "Payer", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    web_user = fields.Many2One(
        'web.user', "Account", readonly=True, ondelete='RESTRICT')
    out_trade_no = fields.Char("Order Number", required=True, readonly=True,
        help="The merchant order number (out_trade_no) at WeChat Pay.")
    amount = fields.Integer("Amount (fen)", required=True, readonly=True,
        help="The amount of the order in fen, as WeChat Pay counts it.")
    amount_yuan = fields.Function(Monetary(
            "Amount", currency='currency', digits='currency'),
        'get_amount_yuan')
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    description = fields.Char("Description", readonly=True)
    payer_openid = fields.Char("Payer OpenID", readonly=True)
    prepay_id = fields.Char("Prepay ID", readonly=True)
    time_expire = fields.Timestamp("Expires at", required=True,
        readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('paid', "Paid"),
            ('closed', "Closed"),
            ('flagged', "Flagged"),
            ], "State", required=True, readonly=True, sort=False)
    transaction_id = fields.Char("Transaction ID", readonly=True,
        help="The number of the payment at WeChat Pay.")
    paid_at = fields.Timestamp("Paid at", readonly=True)
    checked_at = fields.Timestamp("Checked at", readonly=True,
        help="When WeChat Pay was last asked about the order.")
    flagged_reason = fields.Text("Flagged Reason", readonly=True,
        states={
            'invisible': ~Eval('flagged_reason'),
            })
    move = fields.Many2One('account.move', "Payment Move", readonly=True,
        help="The payment posted to the bill, shortly after the order is "
        "paid.")
    refunds = fields.One2Many(
        'property.payment.refund', 'attempt', "Refunds", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('out_trade_no_unique', Unique(t, t.out_trade_no),
                'property_billing.msg_payment_out_trade_no_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.invoice, Index.Range())),
                Index(t, (t.party, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == Literal('pending')),
                Index(t, (t.invoice, Index.Range()),
                    where=(t.state == Literal('paid')) & (t.move == Null)),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'paid'),
            ('pending', 'closed'),
            ('pending', 'flagged'),
            ('closed', 'paid'),
            ('closed', 'flagged'),
            # the bill was paid otherwise before the payment was posted
            ('paid', 'flagged'),
            }
        cls._buttons.update({
                'check': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': (Eval('state') != 'paid') | Eval('move'),
                    'icon': 'tryton-ok',
                    'depends': ['state', 'move'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return self.out_trade_no

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('out_trade_no', operator, value),
            ('transaction_id', operator, value),
            ]

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_amount_yuan(self, name):
        return from_fen(self.amount) if self.amount is not None else None

    @classmethod
    def check_modification(cls, mode, attempts, values=None, external=False):
        super().check_modification(
            mode, attempts, values=values, external=external)
        if mode == 'delete':
            raise AccessError(gettext(
                    'property_billing.msg_payment_attempt_delete'))

    @classmethod
    def lifetime(cls):
        return dt.timedelta(seconds=config.getint(
                'wechat_pay', 'order_lifetime',
                default=DEFAULT_ORDER_LIFETIME))

    # Orders

    @classmethod
    def pay(cls, invoice, web_user):
        """Return a pending order of the bill for web_user to pay

        An order still valid for the same amount is reused; others are
        closed at WeChat Pay so that the bill is paid once.
        """
        pool = Pool()
        Invoice = pool.get('account.invoice')
        if not wechat_pay.is_configured():
            raise PaymentError(gettext(
                    'property_billing.msg_payment_not_configured'),
                code='not_configured')
        if not web_user.wechat_openid:
            raise PaymentError(gettext(
                    'property_billing.msg_payment_wechat_required'),
                code='wechat_required')
        # One order at a time for a bill, also on concurrent requests
        lock_for_update(Invoice, [invoice])
        invoice = Invoice(invoice.id)
        if (invoice.state != 'posted' or invoice.amount_to_pay <= 0
                or cls.paid_unposted([('invoice', '=', invoice.id)])):
            raise PaymentError(gettext(
                    'property_billing.msg_payment_bill_not_payable',
                    bill=invoice.rec_name), code='nothing_to_pay')
        amount = to_fen(invoice.amount_to_pay)
        now = dt.datetime.now()
        pending = cls.search([
                ('invoice', '=', invoice.id),
                ('state', '=', 'pending'),
                ])
        lock_for_update(cls, pending)
        for attempt in pending:
            if (attempt.amount == amount
                    and attempt.payer_openid == web_user.wechat_openid
                    and attempt.prepay_id
                    and attempt.time_expire > now + dt.timedelta(minutes=1)):
                return attempt
        try:
            cls.close(pending)
        except WeChatPayError as exception:
            logger.warning("close of an order of %s failed: %s",
                invoice.rec_name, exception)
            raise PaymentError(gettext(
                    'property_billing.msg_payment_unavailable'),
                code='unavailable')
        invoice = Invoice(invoice.id)
        if (invoice.state != 'posted'
                or cls.paid_unposted([('invoice', '=', invoice.id)])):
            # One of the closed orders had been paid meanwhile
            raise PaymentError(gettext(
                    'property_billing.msg_payment_bill_not_payable',
                    bill=invoice.rec_name), code='nothing_to_pay')
        attempt = cls(
            company=invoice.company,
            invoice=invoice,
            party=invoice.party,
            web_user=web_user,
            out_trade_no=new_number('PB'),
            amount=amount,
            description=gettext('property_billing.msg_payment_description',
                number=invoice.number, company=invoice.company.rec_name),
            payer_openid=web_user.wechat_openid,
            time_expire=now + cls.lifetime())
        attempt.save()
        try:
            attempt.prepay_id = cls.client().jsapi_prepay(
                attempt.out_trade_no, attempt.description, attempt.amount,
                attempt.payer_openid, attach=f'bill:{invoice.id}',
                time_expire=attempt.time_expire)
        except WeChatPayError as exception:
            logger.warning("prepay of %s failed: %s",
                attempt.out_trade_no, exception)
            raise PaymentError(gettext(
                    'property_billing.msg_payment_unavailable'),
                code='unavailable')
        attempt.save()
        return attempt

    @staticmethod
    def client():
        return wechat_pay.client()

    def request_payment_params(self):
        "The parameters of wx.requestPayment"
        return self.client().request_payment_params(self.prepay_id)

    @classmethod
    def close(cls, attempts):
        "Close pending orders at WeChat Pay, applying those found paid"
        for attempt in attempts:
            if attempt.state != 'pending':
                continue
            try:
                cls.client().close(attempt.out_trade_no)
            except WeChatPayError as exception:
                if exception.code in {'ORDERPAID', 'ORDER_NOT_EXIST'}:
                    cls.check([attempt])
                    continue
                raise
            cls.write([attempt], {
                    'state': 'closed',
                    'checked_at': dt.datetime.now(),
                    })

    @classmethod
    @ModelView.button
    def check(cls, attempts):
        "Ask WeChat Pay about pending orders and apply what it says"
        now = dt.datetime.now()
        for attempt in attempts:
            if attempt.state != 'pending':
                continue
            try:
                transaction = cls.client().query(attempt.out_trade_no)
            except WeChatPayError as exception:
                if exception.code != 'ORDER_NOT_EXIST':
                    logger.warning("query of %s failed: %s",
                        attempt.out_trade_no, exception)
                    continue
                transaction = {'trade_state': 'NOTPAY'}
            trade_state = transaction.get('trade_state')
            if trade_state == 'SUCCESS':
                cls.apply_transaction(attempt, transaction)
            elif trade_state == 'CLOSED' or (
                    trade_state == 'NOTPAY' and attempt.time_expire <= now):
                if trade_state == 'NOTPAY':
                    try:
                        cls.client().close(attempt.out_trade_no)
                    except WeChatPayError as exception:
                        if exception.code == 'ORDERPAID':
                            continue
                        if exception.code != 'ORDER_NOT_EXIST':
                            logger.warning("close of %s failed: %s",
                                attempt.out_trade_no, exception)
                            continue
                lock_for_update(cls, [attempt])
                attempt = cls(attempt.id)
                if attempt.state == 'pending':
                    cls.write([attempt], {
                            'state': 'closed', 'checked_at': now})
            else:
                cls.write([attempt], {'checked_at': now})

    @classmethod
    def check_pending(cls):
        """Ask about orders whose notification is late, close expired ones
        and post the payments left unposted"""
        now = dt.datetime.now()
        domain = [
            ('state', '=', 'pending'),
            ['OR',
                ('time_expire', '<=', now),
                ('create_date', '<=', now - QUERY_DELAY),
                ],
            ]
        company = Transaction().context.get('company')
        if company:
            domain.append(('company', '=', company))
        cls.check(cls.search(domain, order=[('id', 'ASC')]))
        cls.post_late_payments()

    def poll(self):
        "Ask WeChat Pay about the order for the mini-program, not too often"
        now = dt.datetime.now()
        if (self.state == 'pending'
                and (not self.checked_at
                    or self.checked_at + POLL_DELAY <= now)
                and self.create_date + POLL_DELAY <= now):
            self.check([self])
        return self.__class__(self.id)

    # Notifications

    @classmethod
    def process_notification(cls, envelope):
        "Apply a verified and decrypted TRANSACTION notification"
        resource = envelope['resource']
        if envelope.get('event_type') != 'TRANSACTION.SUCCESS':
            return
        attempts = cls.search([
                ('out_trade_no', '=', str(resource.get('out_trade_no'))),
                ], limit=1)
        if not attempts:
            raise PaymentError(gettext(
                    'property_billing.msg_payment_order_unknown',
                    number=resource.get('out_trade_no')),
                code='unknown_order')
        attempt, = attempts
        cls.apply_transaction(attempt, resource)

    def _transaction_problems(self, transaction, client):
        amount = transaction.get('amount') or {}
        if (transaction.get('appid') != client.appid
                or transaction.get('mchid') != client.mchid):
            yield gettext('property_billing.msg_payment_flag_merchant',
                appid=transaction.get('appid'),
                mchid=transaction.get('mchid'))
        if (amount.get('total') != self.amount
                or amount.get('currency', 'CNY') != 'CNY'):
            yield gettext('property_billing.msg_payment_flag_amount',
                reported=amount.get('total'), expected=self.amount)

    @classmethod
    def apply_transaction(cls, attempt, transaction):
        """Accept a successful transaction of the order once

        The order is paid at once and its payment is posted to the bill by
        a queued task (post_payments), so that the notification is answered
        without waiting for the accounting sequences.  A transaction that
        does not match the order pays nothing and flags the order for a
        person.
        """
        # Final states: a repeated notification need not wait for the lock
        if attempt.state in {'paid', 'flagged'}:
            return
        lock_for_update(cls, [attempt])
        attempt = cls(attempt.id)
        if attempt.state in {'paid', 'flagged'}:
            return
        if transaction.get('trade_state') != 'SUCCESS':
            return
        client = cls.client()
        values = {
            'transaction_id': transaction.get('transaction_id'),
            'paid_at': (parse_rfc3339(transaction.get('success_time'))
                or dt.datetime.now()),
            'checked_at': dt.datetime.now(),
            }
        problems = list(attempt._transaction_problems(transaction, client))
        if not problems:
            problems = list(attempt._bill_problems())
        if problems:
            cls._flag(attempt, problems, values)
            return
        cls.write([attempt], values)
        cls.paid([attempt])
        cls.__queue__.post_payments([attempt])

    def _bill_problems(self):
        invoice = self.invoice
        if (invoice.state != 'posted'
                or invoice.amount_to_pay != from_fen(self.amount)):
            yield gettext('property_billing.msg_payment_flag_bill',
                bill=invoice.rec_name, amount=from_fen(self.amount))

    @classmethod
    def _flag(cls, attempt, problems, values=None):
        logger.warning("WeChat Pay order %s flagged: %s",
            attempt.out_trade_no, ' '.join(problems))
        values = dict(values or {})
        values['flagged_reason'] = '\n'.join(problems)
        cls.write([attempt], values)
        cls.flag([attempt])

    @classmethod
    def paid_unposted(cls, domain):
        "The ids of the bills of domain paid online, not yet posted"
        return {a.invoice.id for a in cls.search([
                    ('state', '=', 'paid'),
                    ('move', '=', None),
                    ] + domain)}

    @classmethod
    def payer_bills(cls, domain, state=None):
        """Return the domain of the bills of domain that their payer sees in
        state (unpaid, paid or None for all) and the ids of those paid
        online whose payment is not posted yet: the payer sees them paid"""
        processing = cls.paid_unposted([('invoice', 'where', domain)])
        if state == 'unpaid':
            domain = domain + [
                ('state', '=', 'posted'),
                ('id', 'not in', list(processing)),
                ]
        elif state == 'paid':
            domain = domain + [['OR',
                    ('state', '=', 'paid'),
                    ('id', 'in', list(processing)),
                    ]]
        return domain, processing

    @classmethod
    @ModelView.button
    def post(cls, attempts):
        cls.post_payments(attempts)

    @classmethod
    def post_payments(cls, attempts):
        """Post the payments of paid orders to their bills, once each

        The payment of a bill that no longer owes the amount (paid or
        changed meanwhile) is not posted and its order is flagged.
        """
        attempts = [a for a in attempts if a.state == 'paid' and not a.move]
        if not attempts:
            return
        cls._lock_posting(attempts)
        lock_for_update(cls, attempts)
        for attempt in cls.browse([a.id for a in attempts]):
            if attempt.state != 'paid' or attempt.move:
                continue
            problems = list(attempt._bill_problems())
            if problems:
                cls._flag(attempt, problems)
            else:
                cls.write([attempt], {'move': attempt.pay_invoice()})

    @classmethod
    def _lock_posting(cls, attempts):
        """Lock first what posting the payments locks

        Tryton starts a transaction again with the locks it asked for: asked
        before any work, the new start costs next to nothing.
        """
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        Date = pool.get('ir.date')
        JournalPeriod = pool.get('account.journal.period')
        Period = pool.get('account.period')
        for company in {a.company for a in attempts}:
            with Transaction().set_context(company=company.id):
                method = Configuration(1).get_payment_method(
                    'wechat_pay_method', company=company.id)
                period = Period.find(company, date=Date.today())
                period.move_sequence_used.lock()
                if not JournalPeriod.search([
                            ('journal', '=', method.journal.id),
                            ('period', '=', period.id),
                            ], limit=1):
                    JournalPeriod.lock()

    @classmethod
    def post_late_payments(cls):
        "Post the payments of orders paid for a while but not posted"
        domain = [
            ('state', '=', 'paid'),
            ('move', '=', None),
            ('write_date', '<=', dt.datetime.now() - POST_DELAY),
            ]
        company = Transaction().context.get('company')
        if company:
            domain.append(('company', '=', company))
        cls.post_payments(cls.search(domain, order=[('id', 'ASC')]))

    def pay_invoice(self):
        "Post the payment of the bill on the WeChat Pay method; return move"
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        with Transaction().set_context(company=self.company.id):
            method = Configuration(1).get_payment_method(
                'wechat_pay_method', company=self.company.id)
            today = Date.today()
            invoice = Invoice(self.invoice.id)
            lines = invoice.pay_invoice(
                invoice.amount_to_pay, method, today,
                description=self.out_trade_no)
            invoice = Invoice(invoice.id)
            reconcile_invoice(invoice)
        return lines[0].move

    @classmethod
    @Workflow.transition('paid')
    def paid(cls, attempts):
        pass

    @classmethod
    @Workflow.transition('flagged')
    def flag(cls, attempts):
        pass


def reconcile_invoice(invoice):
    "Reconcile the invoice when its payments settle it, and process it"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    MoveLine = pool.get('account.move.line')
    if invoice.amount_to_pay == 0:
        lines = [l for l in invoice.lines_to_pay + invoice.payment_lines
            if not l.reconciliation]
        if lines:
            MoveLine.reconcile(lines)
    # Also done by a queued task after commit; the API shows the state now
    Invoice.process([Invoice(invoice.id)])


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('property.payment.attempt|check_pending',
                    "Check Pending WeChat Pay Orders"),
                ('property.payment.refund|check_processing',
                    "Check WeChat Pay Refunds"),
                ])
