# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Messages to mini-program accounts: in-app, WeChat subscribe messages and
hooks for SMS and email

Every message is listed in the mini-program.  It is also sent as a WeChat
subscribe message when a template is set for its kind and the account has a
subscription left for that template: WeChat lets a mini-program send one
message per subscription the user accepted.  The counter of an account and
template goes up by one for each subscription the mini-program reports,
down by one for each message sent, and to zero when WeChat answers 43101
(the user has none left).
"""
import datetime as dt
import json
import logging
import re

from sql import Literal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.modules.property_community.exceptions import WeChatError
from trytond.modules.property_community.wechat import WeChat
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .exceptions import NotificationError
from .payment import lock_for_update

logger = logging.getLogger(__name__)

KINDS = [
    ('bill_reminder', "Bill Reminder"),
    ('notice', "Notice"),
    ]
WECHAT_STATES = [
    (None, ""),
    ('pending', "Pending"),
    ('sent', "Sent"),
    ('no_quota', "No Subscription Left"),
    ('failed', "Failed"),
    ]
# WeChat answers: the user has no subscription left
NO_QUOTA = 43101
# The message values a template key can show
VALUES = ['title', 'bill', 'amount', 'date', 'note']
KEY = re.compile(r'([a-z_]+\d+)\s*=\s*(\w+)')


def parse_keys(text):
    "Return the template keys of text as {key: value name}"
    keys = {}
    for line in (text or '').splitlines():
        line = line.strip()
        if not line:
            continue
        match = KEY.fullmatch(line)
        if not match or match.group(2) not in VALUES:
            raise ValueError(line)
        keys[match.group(1)] = match.group(2)
    return keys


class Template(DeactivableMixin, ModelSQL, ModelView):
    "WeChat Subscribe Message Template"
    __name__ = 'property.message.template'
    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection(KINDS, "Kind", required=True,
        help="The messages sent with the template.")
    template_id = fields.Char("Template ID", required=True, strip=True,
        help="The ID of the template chosen in the mini-program's "
        "administration (subscribe messages).")
    keys = fields.Text("Keys", required=True,
        help="A line per key of the template: the key, \"=\" and the value "
        "it shows, one of: " + ', '.join(VALUES) + ".\n"
        "E.g. \"thing1=title\".")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('template_id_unique', Unique(t, t.template_id),
                'property_billing.msg_message_template_unique'),
            ]

    @classmethod
    def default_kind(cls):
        return 'bill_reminder'

    @classmethod
    def validate_fields(cls, templates, field_names):
        super().validate_fields(templates, field_names)
        if 'keys' in field_names:
            for template in templates:
                try:
                    parse_keys(template.keys)
                except ValueError as exception:
                    raise NotificationError(gettext(
                            'property_billing.msg_message_template_keys',
                            template=template.rec_name,
                            line=exception.args[0],
                            values=', '.join(VALUES)))

    @classmethod
    def of_kind(cls, kind):
        templates = cls.search([('kind', '=', kind)], limit=1)
        return templates[0] if templates else None

    def data(self, values):
        "Return the data of a message of values for the template"
        return {key: values.get(name) for key, name in
            parse_keys(self.keys).items() if values.get(name) is not None}


class Subscription(ModelSQL, ModelView):
    "WeChat Subscriptions of an Account"
    __name__ = 'property.message.subscription'
    web_user = fields.Many2One('web.user', "Account", required=True,
        ondelete='CASCADE', readonly=True)
    template_id = fields.Char("Template ID", required=True, readonly=True)
    remaining = fields.Integer("Remaining", required=True, readonly=True,
        help="How many messages of the template may still be sent to the "
        "account.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('web_user_template_unique', Unique(t, t.web_user, t.template_id),
                'property_billing.msg_message_subscription_unique'),
            ]

    @classmethod
    def default_remaining(cls):
        return 0

    @classmethod
    def _get(cls, web_user, template_id, lock=True):
        "Return the subscription, created when missing, locked with lock"
        subscriptions = cls.search([
                ('web_user', '=', web_user.id),
                ('template_id', '=', template_id),
                ], limit=1)
        if not subscriptions:
            subscription = cls(web_user=web_user, template_id=template_id,
                remaining=0)
            subscription.save()
        else:
            subscription, = subscriptions
        if lock:
            lock_for_update(cls, [subscription])
            subscription = cls(subscription.id)
        return subscription

    @classmethod
    def accept(cls, web_user, template_ids):
        """Count one more message for each template of template_ids the
        account accepted; return the subscriptions of the known templates"""
        pool = Pool()
        Template = pool.get('property.message.template')
        known = {t.template_id for t in Template.search([
                    ('template_id', 'in', list(template_ids)),
                    ])}
        result = []
        for template_id in template_ids:
            if template_id not in known:
                continue
            subscription = cls._get(web_user, template_id)
            subscription.remaining += 1
            subscription.save()
            result.append(subscription)
        return result

    @classmethod
    def remaining_of(cls, web_user, template_ids):
        return {s.template_id: s.remaining for s in cls.search([
                    ('web_user', '=', web_user.id),
                    ('template_id', 'in', list(template_ids)),
                    ])}


class Message(ModelSQL, ModelView):
    "Message to an Account"
    __name__ = 'property.message'
    web_user = fields.Many2One('web.user', "Account", required=True,
        ondelete='CASCADE', readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    title = fields.Char("Title", required=True, readonly=True)
    body = fields.Text("Body", readonly=True)
    link = fields.Char("Link", readonly=True,
        help="The mini-program page the message opens.")
    origin = fields.Reference("Origin", selection='get_origin',
        readonly=True)
    unread = fields.Boolean("Unread", readonly=True)
    read_at = fields.Timestamp("Read at", readonly=True)
    wechat_data = fields.Text("WeChat Data", readonly=True)
    wechat_template = fields.Char("WeChat Template", readonly=True)
    wechat_state = fields.Selection(
        WECHAT_STATES, "WeChat", readonly=True, sort=False)
    wechat_error = fields.Char("WeChat Error", readonly=True,
        states={
            'invisible': ~Eval('wechat_error'),
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.web_user, Index.Range()), (t.id, Index.Range())),
                Index(t, (t.wechat_state, Index.Equality(cardinality='low')),
                    where=t.wechat_state == Literal('pending')),
                })
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'deliver': {
                    'invisible': Eval('wechat_state') != 'failed',
                    'icon': 'tryton-refresh',
                    'depends': ['wechat_state'],
                    },
                })

    @classmethod
    def default_unread(cls):
        return True

    @classmethod
    def _get_origin(cls):
        return ['account.dunning', 'account.invoice']

    @classmethod
    def get_origin(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        models = cls._get_origin()
        return [(None, '')] + [(m, IrModel.get_name(m)) for m in models]

    @classmethod
    def notify(cls, web_users, kind, title, body=None, link=None,
            origin=None, data=None):
        """Send a message of kind to each account of web_users

        data gives the values of the WeChat template of the kind (title,
        bill, amount, date, note).  Return the messages.
        """
        pool = Pool()
        Template = pool.get('property.message.template')
        template = Template.of_kind(kind)
        wechat_data = None
        if template and data:
            wechat_data = json.dumps(
                template.data(data), default=_json_default,
                ensure_ascii=False)
        messages = []
        for web_user in web_users:
            message = cls(web_user=web_user, kind=kind, title=title,
                body=body, link=link, origin=origin)
            if wechat_data and web_user.wechat_openid:
                message.wechat_template = template.template_id
                message.wechat_data = wechat_data
                message.wechat_state = 'pending'
            messages.append(message)
        cls.save(messages)
        if messages:
            # after commit: WeChat is not part of the transaction
            cls.__queue__.deliver(messages)
        return messages

    @classmethod
    @ModelView.button
    def deliver(cls, messages):
        "Send the messages on every channel besides the in-app list"
        cls.send_wechat(messages)
        cls.send_sms(messages)
        cls.send_email(messages)

    @classmethod
    def deliver_pending(cls):
        "Send the WeChat messages still pending (scheduled job)"
        cls.deliver(cls.search([('wechat_state', '=', 'pending')]))

    @classmethod
    def send_wechat(cls, messages):
        """Send the pending messages as WeChat subscribe messages, one
        subscription each"""
        pool = Pool()
        Subscription = pool.get('property.message.subscription')
        client = None
        for message in messages:
            if message.wechat_state not in {'pending', 'failed'}:
                continue
            subscription = Subscription._get(
                message.web_user, message.wechat_template)
            if subscription.remaining <= 0:
                message.wechat_state = 'no_quota'
                message.save()
                continue
            if client is None:
                client = WeChat()
            try:
                client.send_subscribe(
                    message.web_user.wechat_openid,
                    message.wechat_template,
                    json.loads(message.wechat_data),
                    page=message.link)
            except WeChatError as exception:
                if exception.errcode == NO_QUOTA:
                    subscription.remaining = 0
                    message.wechat_state = 'no_quota'
                else:
                    message.wechat_state = 'failed'
                    message.wechat_error = (
                        f'{exception.errcode or ""} {exception.message}'
                        .strip()[:200])
                    logger.info("WeChat message %s not sent: %s",
                        message.id, message.wechat_error)
            else:
                subscription.remaining -= 1
                message.wechat_state = 'sent'
                message.wechat_error = None
            subscription.save()
            message.save()

    @classmethod
    def send_sms(cls, messages):
        """Send the messages as SMS

        A hook for a module of an SMS provider: nothing is sent here.  The
        text of a message is message.sms_text and the number its account's
        phone.
        """

    @classmethod
    def send_email(cls, messages):
        """Send the messages by email

        A hook for a module of an email provider: nothing is sent here.
        """

    @property
    def sms_text(self):
        return f'{self.title}: {self.body}' if self.body else self.title

    @classmethod
    def mark_read(cls, messages):
        cls.write([m for m in messages if m.unread], {
                'unread': False,
                'read_at': dt.datetime.now(),
                })

    @classmethod
    def unread_count(cls, web_user):
        return cls.search_count([
                ('web_user', '=', web_user.id),
                ('unread', '=', True),
                ])


def _json_default(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('property.message|deliver_pending',
                "Send Pending WeChat Messages"))
