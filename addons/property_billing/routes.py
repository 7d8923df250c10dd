# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import logging
import random
import time
from http import HTTPStatus

from trytond import backend
from trytond.modules.property_community.api import (
    APIError, Array, Boolean, Enum, Object, Query, String, endpoint, error,
    json_response, openapi, page, pagination)
from trytond.protocols.wrappers import Response, with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

from .exceptions import PaymentError
from .finance import parse_amount
from .receipt import receipted_payments
from . import wechat_pay
from .wechat_pay import SignatureError, client as wechat_pay_client, from_fen

logger = logging.getLogger(__name__)


# Online payment (BILL-4, BILL-6): the bills of the signed-in account's
# party, their payment with WeChat Pay and its notifications.

AMOUNT = {'type': 'string', 'pattern': r'^-?\d+\.\d{2}$',
    'description': "Yuan with 2 decimals"}
QUANTITY = {'type': ['string', 'null'], 'pattern': r'^-?\d+(\.\d+)?$'}
BILL_LINE = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'description': {'type': ['string', 'null']},
        'unit': {'type': ['string', 'null'],
            'description': "Full code of the unit billed"},
        'kind': {'type': ['string', 'null'],
            'description': "management, water, electricity, parking, ..., "
            "late_fee"},
        'period': {'type': ['string', 'null']},
        'previous_reading': QUANTITY,
        'current_reading': QUANTITY,
        'consumption': QUANTITY,
        'quantity': {'type': 'number'},
        'unit_price': AMOUNT,
        'amount': AMOUNT,
        },
    }
BILL = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'number': {'type': 'string'},
        'date': {'type': 'string', 'format': 'date'},
        'due_date': {'type': ['string', 'null'], 'format': 'date'},
        'state': {'type': 'string', 'enum': ['unpaid', 'paid']},
        'description': {'type': ['string', 'null']},
        'currency': {'type': 'string'},
        'total': AMOUNT,
        'amount_due': AMOUNT,
        'payable': {'type': 'boolean'},
        'processing': {'type': 'boolean',
            'description': "Paid online, the payment being posted to the "
            "bill (state paid, nothing due)"},
        'late_fee_of': {'type': ['object', 'null'],
            'description': "The overdue bill a late fee bill is charged on",
            'properties': {
                'id': {'type': 'integer'},
                'number': {'type': 'string'},
                }},
        'lines': {'type': 'array', 'items': BILL_LINE},
        },
    }
PAYMENT = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'out_trade_no': {'type': 'string'},
        'state': {'type': 'string',
            'enum': ['pending', 'paid', 'closed', 'flagged']},
        'amount': AMOUNT,
        'bill': {'type': 'object', 'properties': {
                'id': {'type': 'integer'},
                'number': {'type': 'string'},
                }},
        'created_at': {'type': 'string', 'format': 'date-time'},
        'expires_at': {'type': 'string', 'format': 'date-time'},
        'paid_at': {'type': ['string', 'null'], 'format': 'date-time'},
        'transaction_id': {'type': ['string', 'null']},
        'refunded': AMOUNT,
        },
    }
REQUEST_PAYMENT = {
    'type': 'object',
    'description': "The parameters of wx.requestPayment",
    'properties': {
        'timeStamp': {'type': 'string'},
        'nonceStr': {'type': 'string'},
        'package': {'type': 'string'},
        'signType': {'type': 'string', 'enum': ['RSA']},
        'paySign': {'type': 'string'},
        },
    }


def _utc(timestamp):
    # Timestamps are naive UTC in Tryton
    if timestamp:
        return timestamp.replace(microsecond=0).isoformat() + 'Z'


def serialize_bill_line(line, currency):
    "A line of a bill with what the billing run computed it from"
    origin = line.origin
    kind = getattr(origin, 'kind', None)
    if getattr(origin, '__name__', None) == 'property.billing.late_fee':
        kind = 'late_fee'
    elif getattr(origin, '__name__', None) != 'property.billing.line':
        origin = kind = None
    unit = getattr(origin, 'unit', None)
    return {
        'id': line.id,
        'description': line.description,
        'unit': unit.full_code if unit else None,
        'kind': kind,
        'period': getattr(origin, 'period', None),
        'previous_reading': getattr(origin, 'previous_value', None),
        'current_reading': getattr(origin, 'current_value', None),
        'consumption': getattr(origin, 'consumption', None),
        'quantity': line.quantity,
        'unit_price': line.unit_price.quantize(currency.rounding),
        'amount': line.amount,
        }


