#!/usr/bin/env python3
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark of a streamed XLSX export: the visitors' passage log

    python -O scripts/bench_export.py \\
        --pg-uri postgresql://postgres@127.0.0.1:5499/

Creates (drops first) a PostgreSQL database with property_visitor, lets a
visitor pass through the gates of an estate (through the ORM: a pass opens
the north gate, then is refused at the south gate as used), copies those
passages with SQL into --rows passages over the last ten days, and times
the back office's export wizard (search, read a thousand at a time, labels
and masking, XLSX written in write-only mode) for the last two days (about
a fifth of the rows) and for all of them, in two processes so that each
peak of memory is its own.  The baseline is openpyxl writing as many rows
of the same values, made up in memory, in write-only mode.
Budget (architecture.md): 100,000 rows in <= 20 s with flat memory.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

BUDGET = 20.0
DAYS = 10


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pg-uri', required=True)
    parser.add_argument('--database', default='bench_export')
    parser.add_argument('--rows', type=int, default=100_000)
    parser.add_argument('--measure', type=int, default=0,
        help=argparse.SUPPRESS)  # internal: export this many rows
    parser.add_argument('--baseline', type=int, default=0,
        help=argparse.SUPPRESS)  # internal: openpyxl alone
    return parser.parse_args()


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup(args):
    from trytond.modules.property_visitor.tests.tools import (
        company_estate, invite)
    from trytond.tests.test_tryton import activate_module, drop_db
    from trytond.transaction import Transaction

    drop_db()
    activate_module(['property_visitor'])
    with Transaction().start(args.database, 0) as transaction:
        with company_estate() as estate:
            token = invite(estate).passes[0].static_token()
            estate.north.verify(token)
            estate.south.verify(token)
        cursor = transaction.connection.cursor()
        cursor.execute("SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'property_visitor_passage' "
            "AND column_name NOT IN ('id', 'scanned_at')")
        columns = ', '.join(f'"{c}"' for c, in cursor)
        # the two passages again and again, evenly over the last DAYS days
        copies = (args.rows - 2) // 2
        cursor.execute(
            f'INSERT INTO property_visitor_passage ({columns}, scanned_at) '
            f'SELECT {columns}, '
            "(now() AT TIME ZONE 'UTC') - g * %s * interval '1 second' "
            'FROM property_visitor_passage, '
            'generate_series(1, %s) AS g',
            ((DAYS * 86400 - 3600) / copies, copies))
        cursor.execute('SELECT count(*) FROM property_visitor_passage')
        count, = cursor.fetchone()
        transaction.commit()
    return count


def measure(args):
    "Export the passages of the last args.measure days, print figures"
    import datetime as dt

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(args.database)
    with Transaction().start(args.database, 0, readonly=True):
        pool.init()
    with Transaction().start(args.database, 0):
        Company = pool.get('company.company')
        Export = pool.get('property.visitor.export', type='wizard')
        company, = Company.search([])
        with Transaction().set_context(company=company.id):
            session_id, _, _ = Export.create()
            export = Export(session_id)
            export.start.kind = 'passage'
            export.start.estate = None
            export.start.to_date = dt.datetime.utcnow().date()
            export.start.from_date = export.start.to_date - dt.timedelta(
                days=args.measure - 1)
            before = peak_mib()
            started, cpu = time.perf_counter(), time.process_time()
            export.transition_export()
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
        size = len(export.result.file)
    from openpyxl import load_workbook
    import io
    sheet = load_workbook(io.BytesIO(export.result.file), read_only=True
        ).active
    rows = sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
    print(json.dumps({'seconds': seconds, 'cpu': cpu, 'rows': rows,
                'bytes': size,
                'peak_mib': peak_mib(), 'growth_mib': peak_mib() - before}))


def baseline(args):
    "openpyxl alone: write args.baseline rows like the export's, in memory"
    import datetime as dt
    import io

    from openpyxl import Workbook
    rows = [[(dt.datetime(2026, 1, 1) + dt.timedelta(seconds=i)).strftime(
                '%Y-%m-%d %H:%M'), "Estate E1", "Estate E1 North Gate",
            "Pass", "Entry", "Online", "Open", None, "PV-000001",
            "Li Lei", None, False] for i in range(args.baseline)]
    before = peak_mib()
    started, cpu = time.perf_counter(), time.process_time()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    print(json.dumps({'seconds': seconds, 'cpu': cpu, 'rows': len(rows),
                'bytes': len(output.getvalue()), 'peak_mib': peak_mib(),
                'growth_mib': peak_mib() - before}))


def child(args, option, value):
    flags = ['-O'] if sys.flags.optimize else []
    result = subprocess.run(
        [sys.executable, *flags, *sys.argv, option, str(value)],
        stdout=subprocess.PIPE, check=True, text=True)
    return json.loads(result.stdout.splitlines()[-1])


def main():
    args = parse_args()
    os.environ['TRYTOND_DATABASE_URI'] = args.pg_uri
    os.environ['DB_NAME'] = args.database
    os.environ.setdefault(
        'DB_CACHE', os.path.join('/tmp', f'dbcache_{args.database}'))
    if args.measure:
        return measure(args)
    if args.baseline:
        return baseline(args)
    started = time.monotonic()
    print(f"database {args.database}: {args.rows:,} passages ...",
        flush=True)
    count = setup(args)
    print(f"  {count:,} passages in {time.monotonic() - started:.0f} s",
        flush=True)
    results = [
        ('export wizard, 2 days', None, child(args, '--measure', 2)),
        (f'export wizard, {DAYS + 1} days', count,
            child(args, '--measure', DAYS + 1)),
        ('openpyxl alone (baseline)', count,
            child(args, '--baseline', count)),
        ]
    print(f"\nXLSX export of the passage log, PostgreSQL, load average "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'what':28} {'rows':>8} {'seconds':>8} {'CPU s':>6} "
        f"{'rows/s':>8} {'MiB':>6} {'peak MiB':>9} {'growth MiB':>11}")
    for name, wanted, result in results:
        print(f"{name:28} {result['rows']:>8,} {result['seconds']:>8.1f} "
            f"{result['cpu']:>6.1f} "
            f"{result['rows'] / result['seconds']:>8,.0f} "
            f"{result['bytes'] / 2 ** 20:>6.1f} {result['peak_mib']:>9.0f} "
            f"{result['growth_mib']:>11.0f}")
    small_result, full_result = results[0][2], results[1][2]
    ok = full_result['seconds'] <= BUDGET and full_result['rows'] >= count
    print(f"\nbudget: {count:,} rows <= {BUDGET:.0f} s: "
        f"{full_result['seconds']:.1f} s -> {'OK' if ok else 'MISSED'}; "
        f"memory growth {small_result['growth_mib']:.0f} MiB for "
        f"{small_result['rows']:,} rows, {full_result['growth_mib']:.0f} MiB "
        f"for {full_result['rows']:,}")
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
