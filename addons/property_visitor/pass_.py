# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Single-use visitor passes and their signed tokens.

A token is "PV1." + base64url(payload || Ed25519 signature) where the
signature covers "PV1." || payload and the 32-byte payload is:
version u8, key id u8, jti 12 bytes, pass id u32, site (estate id) u16,
gate bitmask u32, not-before u32 and expiry u32 (Unix seconds).
It names the pass, its window and its gates and carries no personal data.
"""
import binascii
import datetime as dt
import hashlib
import hmac
import io
import secrets
import struct
from collections import namedtuple

import segno
from sql import Literal, With
from sql.functions import CurrentTimestamp
from sql.operators import Exists

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .configuration import b64url, b64url_decode
from .exceptions import PassError
from .secret import SecretMixin
from .statement import Param, StatementMixin

PREFIX = b'PV1.'
VERSION = 1
PAYLOAD = struct.Struct('>BB12sIHIII')
SIGNATURE_SIZE = 64
TOKEN_SIZE = len(PREFIX) + (
    (PAYLOAD.size + SIGNATURE_SIZE) * 4 + 2) // 3
ALL_GATES = 0xFFFFFFFF
EPOCH = dt.datetime(1970, 1, 1)
REASONS = [
    ('invalid_signature', "Invalid Signature"),
    ('unknown_key', "Unknown Key"),
    ('wrong_gate', "Wrong Gate"),
    ('not_yet_valid', "Not Yet Valid"),
    ('expired', "Expired"),
    ('used', "Used"),
    ('revoked', "Revoked"),
    ]

Claims = namedtuple('Claims',
    ['version', 'kid', 'jti', 'pass_id', 'site', 'gates', 'nbf', 'exp'])
# A scan logged in the passage log
Scan = namedtuple('Scan', ['result', 'reason', 'pass_id', 'passage_id'])


class TokenRefused(Exception):
    """A token that does not open the gate, with the reason

    claims: those of the server when the signature was checked;
    pass_: (id, host id) of the pass when it was read.
    """

    def __init__(self, reason, claims=None, pass_=None):
        super().__init__(reason)
        self.reason = reason
        self.claims = claims
        self.pass_ = pass_


def timestamp(value):
    "Unix seconds of a naive UTC datetime"
    return int((value - EPOCH).total_seconds())


def from_timestamp(value):
    return EPOCH + dt.timedelta(seconds=value)


def encode_token(key, claims):
    "Return the signed token of claims with key (a signing key record)"
    payload = PAYLOAD.pack(
        VERSION, key.kid, claims.jti, claims.pass_id, claims.site,
        claims.gates, claims.nbf, claims.exp)
    signature = key.sign(PREFIX + payload)
    return PREFIX.decode() + b64url(payload + signature)


def decode_token(token):
    """Return the claims and signature of token without checking them

    Raise TokenRefused('invalid_signature') for anything that is not a token.
    """
    if (not isinstance(token, str) or len(token) != TOKEN_SIZE
            or not token.startswith(PREFIX.decode())):
        raise TokenRefused('invalid_signature')
    try:
        data = b64url_decode(token[len(PREFIX):])
    except (binascii.Error, ValueError):
        raise TokenRefused('invalid_signature')
    if len(data) != PAYLOAD.size + SIGNATURE_SIZE:
        raise TokenRefused('invalid_signature')
    payload, signature = data[:PAYLOAD.size], data[PAYLOAD.size:]
    claims = Claims(*PAYLOAD.unpack(payload))
    if claims.version != VERSION:
        raise TokenRefused('invalid_signature')
    return claims, PREFIX + payload, signature


def clear_cache(Model, ids):
    "Forget the records of ids that a plain SQL statement just changed"
    transaction = Transaction()
    transaction.counter += 1
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            for id_ in ids:
                cache[Model.__name__].pop(id_, None)


def qr_image(token, format_='svg', scale=None):
    "Return the QR code of token as SVG or PNG bytes"
    qrcode = segno.make_qr(token, error='m')
    output = io.BytesIO()
    if format_ == 'png':
        qrcode.save(output, kind='png', scale=scale or 6, border=4)
    else:
        qrcode.save(output, kind='svg', scale=scale or 4, border=4,
            xmldecl=False, svgns=True)
    return output.getvalue()


class Pass(StatementMixin, SecretMixin, Workflow, ModelSQL, ModelView):
    "Single-use pass that opens a gate of an estate once"
    __name__ = 'property.visitor.pass'
    _secret_fields = {'secret'}
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    estate = fields.Many2One(
        'property.estate', "Estate", required=True, readonly=True,
        ondelete='CASCADE')
    visit = fields.Many2One('property.visitor.visit', "Visit",
        readonly=True, ondelete='CASCADE')
    batch = fields.Many2One('property.visitor.card.batch', "Card Batch",
        readonly=True, ondelete='CASCADE')
    host = fields.Many2One('web.user', "Host", readonly=True,
        ondelete='CASCADE',
        help="The account that invited, approved or asked for the cards.")
    holder = fields.Many2One('web.user', "Holder", readonly=True,
        ondelete='SET NULL',
        help="The account of the visitor who holds the pass.")
    visitor_name = fields.Char("Visitor", readonly=True)
    valid_from = fields.DateTime("Valid from", required=True, readonly=True)
    valid_to = fields.DateTime("Valid to", required=True, readonly=True)
    gates = fields.Many2Many(
        'property.visitor.pass-property.visitor.gate', 'pass_', 'gate',
        "Gates", readonly=True,
        help="The gates the pass opens; all gates of the estate if empty.")
    state = fields.Selection([
            ('active', "Active"),
            ('used', "Used"),
            ('revoked', "Revoked"),
            ('expired', "Expired"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    used_at = fields.DateTime("Used at", readonly=True)
    used_gate = fields.Many2One('property.visitor.gate', "Used at Gate",
        readonly=True, ondelete='SET NULL')
    static_jti = fields.Char("Static Token ID", readonly=True, strip=False)
    secret = fields.Char("Secret", readonly=True, strip=False)
    share_key = fields.Char("Share Key", readonly=True, strip=False)
    passages = fields.One2Many(
        'property.visitor.passage', 'pass_', "Passages", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('share_key_unique', Unique(t, t.share_key),
                'property_visitor.msg_pass_share_key_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.visit, Index.Range())),
                Index(t, (t.batch, Index.Range())),
                Index(t, (t.host, Index.Range())),
                Index(t, (t.holder, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.valid_to, Index.Range()),
                    where=t.state == Literal('active')),
                })
        cls._order = [('valid_from', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('active', 'used'),
            ('active', 'revoked'),
            ('active', 'expired'),
            }
        cls._buttons.update({
                'revoke': {
                    'invisible': Eval('state') != 'active',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'active'

    def get_rec_name(self, name):
        return f'P{self.id}' + (
            f' {self.visitor_name}' if self.visitor_name else '')

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('visitor_name', operator, value),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            if not values.get('static_jti'):
                values['static_jti'] = secrets.token_hex(12)
            if not values.get('secret'):
                values['secret'] = secrets.token_urlsafe(32)
            if not values.get('share_key'):
                values['share_key'] = secrets.token_urlsafe(18)
        return values

    @classmethod
    def copy(cls, passes, default=None):
        default = default.copy() if default is not None else {}
        for name in ['static_jti', 'secret', 'share_key', 'used_at',
                'used_gate', 'passages']:
            default.setdefault(name, None)
        default.setdefault('state', 'active')
        return super().copy(passes, default=default)

    @classmethod
    def validate_fields(cls, passes, field_names):
        super().validate_fields(passes, field_names)
        for pass_ in passes:
            if pass_.valid_to <= pass_.valid_from:
                raise PassError(gettext(
                        'property_visitor.msg_window_invalid'))
            if pass_.id > 0xFFFFFFFF or pass_.estate.id > 0xFFFF:
                raise PassError(gettext(
                        'property_visitor.msg_pass_id_overflow'))

    @classmethod
    def issue(cls, estate, valid_from, valid_to, visitor_name=None,
            host=None, holder=None, visit=None, batch=None, gates=None):
        "Create an active pass"
        pass_, = cls.create([{
                    'company': estate.company.id,
                    'estate': estate.id,
                    'visit': visit.id if visit else None,
                    'batch': batch.id if batch else None,
                    'host': host.id if host else None,
                    'holder': holder.id if holder else None,
                    'visitor_name': visitor_name,
                    'valid_from': valid_from,
                    'valid_to': valid_to,
                    'gates': [('add', [g.id for g in gates or []])],
                    }])
        return pass_

    @classmethod
    @ModelView.button
    @Workflow.transition('revoked')
    def revoke(cls, passes):
        pass

    @classmethod
    @Workflow.transition('expired')
    def expire(cls, passes):
        pass

    @classmethod
    def expire_passes(cls, date=None):
        "Expire the active passes whose window ended"
        if date is None:
            date = dt.datetime.now()
        cls.expire(cls.search([
                    ('state', '=', 'active'),
                    ('valid_to', '<', date),
                    ]))

    @property
    def gate_mask(self):
        if not self.gates:
            return ALL_GATES
        mask = 0
        for gate in self.gates:
            mask |= 1 << gate.bit
        return mask

    def _claims(self, jti, nbf, exp):
        return Claims(VERSION, None, jti, self.id, self.estate.id,
            self.gate_mask, timestamp(nbf), timestamp(exp))

    def check_usable(self, date=None):
        if date is None:
            date = dt.datetime.now()
        if self.state != 'active':
            raise PassError(gettext(
                    'property_visitor.msg_pass_not_active',
                    state=self.state_string), code=self.state)
        if self.valid_to < date:
            raise PassError(gettext(
                    'property_visitor.msg_pass_not_active',
                    state=self.state_string), code='expired')

    def static_token(self):
        "The token of the whole window, to share or print"
        pool = Pool()
        SigningKey = pool.get('property.visitor.signing_key')
        self.check_usable()
        key = SigningKey.get_active(self.company)
        return encode_token(key, self._claims(
                bytes.fromhex(self.static_jti), self.valid_from,
                self.valid_to))

    def rotating_token(self, date=None):
        """Return the short-lived token of the current period

        Its id is derived from the pass secret and the period so that the
        same period always gives the same token.
        Return token, not-before, expiry and when the next token comes.
        """
        pool = Pool()
        SigningKey = pool.get('property.visitor.signing_key')
        Configuration = pool.get('property.visitor.configuration')
        config = Configuration(1)
        if date is None:
            date = dt.datetime.now()
        self.check_usable(date)
        period = config.code_period
        now = timestamp(date)
        window = now // period
        start = from_timestamp(window * period)
        nbf = max(start, self.valid_from)
        exp = min(start + dt.timedelta(seconds=config.code_lifetime),
            self.valid_to)
        secret, = self.secret_values('secret')
        jti = hmac.new(secret.encode(), str(window).encode(),
            hashlib.sha256).digest()[:12]
        key = SigningKey.get_active(self.company)
        token = encode_token(key, self._claims(jti, nbf, exp))
        refresh = from_timestamp((window + 1) * period)
        return token, nbf, exp, refresh

    @classmethod
    def check_token(cls, gate, token, date, skew, cached=False):
        """Return the claims of token if it is good for gate at date

        Raise TokenRefused with the reason otherwise; the state of the pass
        is not looked at.  cached: the public key may come from the cache
        of the process (see SigningKey.verifying_public_key).
        """
        pool = Pool()
        SigningKey = pool.get('property.visitor.signing_key')
        claims, message, signature = decode_token(token)
        public_key = SigningKey.verifying_public_key(
            gate.company.id, claims.kid, cached=cached)
        if not public_key:
            raise TokenRefused('unknown_key')
        if not SigningKey.verify(public_key, signature, message):
            raise TokenRefused('invalid_signature')
        # From here on the claims are the server's own
        if claims.site != gate.estate.id or not (
                claims.gates & (1 << gate.bit)):
            raise TokenRefused('wrong_gate', claims)
        now = timestamp(date)
        if now + skew < claims.nbf:
            raise TokenRefused('not_yet_valid', claims)
        if now - skew > claims.exp:
            raise TokenRefused('expired', claims)
        return claims

    @classmethod
    def _sql_consume(cls, states):
        "UPDATE of the pass Param('pass') when it opens Param('gate')"
        pool = Pool()
        Gate = pool.get('property.visitor.gate')
        SigningKey = pool.get('property.visitor.signing_key')
        table = cls.__table__()
        update = table.update(
            [table.state, table.used_at, table.used_gate,
                table.write_date, table.write_uid],
            ['used', Param('scanned_at'), Param('gate'), CurrentTimestamp(),
                Param('user')],
            where=(table.id == Param('pass'))
            & (table.company == Param('company'))
            & table.state.in_(list(states))
            & (table.valid_from <= Param('date_plus_skew'))
            & (table.valid_to >= Param('date_minus_skew'))
            # The gate and the key may come from the caches of the process
            & Exists(Gate._sql_authenticated())
            & Exists(SigningKey._sql_verifying()))
        if Transaction().database.has_returning():
            update.returning = [table.visit, table.host]
        return update

    @classmethod
    def _sql_consume_and_log(cls, states):
        """The pass consumed, its visit completed and the scan logged

        One statement of data-modifying common table expressions.
        """
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        Passage = pool.get('property.visitor.passage')
        update = cls._sql_consume(states)
        update.returning = [update.table.id, update.table.visit,
            update.table.host]
        consumed = With('id', 'visit', 'host', query=update)
        completed = With(query=Visit._sql_complete_used(
                consumed.select(consumed.visit)))
        passage = Passage.__table__()
        columns, values = zip(*Passage._scan_columns(
                passage, consumed.id, consumed.host))
        logged = With('id', query=passage.insert(list(columns),
                consumed.select(*values), returning=[passage.id]))
        return consumed.join(logged, condition=Literal(True)).select(
            consumed.visit, consumed.host, logged.id,
            with_=[consumed, completed, logged])

    @classmethod
    def consume(cls, claims, gate, date, skew, states=('active',),
            mode='online'):
        """Mark the pass of claims used if it is in states and log the open
        scan at gate: one atomic step

        Two transactions consuming the same pass cannot both succeed: the
        second waits for the row lock of the first and then fails to
        serialize (and is retried) or finds the pass used.
        An offline scan may consume a pass that expired since, within its
        window: states are then active and expired.
        Return the Scan logged; raise TokenRefused with the reason when the
        pass cannot be used.
        """
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        Passage = pool.get('property.visitor.passage')
        transaction = Transaction()
        states = tuple(states)
        skew = dt.timedelta(seconds=skew)
        values = Passage.scan_values(
            gate, date, 'open', jti=claims.jti.hex(), mode=mode)
        values.update({
                'pass': claims.pass_id,
                'kid': claims.kid,
                'key_hash': gate.key_digest,
                'bit': gate.bit,
                'date_plus_skew': date + skew,
                'date_minus_skew': date - skew,
                })
        # SQLite has no data-modifying common table expressions
        if backend.name == 'postgresql':
            row = cls._execute('consume_and_log', states, **values).fetchone()
            if row:
                visit_id, host, passage_id = row
        else:
            cursor = cls._execute('consume', states, **values)
            if transaction.database.has_returning():
                row = cursor.fetchone()
            else:
                row = None
                if cursor.rowcount == 1:
                    row = cls._execute('read', **values).fetchone()[-2:]
            if row:
                visit_id, host = row
                if visit_id:
                    Visit.complete_used(visit_id)
                passage_id = Passage.record_scan(gate, date, 'open', None,
                    claims.pass_id, host, mode=mode,
                    jti=values['jti']).passage_id
        if not row:
            raise cls._refusal(claims, states, date, skew, values)
        clear_cache(cls, [claims.pass_id])
        if visit_id:
            clear_cache(Visit, [visit_id])
        return Scan('open', None, claims.pass_id, passage_id)

    @classmethod
    def _sql_read(cls):
        table = cls.__table__()
        return table.select(
            table.state, table.valid_from, table.valid_to, table.visit,
            table.host,
            where=(table.id == Param('pass'))
            & (table.company == Param('company')))

    @classmethod
    def _refusal(cls, claims, states, date, skew, values):
        "The TokenRefused of a pass that consume() did not use"
        row = cls._execute('read', **values).fetchone()
        if not row:
            return TokenRefused('revoked', claims, (None, None))
        state, valid_from, valid_to, _, host = row
        found = (claims.pass_id, host)
        if state not in states:
            reason = state
        elif date + skew < valid_from:
            reason = 'not_yet_valid'
        elif date - skew > valid_to:
            reason = 'expired'
        else:
            # The signing key was revoked or the gate's key changed while
            # the scan was checked
            reason = 'unknown_key'
        return TokenRefused(reason, claims, found)

    @classmethod
    def find(cls, claims, company_id):
        """Return the id of the pass of claims in the company and its host
        id, or None twice"""
        if claims:
            row = cls._execute('read',
                company=company_id, **{'pass': claims.pass_id}).fetchone()
            if row:
                return claims.pass_id, row[-1]
        return None, None


class PassGate(ModelSQL):
    __name__ = 'property.visitor.pass-property.visitor.gate'
    pass_ = fields.Many2One('property.visitor.pass', "Pass", required=True,
        ondelete='CASCADE')
    gate = fields.Many2One('property.visitor.gate', "Gate", required=True,
        ondelete='CASCADE')