def serialize_bill(invoice, processing=False):
    "The bill; processing: paid online, the payment not yet posted"
    dates = [l.maturity_date for l in invoice.lines_to_pay
        if l.maturity_date]
    late_fee_of = invoice.late_fee_of
    amount_due = 0 if processing else invoice.amount_to_pay
    return {
        'id': invoice.id,
        'number': invoice.number,
        'date': invoice.invoice_date,
        'due_date': min(dates) if dates else None,
        'state': ('paid' if invoice.state == 'paid' or processing
            else 'unpaid'),
        'description': invoice.description,
        'currency': invoice.currency.code,
        'total': invoice.currency.round(invoice.total_amount),
        'amount_due': invoice.currency.round(amount_due),
        'payable': invoice.state == 'posted' and amount_due > 0,
        'processing': processing,
        'late_fee_of': ({'id': late_fee_of.id, 'number': late_fee_of.number}
            if late_fee_of else None),
        'lines': [serialize_bill_line(l, invoice.currency)
            for l in invoice.lines if l.type == 'line'],
        }


def serialize_payment(attempt):
    refunded = sum((r.amount for r in attempt.refunds
            if r.state == 'succeeded'), from_fen(0))
    return {
        'id': attempt.id,
        'out_trade_no': attempt.out_trade_no,
        'state': attempt.state,
        'amount': from_fen(attempt.amount),
        'bill': {'id': attempt.invoice.id, 'number': attempt.invoice.number},
        'created_at': _utc(attempt.create_date),
        'expires_at': _utc(attempt.time_expire),
        'paid_at': _utc(attempt.paid_at),
        'transaction_id': attempt.transaction_id,
        'refunded': refunded,
        }


def _bill_domain(web_user):
    "The bills an account sees: those of its own party, once posted"
    return [
        ('type', '=', 'out'),
        ('party', '=', web_user.party.id if web_user.party else -1),
        ('state', 'in', ['posted', 'paid']),
        ]


def _own_bill(pool, web_user, bill_id):
    Invoice = pool.get('account.invoice')
    bills = Invoice.search(
        _bill_domain(web_user) + [('id', '=', bill_id)], limit=1)
    if not bills:
        # The same answer for another's bill: its existence is not told
        raise error(404, 'not_found', 'property_community.msg_api_not_found')
    return bills[0]


def _own_payment(pool, web_user, payment_id):
    Attempt = pool.get('property.payment.attempt')
    attempts = Attempt.search([
            ('id', '=', payment_id),
            ('party', '=', web_user.party.id if web_user.party else -1),
            ], limit=1)
    if not attempts:
        raise error(404, 'not_found', 'property_community.msg_api_not_found')
    return attempts[0]


@endpoint('/bills', permission='bill.pay', tags=['billing'],
    query=pagination(state=Enum(['unpaid', 'paid'])),
    response={
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': BILL},
            'total': {'type': 'integer'},
            'offset': {'type': 'integer'},
            'limit': {'type': 'integer'},
            },
        })
def bills(request, pool, body, query):
    "My bills, the latest first, with their lines"
    Attempt = pool.get('property.payment.attempt')
    Invoice = pool.get('account.invoice')
    domain, processing = Attempt.payer_bills(
        _bill_domain(request.web_user), query.get('state'))
    return page(Invoice, domain,
        offset=query.get('offset', 0), limit=query.get('limit', 20),
        order=[('invoice_date', 'DESC'), ('id', 'DESC')],
        serialize=lambda i: serialize_bill(i, i.id in processing))


@endpoint('/bills/<int:bill_id>', permission='bill.pay', tags=['billing'],
    response=BILL, errors=[404])
def bill(request, pool, body, bill_id):
    "One of my bills"
    Attempt = pool.get('property.payment.attempt')
    invoice = _own_bill(pool, request.web_user, bill_id)
    return serialize_bill(invoice,
        bool(Attempt.paid_unposted([('invoice', '=', invoice.id)])))


@endpoint('/bills/<int:bill_id>/pay', methods=['POST'],
    permission='bill.pay', tags=['billing'], errors=[404, 409],
    response={
        'type': 'object',
        'properties': {
            'payment': PAYMENT,
            'params': REQUEST_PAYMENT,
            },
        })
