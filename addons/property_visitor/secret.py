# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.transaction import Transaction


class SecretMixin:
    """Fields that no read returns, as res.user does for its password

    The model reads them with `secret_values` only where it needs them.
    """
    __slots__ = ()
    _secret_fields = set()

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        cache = Transaction().get_cache().get(cls.__name__)
        for values in result:
            for name in cls._secret_fields & set(values):
                values[name] = None
            if cache and values['id'] in cache:
                for name in cls._secret_fields:
                    cache[values['id']][name] = None
        return result

    @classmethod
    def search(cls, domain, offset=0, limit=None, order=None, count=False,
            query=False):
        records = super().search(domain, offset=offset, limit=limit,
            order=order, count=count, query=query)
        if not count and not query:
            cache = Transaction().get_cache().get(cls.__name__)
            if cache is not None:
                for record in records:
                    if record.id in cache:
                        for name in cls._secret_fields:
                            cache[record.id][name] = None
        return records

    def secret_values(self, *names):
        "Return the values of the secret fields names of the record"
        assert set(names) <= self._secret_fields
        table = self.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                *(getattr(table, n) for n in names),
                where=table.id == self.id))
        return cursor.fetchone()
