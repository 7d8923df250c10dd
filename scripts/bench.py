#!/usr/bin/env python3
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmark of the mini-program API: GET /api/v1/me beside the no-op route
GET /api/v1/health of the same server.

    scripts/bench              (starts its own PostgreSQL, see scripts/bench)
    python scripts/bench.py --pg-uri postgresql://postgres@127.0.0.1:5432/

Creates a database with the demo data (10,000 units), one session per
mini-program account, runs trytond under gunicorn with 2 sync workers (the
production set-up) and loads it with wrk, or with a multi-process Python
client when wrk is missing.  Prints requests/s and latency percentiles
beside the budget (GET /me p95 <= 30 ms at 20 concurrent clients).
"""
import argparse
import json
import multiprocessing
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.server import Server  # noqa: E402

BUDGET_P95_MS = 30.0

WRK_SCRIPT = """
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local counter = 0
local threads = {}

function setup(thread)
    thread:set("offset", #threads * 7919)
    table.insert(threads, thread)
end

function init(args)
    counter = offset
end

function request()
    counter = counter + 1
    local token = tokens[(counter %% #tokens) + 1]
    return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. token})
end

function done(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.status
        + summary.errors.timeout
    io.write(string.format(
        "WRK_JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, "
        .. "\\"errors\\": %%d, \\"p50\\": %%d, \\"p95\\": %%d, "
        .. "\\"p99\\": %%d}\\n",
        summary.requests, summary.duration, errors,
        latency:percentile(50), latency:percentile(95),
        latency:percentile(99)))
end
"""

SESSIONS_CODE = """
import sys
from trytond.pool import Pool
from trytond.transaction import Transaction
database, path = sys.argv[1:3]
Pool.start()
pool = Pool(database)
with Transaction().start(database, 0, readonly=True):
    pool.init()
with Transaction().start(database, 0):
    User = pool.get('web.user')
    Session = pool.get('web.user.api_session')
    tokens = [Session.new(u, kind='dev')[0] for u in User.search([])]
with open(path, 'w') as f:
    f.write('\\n'.join(tokens) + '\\n')
print(len(tokens))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pg-uri', required=True)
    parser.add_argument('--database', default='bench')
    parser.add_argument('--units', type=int, default=10000)
    parser.add_argument('--accounts', type=int, default=1000,
        help="mini-program accounts, one session each")
    parser.add_argument('--clients', type=int, default=20)
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--duration', type=int, default=15,
        help="seconds per route")
    parser.add_argument('--modules', nargs='+',
        help="modules to activate (default every addon)")
    parser.add_argument('--python-client', action='store_true',
        help="use the Python client even when wrk is there")
    return parser.parse_args()


def log(message):
    print(f'[bench] {message}', file=sys.stderr, flush=True)


def run_wrk(url, tokens, clients, duration, work):
    script = work / 'bench.lua'
    script.write_text(WRK_SCRIPT % {'tokens': tokens})
    threads = min(2, clients)
    output = subprocess.run(['wrk', '-t', str(threads), '-c', str(clients),
            '-d', f'{duration}s', '--timeout', '10s', '-s', str(script), url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        check=True).stdout
    line = next(l for l in output.splitlines() if l.startswith('WRK_JSON '))
    data = json.loads(line[len('WRK_JSON '):])
    return {
        'rps': data['requests'] / (data['duration_us'] / 1e6),
        'p50': data['p50'] / 1000, 'p95': data['p95'] / 1000,
        'p99': data['p99'] / 1000,
        'requests': data['requests'], 'errors': data['errors'],
        }


def _client(url, tokens, deadline, offset, queue):
    latencies, errors, i = [], 0, offset
    while time.monotonic() < deadline:
        token = tokens[i % len(tokens)]
        i += 1
        request = urllib.request.Request(
            url, headers={'Authorization': f'Bearer {token}'})
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                ok = response.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        latencies.append(time.perf_counter() - started)
        errors += not ok
    queue.put((latencies, errors))


def run_python(url, tokens_path, clients, duration, work):
    tokens = pathlib.Path(tokens_path).read_text().split()
    queue = multiprocessing.Queue()
    started = time.monotonic()
    deadline = started + duration
    processes = [multiprocessing.Process(target=_client,
            args=(url, tokens, deadline, i * 7919, queue))
        for i in range(clients)]
    for process in processes:
        process.start()
    latencies, errors = [], 0
    for _ in processes:
        l, e = queue.get()
        latencies += l
        errors += e
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1,
                int(len(latencies) * p / 100))] * 1000
    return {
        'rps': len(latencies) / elapsed,
        'p50': percentile(50), 'p95': percentile(95), 'p99': percentile(99),
        'requests': len(latencies), 'errors': errors,
        }