def pay_bill(request, pool, body, bill_id):
    "Order the payment of one of my bills for wx.requestPayment"
    Attempt = pool.get('property.payment.attempt')
    invoice = _own_bill(pool, request.web_user, bill_id)
    try:
        attempt = Attempt.pay(invoice, request.web_user)
    except PaymentError as exception:
        if exception.code in {'not_configured', 'unavailable'}:
            raise APIError(503, 'payment_unavailable', exception.message,
                headers={'Retry-After': '5'})
        raise APIError(409, exception.code or 'conflict', exception.message)
    return {
        'payment': serialize_payment(attempt),
        'params': attempt.request_payment_params(),
        }


@endpoint('/payments', permission='bill.pay', tags=['billing'],
    query=pagination(
        state=Enum(['pending', 'paid', 'closed', 'flagged'])),
    response={
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': PAYMENT},
            'total': {'type': 'integer'},
            'offset': {'type': 'integer'},
            'limit': {'type': 'integer'},
            },
        })
def payments(request, pool, body, query):
    "My online payments, the latest first (closed orders on request)"
    Attempt = pool.get('property.payment.attempt')
    web_user = request.web_user
    domain = [('party', '=', web_user.party.id if web_user.party else -1)]
    if query.get('state'):
        domain.append(('state', '=', query['state']))
    else:
        domain.append(('state', '!=', 'closed'))
    return page(Attempt, domain,
        offset=query.get('offset', 0), limit=query.get('limit', 20),
        serialize=serialize_payment)


@endpoint('/payments/<int:payment_id>', permission='bill.pay',
    tags=['billing'], response=PAYMENT, errors=[404], readonly=False)
def payment(request, pool, body, payment_id):
    "One of my payments; a pending one is confirmed with WeChat Pay"
    attempt = _own_payment(pool, request.web_user, payment_id)
    return serialize_payment(attempt.poll())


@endpoint('/payments/config', permission='bill.pay', tags=['billing'],
    response={
        'type': 'object',
        'properties': {
            'available': {'type': 'boolean'},
            'simulation': {'type': 'boolean',
                'description': "The server pays against a test WeChat Pay "
                "(demo, tests): the app may offer a simulated payment"},
            },
        })
def payment_config(request, pool, body):
    "How bills are paid online on this server"
    return {
        'available': wechat_pay.is_configured(),
        'simulation': wechat_pay.simulation_enabled(),
        }


@endpoint('/payments/<int:payment_id>/simulate', methods=['POST'],
    permission='bill.pay', tags=['billing'], response=PAYMENT,
    errors=[404, 409], readonly=True)
def simulate_payment(request, pool, body, payment_id):
    "Have the test WeChat Pay pay my pending order as I would in WeChat"
    if not wechat_pay.simulation_enabled():
        raise error(404, 'not_found', 'property_community.msg_api_not_found')
    attempt = _own_payment(pool, request.web_user, payment_id)
    if attempt.state != 'pending' or not attempt.prepay_id:
        raise error(409, 'not_pending',
            'property_billing.msg_payment_bill_not_payable',
            bill=attempt.invoice.rec_name)
    if not wechat_pay.simulate_user_payment(attempt.prepay_id):
        raise error(503, 'payment_unavailable',
            'property_billing.msg_payment_unavailable')
    return serialize_payment(attempt)


# WeChat Pay notifications: outside of /api/v1 (and of its OpenAPI
# document) as WeChat Pay is their only client.  They are authenticated by
# WeChat Pay's signature and answer as WeChat Pay expects: 204 when done
# (also for a repeated notification), 4xx/5xx {"code": "FAIL"} otherwise.

# Seconds a notification may wait for a busy database (WeChat Pay waits 5)
NOTIFY_BUSY_BUDGET = 3


def _fail(status, message):
    return json_response({'code': 'FAIL', 'message': message}, status=status)


