#!/usr/bin/env python3
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark of a billing run to posted invoices (BILL-3).

    python -O scripts/bench_billing.py \\
        --pg-uri postgresql://postgres@127.0.0.1:5499/ --units 10000

Creates (drops first) a PostgreSQL database with property_billing, a company
with the property chart of accounts, an estate of --units offices each
leased by its own tenant and billed 3 fees (management fee by area, water
and electricity by meter reading), then:

1. runs the billing run of the month: compute the preview lines, then
   create and post the invoices in batches of --batch invoices per
   transaction (Run.process; --post-apart creates all then posts all, as
   the two buttons of the back office do);
2. creates and posts the same invoices again the plain way,
   Invoice.save(list) + Invoice.post(list) in transactions of --batch
   invoices, each transaction learning its locks as any caller would.

Prints the time of each step, invoices/s and the totals, beside the budget
(<= 8 minutes for the run and >= 1.3 x the plain way).  Run it with
``python -O``: the ORM asserts cost a lot on long lists of records.
Report rendering is left to trytond-worker in both cases (print tasks stay
queued).
"""
import argparse
import contextlib
import cProfile
import datetime as dt
import logging
import os
import sys
import time
from decimal import Decimal

BUDGET_SECONDS = 8 * 60
BUDGET_RATIO = 1.3


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--pg-uri', required=True,
        help="e.g. postgresql://postgres@127.0.0.1:5499/")
    parser.add_argument('--database', default='bench_billing')
    parser.add_argument('--units', type=int, default=10000)
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--post-apart', action='store_true',
        help="Create all the invoices, then post them (the two buttons) "
        "instead of posting each batch as it is created (Run.process)")
    parser.add_argument('--verbose', action='store_true',
        help="Log the locks each batch learns")
    parser.add_argument('--skip-plain', action='store_true',
        help="Do not measure the plain Invoice.save + Invoice.post")
    parser.add_argument('--profile', metavar='PREFIX',
        help="Write the cProfile statistics of the run and of the plain "
        "way to PREFIX-run.prof and PREFIX-plain.prof")
    return parser.parse_args()


def main():
    args = parse_args()
    os.environ['TRYTOND_DATABASE_URI'] = args.pg_uri
    os.environ['DB_NAME'] = args.database
    os.environ.setdefault(
        'DB_CACHE', os.path.join('/tmp', f'dbcache_{args.database}'))
    logging.basicConfig(level=logging.WARNING,
        format='%(asctime)s %(message)s', datefmt='%H:%M:%S')
    logging.getLogger('trytond.modules.property_billing.run').setLevel(
        logging.DEBUG if args.verbose else logging.INFO)

    from trytond.pool import Pool
    from trytond.tests.test_tryton import activate_module
    from trytond.transaction import Transaction

    started = time.monotonic()
    print(f"activating property_billing in {args.database} ...", flush=True)
    activate_module(['property_billing'])
    # importing the test tools turned the test mode on: measure the
    # production paths (no validation of Function fields, no test models)
    Pool.test = False
    print(f"  {time.monotonic() - started:.0f} s", flush=True)

    today = dt.date.today()
    period_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(
        day=1)
    period = period_start.strftime('%Y-%m')

    started = time.monotonic()
    print(f"creating {args.units} units, tenants, meters and readings ...",
        flush=True)
    company_id, estate_id = in_transaction(args.database, {},
        setup, args.units, today, period_start)
    print(f"  {time.monotonic() - started:.0f} s", flush=True)

    context = {'company': company_id, 'language': 'en'}
    with Transaction().start(args.database, 0, context=context), \
            profiled(args.profile, 'run'):
        run_result = bench_run(estate_id, company_id, period, today,
            args.batch, not args.post_apart)
    plain_result = None
    if not args.skip_plain:
        with Transaction().start(args.database, 0, context=context), \
                profiled(args.profile, 'plain'):
            plain_result = bench_plain(
                args.database, context, run_result['run'], args.batch)
    report(args, run_result, plain_result)


@contextlib.contextmanager
def profiled(prefix, name):
    "Profile the block into prefix-name.prof when prefix is set"
    if not prefix:
        yield
        return
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        profile.dump_stats(f'{prefix}-{name}.prof')


def in_transaction(database, context, func, *args):
    "Call func in a transaction that takes the locks it needs and commits"
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(
                    database, 0, context=context, **extras):
                return func(*args)
        except TransactionError as e:
            e.fix(extras)


def setup(units, today, period_start):
    from trytond.modules.company.tests import create_company, set_company
    from trytond.modules.property_billing.tests.tools import (
        create_fee, setup_billing)
    from trytond.pool import Pool

    pool = Pool()
    Estate = pool.get('property.estate')
    Unit = pool.get('property.unit')
    Party = pool.get('party.party')
    Occupancy = pool.get('property.occupancy')
    Meter = pool.get('property.billing.meter')
    Reading = pool.get('property.billing.meter.reading')

    company = create_company()
    with set_company(company):
        setup_billing(company, today=today)
        estate = Estate(name="Benchmark Park", code='BP', company=company,
            kind='office_park', buildings=[{
                    'code': 'A', 'name': "Tower A"}])
        estate.save()
        building, = estate.buildings
        create_fee(estate, 'management', '3.50', name="Management Fee")
        create_fee(estate, 'water', '3.00', name="Water",
            tiers=[('10', '4.50')])
        create_fee(estate, 'electricity', '0.85', name="Electricity")
        reading_date = period_start.replace(day=28)
        for first in range(0, units, 1000):
            numbers = range(first, min(first + 1000, units))
            new_units = Unit.create([{
                        'building': building.id,
                        'code': f'{n + 1:05d}',
                        'type': 'office',
                        'floor': 1 + n // 500,
                        'area': Decimal('40.00') + Decimal(n % 97),
                        } for n in numbers])
            parties = Party.create([{
                        'name': f"Tenant {n + 1:05d}",
                        'addresses': [('create', [{}])],
                        } for n in numbers])
            Occupancy.create([{
                        'unit': u.id, 'party': p.id, 'role': 'tenant',
                        'start_date': dt.date(2020, 1, 1),
                        } for u, p in zip(new_units, parties)])
            meters = Meter.create([{
                        'estate': estate.id, 'code': f'{kind[0].upper()}'
                        f'{u.code}', 'kind': kind, 'unit': u.id,
                        'initial_reading': Decimal(100),
                        } for u in new_units
                    for kind in ['water', 'electricity']])
            Reading.create([{
                        'meter': m.id, 'date': reading_date,
                        'value': Decimal(100) + 5 + (m.id % 20),
                        } for m in meters])
            print(f"  {first + len(numbers)} units", flush=True)
    return company.id, estate.id


def bench_run(estate_id, company_id, period, today, batch, post_at_once):
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool()
    Run = pool.get('property.billing.run')
    transaction = Transaction()

    def read(run):
        # the batches commit in their own transactions
        with Transaction().new_transaction(readonly=True):
            run = Run(run.id)
            return {
                'state': run.state,
                'line_count': run.line_count,
                'payer_count': run.payer_count,
                'amount': run.amount,
                'invoice_count': run.invoice_count,
                'posted_count': run.posted_count,
                }

    run = Run(company=company_id, estate=estate_id, period=period,
        invoice_date=today)
    run.save()
    transaction.commit()
    timings = {}

    cpu_started = time.process_time()
    started = time.monotonic()
    Run.compute([run])
    transaction.commit()
    timings['compute'] = time.monotonic() - started
    values = read(run)
    print(f"run computed: {values['line_count']} lines, "
        f"{values['payer_count']} payers, {values['amount']} "
        f"in {timings['compute']:.1f} s", flush=True)

    started = time.monotonic()
    Run.create_invoices([run], batch_size=batch, post=post_at_once)
    timings['invoice'] = time.monotonic() - started
    values = read(run)
    print(f"run invoiced: {values['invoice_count']} invoices "
        f"({values['posted_count']} posted) "
        f"in {timings['invoice']:.1f} s", flush=True)

    started = time.monotonic()
    Run.post_invoices([run], batch_size=batch)
    timings['post'] = time.monotonic() - started
    values = read(run)
    print(f"run posted: {values['posted_count']} invoices "
        f"in {timings['post']:.1f} s", flush=True)
    cpu = time.process_time() - cpu_started
    return {
        'cpu': cpu,
        'run': run.id,
        'invoices': values['posted_count'],
        'lines': values['line_count'],
        'amount': values['amount'],
        'state': values['state'],
        'timings': timings,
        }


def bench_plain(database, context, run_id, batch):
    "Create and post the invoices of the run again the plain way"
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    pool = Pool()
    Run = pool.get('property.billing.run')
    Line = pool.get('property.billing.line')

    run = Run(run_id)
    lines = Line.search([('run', '=', run_id)],
        order=[('party', 'ASC'), ('unit', 'ASC'), ('fee', 'ASC'),
            ('id', 'ASC')])
    by_party = {}
    for line in lines:
        by_party.setdefault(line.party.id, []).append((
                line.fee.get_account().id,
                line.get_invoice_description(),
                line.amount))
    config = pool.get('property.billing.configuration')(1)
    values = {
        'company': run.company.id,
        'currency': run.company.currency.id,
        'journal': config.get_invoice_journal().id,
        'payment_term': config.get_payment_term().id,
        'invoice_date': run.invoice_date,
        }
    parties = sorted(by_party)
    timings = {'save': 0.0, 'post': 0.0}
    done, amount = 0, Decimal(0)
    cpu_started = time.process_time()
    started = time.monotonic()
    # the locks learnt by the first batch are declared for the next ones,
    # the best a plain caller can do (tryton-notes 7)
    extras = {}
    for i in range(0, len(parties), batch):
        batch_parties = parties[i:i + batch]
        while True:
            try:
                with Transaction().new_transaction(**extras):
                    save, post, total = _plain_batch(
                        batch_parties, by_party, values)
                break
            except TransactionError as e:
                e.fix(extras)
        timings['save'] += save
        timings['post'] += post
        done += len(batch_parties)
        amount += total
        if (i // batch) % 10 == 9:
            elapsed = time.monotonic() - started
            print(f"  plain: {done} invoices posted, "
                f"{done / elapsed:.1f}/s", flush=True)
    timings['total'] = time.monotonic() - started
    print(f"plain: {done} invoices in {timings['total']:.1f} s", flush=True)
    cpu = time.process_time() - cpu_started
    return {'invoices': done, 'amount': amount, 'timings': timings,
        'cpu': cpu}


def _plain_batch(party_ids, by_party, values):
    from trytond.pool import Pool
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    Party = pool.get('party.party')
    started = time.monotonic()
    invoices = []
    for party in Party.browse(party_ids):
        invoices.append(Invoice(
                type='out', party=party,
                invoice_address=party.address_get(type='invoice'),
                account=party.account_receivable_used,
                lines=[InvoiceLine(
                        type='line', account=account,
                        description=description, quantity=1,
                        unit_price=amount, company=values['company'],
                        currency=values['currency'])
                    for account, description, amount in by_party[party.id]],
                **values))
    Invoice.save(invoices)
    saved = time.monotonic()
    Invoice.post(invoices)
    posted = time.monotonic()
    total = sum((i.total_amount for i in invoices), Decimal(0))
    return saved - started, posted - saved, total


def report(args, run, plain):
    timings = run['timings']
    total = sum(timings.values())
    rate = run['invoices'] / total if total else 0
    print()
    print(f"units: {args.units}, fees per unit: 3, batch: {args.batch}")
    print(f"billing run ({run['state']}): {run['invoices']} invoices, "
        f"{run['lines']} lines, total {run['amount']}")
    print(f"  compute {timings['compute']:.1f} s, "
        f"invoices {timings['invoice']:.1f} s, "
        f"post {timings['post']:.1f} s, total {total:.1f} s")
    print(f"  {rate:.1f} invoices/s "
        f"(budget: 10,000 invoices <= {BUDGET_SECONDS} s), "
        f"CPU of this process {run['cpu']:.1f} s")
    if plain:
        plain_total = plain['timings']['total']
        plain_rate = plain['invoices'] / plain_total if plain_total else 0
        print(f"plain save + post: {plain['invoices']} invoices, "
            f"total {plain['amount']}")
        print(f"  save {plain['timings']['save']:.1f} s, "
            f"post {plain['timings']['post']:.1f} s, "
            f"total {plain_total:.1f} s")
        print(f"  {plain_rate:.1f} invoices/s, "
            f"CPU of this process {plain['cpu']:.1f} s")
        if plain_rate:
            print(f"ratio run / plain: {rate / plain_rate:.2f} x "
                f"(budget >= {BUDGET_RATIO} x)")
        if plain['amount'] != run['amount']:
            print("WARNING: the totals differ", file=sys.stderr)
    print(f"load average at the end: "
        f"{' '.join(f'{l:.2f}' for l in os.getloadavg())}")
    projected = 10000 / rate if rate else float('inf')
    print(f"projected for 10,000 invoices: {projected / 60:.1f} min")


if __name__ == '__main__':
    main()
