# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import hashlib
import secrets

from sql import Literal
from sql.conditionals import Coalesce

import trytond.config as config
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from .exceptions import AccountError
from .prepared import Prepared

FRONT_ROLES = [
    ('guest', "Guest"),
    ('merchant', "Merchant"),
    ('tenant', "Tenant"),
    ('technician', "Technician"),
    ]


def hash_token(token):
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    display_name = fields.Char("Name")
    phone = fields.Char("Phone")
    front_role = fields.Selection(FRONT_ROLES, "Role", required=True,
        help="What the account may do in the mini-program.")
    wechat_appid = fields.Char("WeChat AppID", readonly=True)
    wechat_openid = fields.Char("WeChat OpenID", readonly=True)
    wechat_unionid = fields.Char("WeChat UnionID", readonly=True)
    units = fields.Function(fields.Many2Many(
            'property.unit', None, None, "Units"), 'get_units')
    api_sessions = fields.One2Many(
        'web.user.api_session', 'user', "API Sessions", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('wechat_openid_unique',
                Unique(t, t.wechat_appid, t.wechat_openid),
                'property_community.msg_web_user_openid_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.phone, Index.Equality(cardinality='high'))))
        # Accounts signed in with WeChat or created for technicians have no
        # email address; the email stays required for the others.
        cls.email.states['required'] = (
            Eval('active', True)
            & ~Bool(Eval('wechat_openid'))
            & ~Bool(Eval('phone')))
        cls._buttons.update({
                'revoke_sessions': {
                    'icon': 'tryton-cancel',
                    },
                })

    @classmethod
    def default_front_role(cls):
        return 'guest'

    def get_rec_name(self, name):
        return (self.display_name or self.email or self.phone
            or (self.wechat_openid and f'WeChat {self.wechat_openid[-6:]}')
            or str(self.id))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('display_name', operator, value),
            ('email', operator, value),
            ('phone', operator, value),
            ]

    def get_units(self, name):
        Occupancy = Pool().get('property.occupancy')
        if not self.party:
            return []
        return Occupancy.current_unit_ids(self.party)

    @classmethod
    def api_profile(cls, user_id, date):
        """Return the API profile of the account (one query): id, name,
        phone, role, party and the description of the units its party
        occupies at date"""
        cursor = Transaction().connection.cursor()
        _profile_query.execute(cursor, user=user_id, date=date)
        Unit = Pool().get('property.unit')
        profile, units = None, {}
        for row in cursor:
            if profile is None:
                id_, name, phone, role, party = row[:5]
                profile = {
                    'id': id_,
                    'name': name,
                    'phone': phone,
                    'role': role,
                    'party': party,
                    }
            if row[5] is not None:
                units[row[5]] = Unit.describe_row(row[5:])
        if profile is not None:
            profile['units'] = [units[i] for i in sorted(units)]
        return profile

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('phone'):
            values['phone'] = values['phone'].strip()
        return values

    @classmethod
    def sign_in_wechat(cls, appid, openid, unionid=None):
        "Return the account of the WeChat identity, creating a guest"
        with Transaction().set_context(active_test=False):
            users = cls.search([
                    ('wechat_appid', '=', appid),
                    ('wechat_openid', '=', openid),
                    ], limit=1)
        if users:
            user, = users
            if not user.active:
                raise AccountError(gettext(
                        'property_community.msg_account_inactive'))
            if unionid and user.wechat_unionid != unionid:
                user.wechat_unionid = unionid
                user.save()
            return user
        user = cls(
            wechat_appid=appid, wechat_openid=openid, wechat_unionid=unionid,
            front_role='guest')
        user.save()
        return user

    def bind_phone(self, phone):
        """Record the phone number WeChat verified for this account.

        An account created or imported by an administrator (technician,
        merchant or tenant) with this phone and no WeChat identity yet is
        claimed by the WeChat identity: the administrator decided who the
        person is, WeChat proved the phone.
        """
        pool = Pool()
        Session = pool.get('web.user.api_session')
        cls = self.__class__
        claimable = cls.search([
                ('phone', '=', phone),
                ('front_role', 'in', ['technician', 'merchant', 'tenant']),
                ('wechat_openid', '=', None),
                ('id', '!=', self.id),
                ], order=[('id', 'ASC')], limit=1)
        if claimable and self.front_role == 'guest':
            account, = claimable
            identity = {
                'wechat_appid': self.wechat_appid,
                'wechat_openid': self.wechat_openid,
                'wechat_unionid': self.wechat_unionid,
                }
            Session.revoke(Session.search([('user', '=', self.id)]))
            cls.write([self], {
                    'wechat_appid': None, 'wechat_openid': None,
                    'wechat_unionid': None, 'active': False,
                    })
            cls.write([account], identity)
            return account
        self.phone = phone
        self.save()
        return self

    @classmethod
    @ModelView.button
    def revoke_sessions(cls, users):
        pool = Pool()
        Session = pool.get('web.user.api_session')
        Session.revoke(Session.search([('user', 'in', [u.id for u in users])]))

    @classmethod
    def set_front_role(cls, users, role):
        cls.write(list(users), {'front_role': role})


class Session(ModelSQL, ModelView):
    "Mini-program API session: an opaque bearer token stored as its digest"
    __name__ = 'web.user.api_session'
    user = fields.Many2One(
        'web.user', "User", required=True, ondelete='CASCADE')
    token_hash = fields.Char("Token Digest", required=True, strip=False)
    expires_at = fields.Timestamp("Expires at", required=True)
    revoked = fields.Boolean("Revoked")
    kind = fields.Selection([
            ('wechat', "WeChat"),
            ('dev', "Development"),
            ], "Sign-in")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('token_hash_unique', Unique(t, t.token_hash),
                'property_community.msg_session_token_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.user, Index.Range())))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]
        cls.__access__.add('user')

    @classmethod
    def default_revoked(cls):
        return False

    @classmethod
    def lifetime(cls):
        return dt.timedelta(seconds=config.getint(
                'property', 'session_lifetime', default=30 * 24 * 3600))

    @classmethod
    def new(cls, user, kind='wechat'):
        "Create a session for user and return its token (shown only once)"
        token = secrets.token_urlsafe(32)
        session = cls(
            user=user, token_hash=hash_token(token), kind=kind,
            expires_at=dt.datetime.now() + cls.lifetime())
        session.save()
        return token, session

    @classmethod
    def get_session(cls, token):
        "Return the valid session of token or None"
        if not token or len(token) > 128:
            return None
        table = cls.__table__()
        user = Pool().get('web.user').__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.join(user,
                condition=table.user == user.id).select(
                table.id,
                where=(table.token_hash == hash_token(token))
                & (table.revoked == Literal(False))
                & (table.expires_at > dt.datetime.now())
                & (user.active == Literal(True))))
        row = cursor.fetchone()
        return cls(row[0]) if row else None

    @classmethod
    def authenticate(cls, token):
        """Return the session id and its account's id and role, or None

        One query: this runs before every authenticated API call.
        """
        if not token or len(token) > 128:
            return None
        cursor = Transaction().connection.cursor()
        _session_query.execute(cursor,
            token_hash=hash_token(token), now=dt.datetime.now())
        return cursor.fetchone()

    @classmethod
    def revoke(cls, sessions):
        cls.write([s for s in sessions if not s.revoked], {'revoked': True})

    @classmethod
    def clean(cls, date=None):
        "Delete sessions expired for more than a day"
        if date is None:
            date = dt.datetime.now() - dt.timedelta(days=1)
        cls.delete(cls.search([('expires_at', '<', date)]))


@Prepared
def _session_query(param):
    pool = Pool()
    session = pool.get('web.user.api_session').__table__()
    user = pool.get('web.user').__table__()
    return session.join(user, condition=session.user == user.id).select(
        session.id, user.id, user.front_role,
        where=(session.token_hash == param('token_hash'))
        & (session.revoked == Literal(False))
        & (session.expires_at > param('now'))
        & (user.active == Literal(True)))



@Prepared
def _profile_query(param):
    pool = Pool()
    User = pool.get('web.user')
    Occupancy = pool.get('property.occupancy')
    Unit = pool.get('property.unit')
    user = User.__table__()
    occupancy = Occupancy.__table__()
    date = param('date')
    from_, unit_columns = Unit.describe_join(
        user.join(occupancy, 'LEFT',
            condition=(occupancy.party == user.party)
            & (occupancy.start_date <= date)
            & (Coalesce(occupancy.end_date, dt.date.max) >= date)),
        occupancy.unit, 'LEFT')
    return from_.select(
        user.id, user.display_name, user.phone, user.front_role, user.party,
        *unit_columns,
        where=user.id == param('user'))