def _notification_route(rule, model_name):
    @with_transaction(context={'_skip_warnings': True})
    def transactional(request, pool, envelope):
        pool.get(model_name).process_notification(envelope)
        return Response(status=HTTPStatus.NO_CONTENT)

    def guarded(request, pool):
        if 'property_billing' not in pool._modules:
            return _fail(404, "not found")
        try:
            envelope = wechat_pay_client().parse_notification(
                request.headers, request.get_data())
        except SignatureError as exception:
            logger.warning("WeChat Pay notification refused (%s) from %s",
                exception.reason, request.remote_addr)
            return _fail(401, exception.reason)
        # Deliveries of one notification may come together: the others
        # wait for the first to commit and then find the order paid.
        deadline = time.monotonic() + NOTIFY_BUSY_BUDGET
        while True:
            try:
                return transactional(request, pool, envelope)
            except PaymentError as exception:
                logger.warning("WeChat Pay notification not applied: %s",
                    exception.message)
                return _fail(
                    404 if exception.code == 'unknown_order' else 400,
                    exception.code or 'refused')
            except backend.DatabaseOperationalError:
                if time.monotonic() > deadline:
                    # WeChat Pay delivers it again later
                    return _fail(503, "busy")
                time.sleep(random.uniform(0.05, 0.2))
            except Exception:
                logger.exception("WeChat Pay notification failed")
                return _fail(500, "error")

    def handler(request, database_name):
        try:
            return with_pool(guarded)(request, database_name)
        except backend.DatabaseOperationalError:
            return _fail(503, "busy")

    handler.__name__ = f'wechat_notify_{model_name.replace(".", "_")}'
    app.route(rule, methods=['POST'])(handler)
    return handler


wechat_pay_notify = _notification_route(
    '/<database_name>/wechat/pay/notify', 'property.payment.attempt')
wechat_refund_notify = _notification_route(
    '/<database_name>/wechat/refund/notify', 'property.payment.refund')


# Finance system (BILL-5): payments received, reported with the key of an
# integration issued in the back office.

openapi.security_schemes['integration_key'] = {
    'type': 'http', 'scheme': 'bearer',
    'description': "Key of a finance system integration, issued by a "
    "billing administrator (Billing > Configuration > Finance System "
    "Integrations)",
    }
FINANCE_PAYMENT = Object({
        'reference': String(required=True, min_length=1, max_length=64,
            description="The reference of the payment in the finance "
            "system: a payment is received once per reference"),
        'bill_number': String(max_length=64,
            description="The number of the bill paid"),
        'payer': String(max_length=120,
            description="The name or code of the payer, to find the bill "
            "of the amount when no bill number is given"),
        'amount': String(required=True, max_length=16,
            pattern=r'\d{1,10}(\.\d{1,2})?',
            description="Yuan, at most 2 decimals"),
        'date': String(required=True, max_length=10,
            pattern=r'\d{4}-\d{2}-\d{2}', description="YYYY-MM-DD"),
        })


def _integration(request, pool):
    Integration = pool.get('property.finance.integration')
    scheme, _, key = request.headers.get('Authorization', '').partition(' ')
    integration = None
    if scheme.lower() == 'bearer':
        integration = Integration.authenticate(key.strip())
    if not integration:
        raise error(401, 'unauthenticated',
            'property_billing.msg_finance_key_invalid')
    return integration


@endpoint('/finance/payments', methods=['POST'], public=True,
    security=[{'integration_key': []}], tags=['finance'], errors=[401, 403],
    body=Object({
            'payments': Array(FINANCE_PAYMENT, min_items=1, max_items=500,
                required=True),
            }),
    max_body=512 * 1024,
    response={
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': {
                    'type': 'object',
                    'properties': {
                        'id': {'type': 'integer'},
                        'reference': {'type': 'string'},
                        'status': {'type': 'string',
                            'enum': ['created', 'duplicate']},
                        'state': {'type': 'string',
                            'enum': ['posted', 'unmatched', 'ignored']},
                        'bill_number': {'type': ['string', 'null']},
                        'amount': AMOUNT,
                        'message': {'type': ['string', 'null']},
                        }}},
            'unmatched': {'type': 'array', 'items': {'type': 'string'}},
            },
        })
def finance_payments(request, pool, body):
    "Receive payments from the finance system, once per reference"
    Payment = pool.get('property.finance.payment')
    integration = _integration(request, pool)
    rows = []
    for i, payment in enumerate(body['payments']):
        try:
            date = dt.date.fromisoformat(payment['date'])
        except ValueError:
            raise error(422, 'invalid',
                'property_community.msg_api_field_format',
                field=f'payments[{i}].date', field_name='date')
        amount = parse_amount(payment['amount'])
        if amount is None:
            raise error(422, 'invalid',
                'property_billing.msg_finance_amount_invalid',
                field=f'payments[{i}].amount')
        rows.append({**payment, 'date': date, 'amount': amount})
    with Transaction().set_context(company=integration.company.id):
        received = Payment.receive(integration.company, rows, 'api',
            integration=integration)
    items = [{
            'id': p.id,
            'reference': p.reference,
            'status': 'created' if created else 'duplicate',
            'state': p.state,
            'bill_number': p.invoice.number if p.invoice else p.bill_number,
            'amount': p.amount,
            'message': p.message,
            } for p, created in received]
    return {
        'items': items,
        'unmatched': [i['reference'] for i in items
            if i['state'] == 'unmatched'],
        }