def make_sessions(server, path):
    result = subprocess.run([sys.executable, '-O', '-c', SESSIONS_CODE,
            server.database, str(path)], env=server.env(), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode:
        raise RuntimeError(result.stdout[-3000:])
    return int(result.stdout.split()[-1])


def main():
    args = parse_args()
    idle_load = os.getloadavg()[0]
    work = pathlib.Path(tempfile.mkdtemp(prefix='bench-'))
    server = Server(args.pg_uri, args.database, dev_login=False,
        workers=args.workers)
    use_wrk = shutil.which('wrk') and not args.python_client
    try:
        started = time.monotonic()
        log(f"creating the database {args.database}")
        server.create_database(args.modules)
        log(f"loading demo data: {args.units} units, "
            f"{args.accounts} accounts")
        print(server.load_demo_data(
                units=args.units, accounts=args.accounts).strip(),
            file=sys.stderr)
        tokens = work / 'tokens.txt'
        sessions = make_sessions(server, tokens)
        log(f"{sessions} sessions; set-up took "
            f"{time.monotonic() - started:.0f} s")
        server.start()
        log(f"gunicorn with {args.workers} sync workers on "
            f"{server.base_url}; load with "
            f"{'wrk' if use_wrk else 'the Python client'}, "
            f"{args.clients} clients, {args.duration} s per route")
        runner = run_wrk if use_wrk else run_python
        routes = [
            ('GET /api/v1/health (no-op)', server.url('/api/v1/health')),
            ('GET /api/v1/me', server.url('/api/v1/me')),
            ]
        for _, url in routes:  # warm the caches of both workers
            runner(url, tokens, min(args.clients, 4), 2, work)
        results = []
        for name, url in routes:
            # One client shows the cost of a request without queueing.
            for clients, duration in [
                    (1, max(3, args.duration // 3)),
                    (args.clients, args.duration)]:
                results.append((name, clients, runner(
                            url, tokens, clients, duration, work)))
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(f"{args.units} units, {sessions} sessions, gunicorn "
        f"{args.workers} sync workers, PostgreSQL 15, "
        f"{os.cpu_count()} CPUs, {args.clients} concurrent clients, "
        f"{args.duration} s per route ({'wrk' if use_wrk else 'python'})")
    header = (f"{'route':<28} {'clients':>7} {'req/s':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'requests':>8} {'errors':>6}  budget")
    print(header)
    print('-' * len(header))
    failed = False
    for name, clients, r in results:
        budget = ''
        if clients == args.clients:
            if name.startswith('GET /api/v1/me'):
                ok = r['p95'] <= BUDGET_P95_MS and not r['errors']
                failed |= not ok
                budget = (f"p95 <= {BUDGET_P95_MS:.0f} ms: "
                    f"{'OK' if ok else 'MISSED'}")
            else:
                budget = 'baseline'
        print(f"{name:<28} {clients:>7} {r['rps']:>7.0f} {r['p50']:>7.1f} "
            f"{r['p95']:>7.1f} {r['p99']:>7.1f} {r['requests']:>8} "
            f"{r['errors']:>6}  {budget}")
    print(f"load average before the benchmark: {idle_load:.1f}"
        + (" (other processes were using the CPUs: the figures are"
            " pessimistic)" if idle_load > 0.5 else ""))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
