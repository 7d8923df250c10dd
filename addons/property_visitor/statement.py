# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""SQL statements of the gates' hot path, built once per model class

A model builds a statement with python-sql in a classmethod
`_sql_<name>(*args)` whose values given at each run are `Param(name)`;
`Model._execute(name, *args, **values)` converts it to SQL the first time
and afterwards only binds the values.
"""
from sql import Literal

from trytond.transaction import Transaction


class _Name:
    __slots__ = ('name',)

    def __init__(self, name):
        self.name = name


def Param(name):
    "The value name given to the statement when it runs"
    return Literal(_Name(name))


class Statement:
    "A python-sql query converted to SQL once"
    __slots__ = ('sql', 'params')

    def __init__(self, query):
        self.sql, self.params = tuple(query)

    def values(self, values):
        return [values[p.name] if isinstance(p, _Name) else p
            for p in self.params]


class StatementMixin:
    __slots__ = ()

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Each class of each pool has its own statements
        cls._statements = {}

    @classmethod
    def _execute(cls, name, *args, **values):
        "Run the statement name built by _sql_<name>(*args) with values"
        key = (name, args)
        statement = cls._statements.get(key)
        if statement is None:
            statement = cls._statements[key] = Statement(
                getattr(cls, f'_sql_{name}')(*args))
        cursor = Transaction().connection.cursor()
        cursor.execute(statement.sql, statement.values(values))
        return cursor