# Receipts (BILL-8): the receipts of my payments, paid online or received
# by the finance system

RECEIPT_FORMAT = Query({'format': Enum(['pdf', 'html'])})
RECEIPT_FILE = {'type': 'string', 'format': 'binary',
    'description': "application/pdf, or text/html with format=html"}
RECEIPT = {
    'type': 'object',
    'properties': {
        'method': {'type': 'string', 'enum': ['wechat_pay', 'finance'],
            'description': "Paid online or received by the finance system"},
        'id': {'type': 'integer',
            'description': "Of the payment, unique per method"},
        'number': {'type': 'string'},
        'amount': AMOUNT,
        'date': {'type': 'string', 'format': 'date'},
        'paid_at': {'type': ['string', 'null'], 'format': 'date-time'},
        'bill': {'type': 'object', 'properties': {
                'id': {'type': 'integer'},
                'number': {'type': 'string'},
                }},
        'receipt': {'type': 'string',
            'description': "The path of the receipt under the API"},
        },
    }


def _receipt_response(pool, record, number, format_):
    Receipt = pool.get('property.payment.receipt', type='report')
    extension, content = Receipt.render_receipt(record, format_ or 'pdf')
    if isinstance(content, str):
        content = content.encode('utf-8')
    mimetype = 'text/html' if extension == 'html' else 'application/pdf'
    return Response(content, mimetype=mimetype, headers={
            'Content-Disposition':
            f'inline; filename="receipt-{number}.{extension}"',
            })


def serialize_receipt(record):
    if record.__name__ == 'property.finance.payment':
        return {
            'method': 'finance',
            'id': record.id,
            'number': record.reference,
            'amount': record.amount,
            'date': record.date,
            'paid_at': None,
            'bill': {'id': record.invoice.id,
                'number': record.invoice.number},
            'receipt': f'/receipts/finance/{record.id}',
            }
    return {
        'method': 'wechat_pay',
        'id': record.id,
        'number': record.out_trade_no,
        'amount': from_fen(record.amount),
        'date': record.paid_at.date(),
        'paid_at': _utc(record.paid_at),
        'bill': {'id': record.invoice.id, 'number': record.invoice.number},
        'receipt': f'/payments/{record.id}/receipt',
        }


@endpoint('/payments/<int:payment_id>/receipt', permission='bill.pay',
    tags=['billing'], errors=[404, 409], query=RECEIPT_FORMAT,
    response=RECEIPT_FILE)
def payment_receipt(request, pool, body, query, payment_id):
    "The receipt of one of my paid payments, as PDF or printable HTML"
    attempt = _own_payment(pool, request.web_user, payment_id)
    if attempt.state != 'paid':
        raise error(409, 'not_paid', 'property_billing.msg_receipt_not_paid',
            payment=attempt.rec_name)
    return _receipt_response(
        pool, attempt, attempt.out_trade_no, query.get('format'))


@endpoint('/receipts', permission='bill.pay', tags=['billing'],
    query=pagination(),
    response={
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': RECEIPT},
            'total': {'type': 'integer'},
            'offset': {'type': 'integer'},
            'limit': {'type': 'integer'},
            },
        })
def receipts(request, pool, body, query):
    """My payments with a receipt, the latest first: paid online and
    received by the finance system"""
    offset, limit = query.get('offset', 0), query.get('limit', 20)
    records, total = receipted_payments(
        request.web_user.party, offset=offset, limit=limit)
    return {
        'items': [serialize_receipt(r) for r in records],
        'total': total,
        'offset': offset,
        'limit': limit,
        }


@endpoint('/receipts/finance/<int:payment_id>', permission='bill.pay',
    tags=['billing'], errors=[404], query=RECEIPT_FORMAT,
    response=RECEIPT_FILE)
def finance_receipt(request, pool, body, query, payment_id):
    "The receipt of a payment of my bills received by the finance system"
    FinancePayment = pool.get('property.finance.payment')
    party = request.web_user.party
    payments = FinancePayment.search([
            ('id', '=', payment_id),
            ('invoice.party', '=', party.id if party else -1),
            ('state', '=', 'posted'),
            ], limit=1)
    if not payments:
        raise error(404, 'not_found', 'property_community.msg_api_not_found')
    payment, = payments
    return _receipt_response(
        pool, payment, payment.reference, query.get('format'))


