# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import base64
import datetime as dt
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey, Ed25519PublicKey)
from sql import Literal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSingleton, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import SigningKeyError
from .secret import SecretMixin
from .statement import Param, StatementMixin

MAX_KID = 255


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode('ascii')


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


@lru_cache(maxsize=256)
def _public_key(public_key):
    "The Ed25519 key of the base64url text (a public key never changes)"
    return Ed25519PublicKey.from_public_bytes(b64url_decode(public_key))


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'property.visitor.configuration'
    retention_days = fields.Integer("Retention (days)", required=True,
        domain=[('retention_days', '>=', 1)],
        help="Visitor data is deleted this many days after the visit ended.")
    code_period = fields.Integer("Code Period (s)", required=True,
        domain=[('code_period', '>=', 10), ('code_period', '<=', 300)],
        help="How often the rotating code of a pass page changes.")
    code_lifetime = fields.Integer("Code Lifetime (s)", required=True,
        domain=[
            ('code_lifetime', '>=', Eval('code_period', 0)),
            ('code_lifetime', '<=', 600),
            ],
        help="How long a rotating code opens a gate after it was shown.")
    clock_skew = fields.Integer("Clock Skew (s)", required=True,
        domain=[('clock_skew', '>=', 0), ('clock_skew', '<=', 300)],
        help="Tolerance for the clocks of the gates.")
    max_pending_applications = fields.Integer(
        "Pending Applications per Account", required=True,
        domain=[('max_pending_applications', '>=', 1)])
    _clock_skew_cache = Cache(
        'property.visitor.configuration.clock_skew', context=False)

    @classmethod
    def default_retention_days(cls):
        return 180

    @classmethod
    def default_code_period(cls):
        return 30

    @classmethod
    def default_code_lifetime(cls):
        return 60

    @classmethod
    def default_clock_skew(cls):
        return 30

    @classmethod
    def default_max_pending_applications(cls):
        return 5

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._clock_skew_cache.clear()

    @classmethod
    def get_clock_skew(cls):
        "The clock skew in seconds, cached for the gates' hot path"
        skew = cls._clock_skew_cache.get(None)
        if skew is None:
            skew = cls(1).clock_skew
            cls._clock_skew_cache.set(None, skew)
        return skew

    @property
    def retention(self):
        return dt.timedelta(days=self.retention_days)

    @property
    def skew(self):
        return dt.timedelta(seconds=self.clock_skew)


