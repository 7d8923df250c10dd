# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""gunicorn configuration of the benchmark only (scripts/bench.py gates)

    gunicorn -c scripts/bench_gunicorn.py ... trytond.application:app

Adds, in each worker once trytond's app is loaded, the route
``POST /<db>/api/v1/bench/lock-row``: the cost floor of any single-use
check, one ``SELECT ... FOR UPDATE`` and one ``UPDATE`` of a random row of
the table ``bench_lock_row`` through the transaction's cursor, behind the
same API toolkit as the gate routes (JSON body, errors, 503 when busy).
No module registers it: it exists only in servers started with this file,
never in production or the demo.
"""
import random

LOCK_TABLE = 'bench_lock_row'


def post_worker_init(worker):
    from trytond.modules.property_community.api import (
        Object, String, endpoint)
    from trytond.transaction import Transaction

    rows = []

    @endpoint('/bench/lock-row', methods=['POST'], public=True,
        tags=['benchmark'], response={'type': 'object'},
        body=Object({'token': String(max_length=200)}))
    def bench_lock_row(request, pool, body):
        "Lock and update one random row of the benchmark table"
        cursor = Transaction().connection.cursor()
        if not rows:
            cursor.execute(f'SELECT MAX(id) FROM "{LOCK_TABLE}"')
            rows.append(cursor.fetchone()[0])
        row = random.randint(1, rows[0])
        cursor.execute(
            f'SELECT hits FROM "{LOCK_TABLE}" WHERE id = %s FOR UPDATE',
            (row,))
        cursor.execute(
            f'UPDATE "{LOCK_TABLE}" SET hits = hits + 1 WHERE id = %s',
            (row,))
        return {'row': row}