# Messages (BILL-7): the in-app messages of the signed-in account and its
# WeChat subscriptions, which let reminders be sent as subscribe messages

MESSAGE = {
    'type': 'object',
    'properties': {
        'id': {'type': 'integer'},
        'kind': {'type': 'string', 'enum': ['bill_reminder', 'notice']},
        'title': {'type': 'string'},
        'body': {'type': ['string', 'null']},
        'link': {'type': ['string', 'null'],
            'description': "The mini-program page the message opens"},
        'read': {'type': 'boolean'},
        'created_at': {'type': 'string', 'format': 'date-time'},
        'read_at': {'type': ['string', 'null'], 'format': 'date-time'},
        },
    }
SUBSCRIPTIONS = {
    'type': 'object',
    'properties': {
        'items': {'type': 'array', 'items': {
                'type': 'object',
                'properties': {
                    'kind': {'type': 'string'},
                    'template_id': {'type': 'string'},
                    'remaining': {'type': 'integer',
                        'description': "Messages that may still be sent"},
                    }}},
        },
    }


def serialize_message(message):
    return {
        'id': message.id,
        'kind': message.kind,
        'title': message.title,
        'body': message.body,
        'link': message.link,
        'read': not message.unread,
        'created_at': _utc(message.create_date),
        'read_at': _utc(message.read_at),
        }


def _subscriptions(pool, web_user, templates):
    Subscription = pool.get('property.message.subscription')
    remaining = Subscription.remaining_of(
        web_user, [t.template_id for t in templates])
    return {'items': [{
                'kind': t.kind,
                'template_id': t.template_id,
                'remaining': remaining.get(t.template_id, 0),
                } for t in templates]}


@endpoint('/messages', permission='bill.pay', tags=['messages'],
    query=pagination(unread=Boolean()),
    response={
        'type': 'object',
        'properties': {
            'items': {'type': 'array', 'items': MESSAGE},
            'total': {'type': 'integer'},
            'offset': {'type': 'integer'},
            'limit': {'type': 'integer'},
            'unread': {'type': 'integer',
                'description': "How many of my messages are unread"},
            },
        })
def messages(request, pool, body, query):
    "My messages, the latest first"
    Message = pool.get('property.message')
    domain = [('web_user', '=', request.web_user.id)]
    if query.get('unread'):
        domain.append(('unread', '=', True))
    result = page(Message, domain,
        offset=query.get('offset', 0), limit=query.get('limit', 20),
        serialize=serialize_message)
    result['unread'] = Message.unread_count(request.web_user)
    return result


@endpoint('/messages/<int:message_id>/read', methods=['POST'],
    permission='bill.pay', tags=['messages'], response=MESSAGE,
    errors=[404])
def read_message(request, pool, body, message_id):
    "Mark one of my messages read"
    Message = pool.get('property.message')
    messages = Message.search([
            ('id', '=', message_id),
            ('web_user', '=', request.web_user.id),
            ], limit=1)
    if not messages:
        raise error(404, 'not_found', 'property_community.msg_api_not_found')
    Message.mark_read(messages)
    return serialize_message(Message(message_id))


@endpoint('/subscriptions', permission='bill.pay', tags=['messages'],
    response=SUBSCRIPTIONS)
def subscriptions(request, pool, body):
    """The WeChat templates to ask wx.requestSubscribeMessage for and how
    many messages of each may still be sent to me"""
    Template = pool.get('property.message.template')
    return _subscriptions(pool, request.web_user, Template.search([]))


@endpoint('/subscriptions', methods=['POST'], permission='bill.pay',
    tags=['messages'], response=SUBSCRIPTIONS,
    body=Object({
            'template_ids': Array(String(max_length=128), max_items=5,
                required=True,
                description="The templates accepted in "
                "wx.requestSubscribeMessage (its result \"accept\")"),
            }))
def subscribe(request, pool, body):
    "Count the subscriptions I accepted; return the known templates"
    Subscription = pool.get('property.message.subscription')
    Template = pool.get('property.message.template')
    Subscription.accept(request.web_user, body['template_ids'])
    templates = Template.search([
            ('template_id', 'in', body['template_ids']),
            ])
    return _subscriptions(pool, request.web_user, templates)
