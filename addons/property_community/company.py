# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.pool import PoolMeta

from .api import _company_cache


class Company(metaclass=PoolMeta):
    __name__ = 'company.company'

    @classmethod
    def on_modification(cls, mode, companies, field_names=None):
        super().on_modification(mode, companies, field_names=field_names)
        if mode in {'create', 'delete'}:
            _company_cache.clear()
