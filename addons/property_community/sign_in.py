# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Mini-program sign-in: WeChat code, development accounts and phone binding"
import trytond.config as config
from trytond.exceptions import RateLimitException
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.res.user import LoginAttempt
from trytond.transaction import Transaction

from .exceptions import AccountError, WeChatCodeError
from .web import hash_token
from .wechat import WeChat


class SignInAttempt(LoginAttempt):
    "Failed mini-program sign-in, to slow down guessing and flooding"
    __name__ = 'web.user.sign_in.attempt'
    _table = None  # Needed to reset LoginAttempt._table

    @classmethod
    def max_attempt(cls):
        return config.getint('property', 'sign_in_max_attempt',
            default=config.getint('session', 'max_attempt'))

    @classmethod
    def max_attempt_ip_network(cls):
        return config.getint('property', 'sign_in_max_attempt_ip_network',
            default=config.getint('session', 'max_attempt_ip_network'))

    @classmethod
    def check(cls, login):
        "Raise RateLimitException when login or its network failed too often"
        if cls.count_ip() >= cls.max_attempt_ip_network():
            # Do not add an attempt: the goal is to stop the flood
            raise RateLimitException()
        if cls.count(login) >= cls.max_attempt():
            cls.failed(login)
            raise RateLimitException()

    @classmethod
    def failed(cls, login):
        "Record a failed attempt; it stays when the request is rolled back"
        with Transaction().new_transaction():
            cls.add(login)


class User(metaclass=PoolMeta):
    __name__ = 'web.user'

    @classmethod
    def sign_in_wechat_code(cls, code):
        "Return the account of the code from wx.login, creating a guest"
        pool = Pool()
        Attempt = pool.get('web.user.sign_in.attempt')
        login = 'wechat:' + hash_token(code)
        Attempt.check(login)
        wechat = WeChat()
        try:
            identity = wechat.code2session(code)
        except WeChatCodeError:
            Attempt.failed(login)
            raise
        return cls.sign_in_wechat(
            wechat.appid, identity.openid, identity.unionid)

    @classmethod
    def dev_login_enabled(cls):
        return config.getboolean('property', 'dev_login', default=False)

    @classmethod
    def dev_accounts(cls):
        "Return the accounts offered by the development sign-in"
        if not cls.dev_login_enabled():
            return []
        return cls.search([], limit=200, order=[
                ('front_role', 'ASC'), ('display_name', 'ASC'), ('id', 'ASC'),
                ])

    @classmethod
    def sign_in_dev(cls, account_id):
        "Return the account to sign in without WeChat or None"
        pool = Pool()
        Attempt = pool.get('web.user.sign_in.attempt')
        if not cls.dev_login_enabled():
            return None
        login = f'dev:{account_id}'
        Attempt.check(login)
        with Transaction().set_context(active_test=False):
            users = cls.search([('id', '=', account_id)], limit=1)
        if not users:
            Attempt.failed(login)
            return None
        user, = users
        if not user.active:
            raise AccountError(gettext(
                    'property_community.msg_account_inactive'))
        return user

    def bind_wechat_phone(self, code, session=None):
        """Bind the phone number WeChat verified for code

        Return the account, which is a technician account when the phone
        claims one (see bind_phone). The API session that proved the WeChat
        identity then follows the identity to that account.
        """
        pool = Pool()
        Attempt = pool.get('web.user.sign_in.attempt')
        Session = pool.get('web.user.api_session')
        login = f'phone:{self.id}'
        Attempt.check(login)
        wechat = WeChat()
        openid = (self.wechat_openid
            if self.wechat_appid == wechat.appid else None)
        try:
            info = wechat.phone_number(code, openid=openid)
        except WeChatCodeError:
            Attempt.failed(login)
            raise
        if info.get('countryCode', '86') == '86':
            phone = info['purePhoneNumber']
        else:
            phone = info.get('phoneNumber') or info['purePhoneNumber']
        user = self.bind_phone(phone)
        if session and user != self:
            Session.write([session], {'user': user.id, 'revoked': False})
        return user
