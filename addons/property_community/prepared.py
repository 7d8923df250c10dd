# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Queries of the hot API paths, compiled once per process"
from trytond import backend


class _Slot:
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f'<{self.name}>'


class Prepared:
    """A python-sql query written once and run with new values.

    Use as a decorator of build: build(param) returns the query, param(name)
    stands for a value given to execute(cursor, name=value, ...).  The SQL
    text is compiled on the first call of each process (python-sql takes ~0.1 ms per statement to write it,
    more than PostgreSQL takes to answer the small queries of every request).
    """

    def __init__(self, build):
        self._build = build
        self._compiled = None

    def _compile(self):
        query, params = tuple(self._build(_Slot))
        return backend.name, query, tuple(params)

    def execute(self, cursor, **values):
        compiled = self._compiled
        if compiled is None or compiled[0] != backend.name:
            compiled = self._compiled = self._compile()
        _, query, params = compiled
        cursor.execute(query, [
                values[p.name] if isinstance(p, _Slot) else p
                for p in params])
        return cursor
