# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.cache import Cache
from trytond.pool import Pool, PoolMeta
from trytond.tools import timezone as tz
from trytond.transaction import Transaction

from .api import _company_cache

_timezone_cache = Cache('property_community.company_timezone', context=False)


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    @classmethod
    def on_modification(cls, mode, companies, field_names=None):
        super().on_modification(mode, companies, field_names=field_names)
        if mode in {'create', 'delete'}:
            _company_cache.clear()
        if mode != 'write' or 'timezone' in (field_names or ()):
            _timezone_cache.clear()


class Date(metaclass=PoolMeta):
    __name__ = 'ir.date'

    @classmethod
    def today(cls, timezone=None):
        # company's ir.date reads the company record on every call: the API
        # asks for today on most requests, so keep the time zone's name.
        company_id = Transaction().context.get('company')
        if timezone is None and company_id is not None and company_id >= 0:
            name = _timezone_cache.get(company_id, -1)
            if name == -1:
                Company = Pool().get('company.company')
                name = Company(company_id).timezone
                _timezone_cache.set(company_id, name)
            if name:
                timezone = tz.ZoneInfo(name)
        return super().today(timezone=timezone)
