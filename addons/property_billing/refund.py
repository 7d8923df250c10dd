# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Refunds of WeChat Pay orders, approved in the back office (BILL-4)"
import datetime as dt
import logging
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.model.exceptions import AccessError
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from . import wechat_pay
from .exceptions import PaymentError, RefundError, RefundValidationError
from .payment import (
    QUERY_DELAY, lock_for_update, new_number, reconcile_invoice)
from .wechat_pay import WeChatPayError, from_fen, parse_rfc3339, to_fen

logger = logging.getLogger(__name__)


class Refund(Workflow, ModelSQL, ModelView):
    "Refund of a WeChat Pay order"
    __name__ = 'property.payment.refund'
    _states = {
        'readonly': Eval('state') != 'requested',
        }
    attempt = fields.Many2One(
        'property.payment.attempt', "Order", required=True,
        ondelete='RESTRICT',
        domain=[
            ('state', 'in', ['paid', 'flagged']),
            ('transaction_id', '!=', None),
            If(Eval('company'), ('company', '=', Eval('company', -1)), ()),
            ],
        states=_states)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    amount = Monetary("Amount", currency='currency', digits='currency',
        required=True, states=_states,
        domain=[('amount', '>', 0)])
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    reason = fields.Char("Reason", required=True, states=_states,
        help="Shown to the payer by WeChat Pay.")
    out_refund_no = fields.Char("Refund Number", required=True,
        readonly=True)
    refund_id = fields.Char("WeChat Pay Refund ID", readonly=True)
    state = fields.Selection([
            ('requested', "Requested"),
            ('processing', "Processing"),
            ('succeeded', "Succeeded"),
            ('closed', "Closed"),
            ('abnormal', "Abnormal"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    requested_by = fields.Many2One('res.user', "Requested by", readonly=True)
    approved_by = fields.Many2One('res.user', "Approved by", readonly=True)
    success_time = fields.Timestamp("Refunded at", readonly=True)
    received_account = fields.Char("Received in", readonly=True,
        help="Where WeChat Pay returned the money.")
    move = fields.Many2One('account.move', "Reversing Move", readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('out_refund_no_unique', Unique(t, t.out_refund_no),
                'property_billing.msg_refund_out_refund_no_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.attempt, Index.Range())))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('requested', 'processing'),
            ('requested', 'succeeded'),
            ('requested', 'cancelled'),
            ('processing', 'succeeded'),
            ('processing', 'closed'),
            ('processing', 'abnormal'),
            ('abnormal', 'succeeded'),
            ('abnormal', 'closed'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'requested',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'requested',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'check': {
                    'invisible': ~Eval('state').in_(
                        ['processing', 'abnormal']),
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'requested'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_requested_by(cls):
        return Transaction().user or None

    @classmethod
    def default_out_refund_no(cls):
        return new_number('RF')

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('attempt', '_parent_attempt.company')
    def on_change_attempt(self):
        if self.attempt:
            self.company = self.attempt.company

    def get_rec_name(self, name):
        return self.out_refund_no

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Attempt = pool.get('property.payment.attempt')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('attempt'):
            values['company'] = Attempt(values['attempt']).company.id
        return values

    @classmethod
    def validate_fields(cls, refunds, field_names):
        super().validate_fields(refunds, field_names)
        cls.check_amounts(refunds)

    @classmethod
    def check_amounts(cls, refunds):
        "The refunds of an order stay within the amount paid"
        for refund in refunds:
            attempt = refund.attempt
            if refund.amount != refund.amount.quantize(Decimal('0.01')):
                raise RefundValidationError(gettext(
                        'property_billing.msg_refund_amount_digits'))
            refunded = sum((r.amount for r in attempt.refunds
                    if r.state not in {'cancelled', 'closed'}),
                Decimal(0))
            if refunded > from_fen(attempt.amount):
                raise RefundValidationError(gettext(
                        'property_billing.msg_refund_exceeds',
                        order=attempt.rec_name,
                        amount=from_fen(attempt.amount)))

    @classmethod
    def check_modification(cls, mode, refunds, values=None, external=False):
        super().check_modification(
            mode, refunds, values=values, external=external)
        if mode == 'delete':
            for refund in refunds:
                if refund.state not in {'requested', 'cancelled'}:
                    raise AccessError(gettext(
                            'property_billing.msg_refund_delete',
                            refund=refund.rec_name))

    @classmethod
    def copy(cls, refunds, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('out_refund_no', None)
        default.setdefault('refund_id', None)
        default.setdefault('approved_by', None)
        default.setdefault('success_time', None)
        default.setdefault('received_account', None)
        default.setdefault('move', None)
        default.setdefault('requested_by', cls.default_requested_by())
        return super().copy(refunds, default=default)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, refunds):
        pass

    @classmethod
    @ModelView.button
    def approve(cls, refunds):
        "Ask WeChat Pay to refund: the money goes back to the payer"
        client = wechat_pay.client()
        user = Transaction().user
        for refund in refunds:
            if refund.state != 'requested':
                continue
            attempt = refund.attempt
            # The refund reverses the payment: it must be posted first
            attempt.post_payments([attempt])
            try:
                answer = client.refund(attempt.out_trade_no,
                    refund.out_refund_no, to_fen(refund.amount),
                    attempt.amount, reason=refund.reason)
            except WeChatPayError as exception:
                raise RefundError(gettext(
                        'property_billing.msg_refund_failed',
                        refund=refund.rec_name, code=exception.code,
                        message=exception.message))
            cls.write([refund], {
                    'approved_by': user or None,
                    'refund_id': answer.get('refund_id'),
                    })
            cls.process_processing([refund])
            cls.apply_refund(refund, answer)

    @classmethod
    @Workflow.transition('processing')
    def process_processing(cls, refunds):
        pass

    @classmethod
    @ModelView.button
    def check(cls, refunds):
        "Ask WeChat Pay how refunds in progress ended"
        client = wechat_pay.client()
        for refund in refunds:
            if refund.state not in {'processing', 'abnormal'}:
                continue
            try:
                answer = client.query_refund(refund.out_refund_no)
            except WeChatPayError as exception:
                logger.warning("query of refund %s failed: %s",
                    refund.out_refund_no, exception)
                continue
            cls.apply_refund(refund, answer)

    @classmethod
    def check_processing(cls):
        "Ask about refunds whose notification is late"
        domain = [
            ('state', 'in', ['processing', 'abnormal']),
            ('write_date', '<=', dt.datetime.now() - QUERY_DELAY),
            ]
        company = Transaction().context.get('company')
        if company:
            domain.append(('company', '=', company))
        cls.check(cls.search(domain, order=[('id', 'ASC')]))

    @classmethod
    def process_notification(cls, envelope):
        "Apply a verified and decrypted REFUND notification"
        resource = envelope['resource']
        refunds = cls.search([
                ('out_refund_no', '=', str(resource.get('out_refund_no'))),
                ], limit=1)
        if not refunds:
            raise PaymentError(gettext(
                    'property_billing.msg_refund_unknown',
                    number=resource.get('out_refund_no')),
                code='unknown_order')
        refund, = refunds
        client = wechat_pay.client()
        if resource.get('mchid') != client.mchid:
            raise PaymentError(gettext(
                    'property_billing.msg_payment_flag_merchant',
                    appid='', mchid=resource.get('mchid')),
                code='other_merchant')
        cls.apply_refund(refund, resource)

    @classmethod
    def apply_refund(cls, refund, answer):
        "Apply the status WeChat Pay gives (answer, query or notification)"
        lock_for_update(cls, [refund])
        refund = cls(refund.id)
        status = answer.get('status') or answer.get('refund_status')
        amount = (answer.get('amount') or {}).get('refund')
        if amount is not None and amount != to_fen(refund.amount):
            logger.warning("refund %s reported for %s fen",
                refund.out_refund_no, amount)
            return
        values = {}
        if answer.get('refund_id'):
            values['refund_id'] = answer['refund_id']
        if answer.get('user_received_account'):
            values['received_account'] = answer['user_received_account']
        if status == 'SUCCESS' and refund.state != 'succeeded':
            values['success_time'] = (
                parse_rfc3339(answer.get('success_time'))
                or dt.datetime.now())
            values['move'] = refund.post_reversal()
            cls.write([refund], values)
            cls.succeed([refund])
        elif status == 'CLOSED' and refund.state in {
                'processing', 'abnormal'}:
            cls.write([refund], values)
            cls.close([refund])
        elif status == 'ABNORMAL' and refund.state == 'processing':
            cls.write([refund], values)
            cls.abnormal([refund])
        elif values:
            cls.write([refund], values)

    def post_reversal(self):
        """Post the money going back to the payer; return the move

        The payer owes the refunded amount again: the payment of the order
        is reversed and what the payer keeps paid is posted back to the
        bill, which stays open for the refunded amount.  Nothing is posted
        for an order whose payment was never posted (a flagged order).
        """
        pool = Pool()
        Configuration = pool.get('property.billing.configuration')
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        Reconciliation = pool.get('account.move.reconciliation')
        attempt = self.attempt
        if not attempt.move:
            return None
        company = self.company
        with Transaction().set_context(company=company.id):
            invoice = Invoice(attempt.invoice.id)
            if invoice.state == 'paid':
                Reconciliation.delete(list({l.reconciliation
                            for l in invoice.lines_to_pay
                            if l.reconciliation}))
                Invoice.process([invoice])
                invoice = Invoice(invoice.id)
            # The line of the bill this order still pays
            moves = {attempt.move} | {r.move for r in attempt.refunds
                if r.move and r != self}
            paid = [l for l in invoice.payment_lines
                if l.move in moves and l.credit and not l.reconciliation]
            paid = paid[0] if paid and invoice.state == 'posted' else None
            method = Configuration(1).get_payment_method(
                'wechat_pay_method', company=company.id)
            today = Date.today()

            def receivable(debit, credit):
                line = MoveLine(
                    account=invoice.account, debit=debit, credit=credit)
                if invoice.account.party_required:
                    line.party = invoice.party
                return line
            amount = paid.credit if paid else self.amount
            lines = [receivable(amount, 0)]
            if amount > self.amount:
                lines.append(receivable(0, amount - self.amount))
            lines.append(MoveLine(
                    account=method.credit_account.current(date=today),
                    debit=0, credit=self.amount))
            move = Move(
                journal=method.journal,
                period=Period.find(company, date=today),
                date=today, origin=self, company=company,
                description=self.out_refund_no,
                lines=lines)
            move.save()
            Move.post([move])
            if paid:
                reversal, = [l for l in move.lines
                    if l.account == invoice.account and l.debit]
                kept = [l for l in move.lines
                    if l.account == invoice.account and l.credit]
                Invoice.remove_payment_lines([paid])
                MoveLine.reconcile([paid, reversal])
                if kept:
                    Invoice.add_payment_lines({Invoice(invoice.id): kept})
                reconcile_invoice(Invoice(invoice.id))
        return move

    @classmethod
    @Workflow.transition('succeeded')
    def succeed(cls, refunds):
        pass

    @classmethod
    @Workflow.transition('closed')
    def close(cls, refunds):
        pass

    @classmethod
    @Workflow.transition('abnormal')
    def abnormal(cls, refunds):
        pass


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['property.payment.refund']