class SigningKey(StatementMixin, SecretMixin, Workflow, ModelSQL, ModelView):
    "Ed25519 key that signs the passes of a company"
    __name__ = 'property.visitor.signing_key'
    _secret_fields = {'private_key'}
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    kid = fields.Integer("Key ID", readonly=True,
        help="Written in every pass so that gates find the key.")
    state = fields.Selection([
            ('active', "Active"),
            ('retired', "Retired"),
            ('revoked', "Revoked"),
            ], "State", readonly=True, required=True, sort=False,
        help="Active keys sign new passes, retired keys only check "
        "the passes they signed, revoked keys check nothing.")
    public_key = fields.Char("Public Key", readonly=True, strip=False,
        help="The raw Ed25519 public key, base64url.")
    private_key = fields.Char("Private Key", readonly=True, strip=False)
    activated_at = fields.Timestamp("Activated at", readonly=True)
    retired_at = fields.Timestamp("Retired at", readonly=True)
    # (company id, kid): public key of the keys that check passes
    _verifying_cache = Cache(
        'property.visitor.signing_key.verifying', context=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('kid_unique', Unique(t, t.company, t.kid),
                'property_visitor.msg_signing_key_kid_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.company, Index.Range()),
                (t.kid, Index.Equality())))
        cls._order = [('kid', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('active', 'retired'),
            ('active', 'revoked'),
            ('retired', 'revoked'),
            }
        cls._buttons.update({
                'retire': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                'revoke': {
                    'invisible': Eval('state') == 'revoked',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'active'

    def get_rec_name(self, name):
        return f'{self.kid} ({self.company.rec_name})'

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            private = Ed25519PrivateKey.generate()
            values['private_key'] = b64url(private.private_bytes(
                    serialization.Encoding.Raw,
                    serialization.PrivateFormat.Raw,
                    serialization.NoEncryption()))
            values['public_key'] = b64url(private.public_key().public_bytes(
                    serialization.Encoding.Raw,
                    serialization.PublicFormat.Raw))
            values['kid'] = cls._next_kid(values['company'])
            values['state'] = 'active'
            values['activated_at'] = dt.datetime.now()
        return values

    @classmethod
    def _next_kid(cls, company):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.kid,
                where=table.company == company))
        used = {kid for kid, in cursor}
        for kid in range(1, MAX_KID + 1):
            if kid not in used:
                return kid
        raise SigningKeyError(gettext(
                'property_visitor.msg_signing_key_exhausted'))

    @classmethod
    def on_modification(cls, mode, keys, field_names=None):
        super().on_modification(mode, keys, field_names=field_names)
        cls._verifying_cache.clear()
        if mode == 'create':
            # A new key replaces the active key of its company
            cls.retire(cls.search([
                        ('company', 'in', [k.company.id for k in keys]),
                        ('state', '=', 'active'),
                        ('id', 'not in', [k.id for k in keys]),
                        ]))

    @classmethod
    def check_modification(cls, mode, keys, values=None, external=False):
        super().check_modification(
            mode, keys, values=values, external=external)
        if mode == 'delete':
            raise SigningKeyError(gettext(
                    'property_visitor.msg_signing_key_delete'))

    @classmethod
    @ModelView.button
    @Workflow.transition('retired')
    def retire(cls, keys):
        cls.write(keys, {'retired_at': dt.datetime.now()})

    @classmethod
    @ModelView.button
    @Workflow.transition('revoked')
    def revoke(cls, keys):
        pass

    @classmethod
    def get_active(cls, company):
        "Return the key that signs the passes of company, creating one"
        keys = cls.search([
                ('company', '=', company.id),
                ('state', '=', 'active'),
                ], order=[('kid', 'DESC')], limit=1)
        if keys:
            return keys[0]
        if Transaction().readonly:
            raise SigningKeyError(gettext(
                    'property_visitor.msg_signing_key_missing'))
        key, = cls.create([{'company': company.id}])
        return key

    def sign(self, message):
        private_key, = self.secret_values('private_key')
        private = Ed25519PrivateKey.from_private_bytes(
            b64url_decode(private_key))
        return private.sign(message)

    @classmethod
    def _verifying(cls, table):
        "Condition of the key Param('kid') of Param('company') checking passes"
        return ((table.company == Param('company'))
            & (table.kid == Param('kid'))
            & table.state.in_(['active', 'retired']))

    @classmethod
    def _sql_verifying_public_key(cls):
        table = cls.__table__()
        return table.select(table.public_key,
            where=cls._verifying(table), limit=1)

    @classmethod
    def _sql_verifying(cls):
        table = cls.__table__()
        return table.select(Literal(1), where=cls._verifying(table))

    @classmethod
    def verifying_public_key(cls, company_id, kid, cached=False):
        """Return the public key kid of the company that checks passes or None

        cached: from the cache of the process, which another process may
        not have cleared yet after a key was revoked; the gates' statement
        that consumes a pass checks the key again (_sql_verifying).
        """
        if cached:
            public_key = cls._verifying_cache.get((company_id, kid))
            if public_key is not None:
                return public_key
        row = cls._execute('verifying_public_key',
            company=company_id, kid=kid).fetchone()
        if not row:
            return None
        # Only the keys found: a new key is found at once by every process
        cls._verifying_cache.set((company_id, kid), row[0])
        return row[0]

    @staticmethod
    def verify(public_key, signature, message):
        "Return whether signature of message is valid for public_key"
        try:
            _public_key(public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    @classmethod
    def public_keys(cls, company):
        return cls.search([
                ('company', '=', company.id),
                ('state', 'in', ['active', 'retired']),
                ], order=[('kid', 'ASC')])
