#!/usr/bin/env python3
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Benchmarks of the API on a real server beside the no-op route.

    scripts/bench [me|gates] [options]   (starts its own PostgreSQL)
    python scripts/bench.py gates --pg-uri postgresql://postgres@HOST:PORT/

Both scenarios create a database with demo data, run trytond under gunicorn
with 2 sync workers (the production set-up) on loopback and load it with wrk
(or a multi-process Python client when wrk is missing), printing requests/s
and latency percentiles beside a budget.

me (default)
    GET /api/v1/me with one session per mini-program account (10,000 units,
    1,000 accounts) beside GET /api/v1/health; budget p95 <= 30 ms at 20
    concurrent clients.
gates
    POST /api/v1/gate/verify (issue 5): thousands of passes of invited visits
    are created up front and every request consumes a fresh one, at two
    gates.  Beside it: GET /api/v1/health and POST /api/v1/bench/lock-row,
    a raw-SQL SELECT ... FOR UPDATE + UPDATE of one random row, the cost floor
    of any single-use check (registered only by scripts/bench_gunicorn.py,
    given to gunicorn by this benchmark).  Then the contention case: many
    clients verify one pass at the same moment, for several passes.  Budget:
    >= 300 verifications/s and p99 <= 50 ms at 10 clients, every answer
    200 open; on one pass exactly one open, the others 409 used or 503 busy.
"""
import argparse
import collections
import datetime as dt
import http.client
import json
import multiprocessing
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / 'scripts'
sys.path.insert(0, str(ROOT))

from tests.e2e.server import Server  # noqa: E402

# Each line of a request file: Authorization header value (or nothing), TAB,
# JSON body (or nothing).  Cycling loads send the lines round and round;
# consuming loads send each line once (one pass per request), thread i of n
# taking lines i, i + n, i + 2n...
WRK_SCRIPT = """
local method, consume, nthreads = "@METHOD@", @CONSUME@, @THREADS@
local available = @AVAILABLE@  -- fresh lines of a consuming load
local lines = {}
for line in io.lines("@PATH@") do
    local auth, body = line:match("^([^\\t]*)\\t?(.*)$")
    local headers = {}
    if auth ~= "" then headers["Authorization"] = auth end
    if body == "" then
        body = nil
    else
        headers["Content-Type"] = "application/json"
    end
    lines[#lines + 1] = wrk.format(method, nil, headers, body)
end
local threads = {}
sent, exhausted, codes = 0, 0, {}

function setup(thread)
    thread:set("index", #threads)
    table.insert(threads, thread)
end

function request()
    local i
    if consume then
        i = index + sent * nthreads + 1
        if i > available then
            exhausted = exhausted + 1
            i = #lines
        end
    else
        i = (index * 7919 + sent) % #lines + 1
    end
    sent = sent + 1
    return lines[i]
end

function response(status, headers, body)
    codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
    local errors = summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.status
        + summary.errors.timeout
    local all, sent_max, out = {}, 0, 0
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("codes")) do
            all[status] = (all[status] or 0) + count
        end
        sent_max = math.max(sent_max, thread:get("sent"))
        out = out + thread:get("exhausted")
    end
    local parts = {}
    for status, count in pairs(all) do
        parts[#parts + 1] = string.format('"%d": %d', status, count)
    end
    io.write(string.format(
        'WRK_JSON {"requests": %d, "duration_us": %d, "errors": %d, '
        .. '"p50": %d, "p95": %d, "p99": %d, "used": %d, '
        .. '"exhausted": %d, "codes": {%s}}\\n',
        summary.requests, summary.duration, errors,
        latency:percentile(50), latency:percentile(95),
        latency:percentile(99), sent_max * #threads, out,
        table.concat(parts, ", ")))
end
"""

SCENARIOS = {
    # defaults of the options; modules None: every addon
    'me': dict(units=10000, accounts=1000, clients=20, modules=None),
    'gates': dict(units=1000, accounts=24, clients=10,
        modules=['property_visitor']),
    }
BUDGET_ME_P95_MS = 30.0
BUDGET_GATE_RPS = 300.0
BUDGET_GATE_P99_MS = 50.0
LOCK_TABLE = 'bench_lock_row'


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('scenario', nargs='?', default='me',
        choices=sorted(SCENARIOS), help="what to measure (default me)")
    parser.add_argument('--pg-uri', required=True)
    parser.add_argument('--database',
        help="database name (default bench or bench_gates)")
    parser.add_argument('--units', type=int,
        help="demo units (me: 10000, gates: 1000)")
    parser.add_argument('--accounts', type=int,
        help="mini-program accounts (me: 1000, one session each; gates: 24)")
    parser.add_argument('--clients', type=int,
        help="concurrent clients of the budget (me: 20, gates: 10)")
    parser.add_argument('--workers', type=int, default=2)
    parser.add_argument('--duration', type=int, default=15,
        help="seconds per route")
    parser.add_argument('--passes', type=int,
        help="gates: passes for the verification loads, one per request "
        "(default 1,000 per second of verification load)")
    parser.add_argument('--contention-clients', type=int, default=40,
        help="gates: clients verifying one pass at the same moment")
    parser.add_argument('--contention-rounds', type=int, default=10,
        help="gates: passes each verified by all contention clients")
    parser.add_argument('--profile', type=int, default=0, metavar='N',
        help="gates: after the load, run the routes N times in one process "
        "without the network and profile N verifications (cProfile)")
    parser.add_argument('--modules', nargs='+',
        help="modules to activate (me: every addon, gates: "
        "property_visitor)")
    parser.add_argument('--python-client', action='store_true',
        help="use the Python client even when wrk is there")
    args = parser.parse_args()
    defaults = SCENARIOS[args.scenario]
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.passes is None:
        # warm-up, one client, the clients
        seconds = 2 + max(3, args.duration // 3) + args.duration
        args.passes = 1000 * seconds
    if args.database is None:
        args.database = 'bench' if args.scenario == 'me' else 'bench_gates'
    return args


def log(message):
    print(f'[bench] {message}', file=sys.stderr, flush=True)


def load_average():
    return ' '.join(f'{v:.2f}' for v in os.getloadavg())


# Fixtures, run inside trytond by in_trytond()

def in_trytond(server, function, *args):
    """Run function(database, *args) of this file in a trytond process on
    the server's database (python -O) and return its JSON result"""
    code = ('import json, sys; sys.path.insert(0, sys.argv[1]); '
        'import bench; '
        f'print(json.dumps(bench.{function}(*sys.argv[2:])))')
    result = subprocess.run([sys.executable, '-O', '-c', code,
            str(SCRIPTS), server.database, *map(str, args)],
        env=server.env(), cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode:
        raise RuntimeError(f"{function} failed:\n{result.stdout[-1000:]}"
            f"{result.stderr[-3000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def _pool(database):
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    Pool.start()
    pool = Pool(database)
    with Transaction().start(database, 0, readonly=True):
        pool.init()
    return pool


def make_sessions(database, path):
    "Write the bearer token of a new session of every account to path"
    from trytond.transaction import Transaction
    pool = _pool(database)
    with Transaction().start(database, 0):
        User = pool.get('web.user')
        Session = pool.get('web.user.api_session')
        tokens = [Session.new(u, kind='dev')[0] for u in User.search([])]
    pathlib.Path(path).write_text(
        ''.join(f'Bearer {t}\n' for t in tokens))
    return len(tokens)


def make_gate_fixtures(database, work, passes, rounds, lock_rows,
        profile=0):
    """Create two gates with known keys and passes of invited visits

    Writes to work verify.txt (one gate verification per line, every pass
    once in random order, alternately at both gates), contention.json (the passes of the
    contention rounds) and profile.txt (the passes of profile_routes), and
    creates the table of the lock-row baseline.
    """
    from trytond.transaction import Transaction
    passes, rounds, lock_rows, profile = map(
        int, [passes, rounds, lock_rows, profile])
    work = pathlib.Path(work)
    pool = _pool(database)
    started = time.monotonic()
    with Transaction().start(database, 0) as transaction:
        User = pool.get('web.user')
        Visit = pool.get('property.visitor.visit')
        Pass = pool.get('property.visitor.pass')
        Gate = pool.get('property.visitor.gate')
        host = unit = None
        for user in User.search([
                    ('front_role', 'in', ['merchant', 'tenant']),
                    ], order=[('id', 'ASC')]):
            units = Visit.host_units(user)
            if units:
                host, unit = user, units[0]
                break
        if host is None:
            raise RuntimeError("no merchant or tenant in the demo data")
        estate = unit.building.estate
        gates = Gate.create([{
                    'estate': estate.id,
                    'code': f'BENCH{i}',
                    'name': f"Benchmark Gate {i}",
                    'bit': i,
                    } for i in range(2)])
        keys = [g.set_new_key() for g in gates]
        auths = [f'Gate {g.id}:{k}' for g, k in zip(gates, keys)]
        now = dt.datetime.now().replace(microsecond=0)
        valid_from = now - dt.timedelta(hours=1)
        valid_to = now + dt.timedelta(days=1)
        # As Visit.invite + Visit.approve do, but in bulk: approved visits
        # each with its pass (the gate then completes the visit too)
        pass_ids = []
        total = passes + rounds + profile
        for start in range(0, total, 500):
            visits = Visit.create([{
                        'estate': estate.id,
                        'unit': unit.id,
                        'host': host.id,
                        'origin': 'invitation',
                        'visitor_name': f"Visitor {i}",
                        'visitor_phone': f'139{i:08d}',
                        'purpose': "Benchmark",
                        'valid_from': valid_from,
                        'valid_to': valid_to,
                        'state': 'approved',
                        'decided_at': now,
                        } for i in range(start, min(start + 500, total))])
            pass_ids += [p.id for p in Pass.create([{
                            'company': estate.company.id,
                            'estate': estate.id,
                            'visit': v.id,
                            'host': host.id,
                            'visitor_name': v.visitor_name,
                            'valid_from': valid_from,
                            'valid_to': valid_to,
                            } for v in visits])]
        created = time.monotonic() - started
        tokens = [p.static_token() for p in Pass.browse(pass_ids)]
        signed = time.monotonic() - started - created
        cursor = transaction.connection.cursor()
        cursor.execute(f'CREATE TABLE "{LOCK_TABLE}" ('
            'id INTEGER PRIMARY KEY, hits INTEGER NOT NULL DEFAULT 0)')
        cursor.execute(f'INSERT INTO "{LOCK_TABLE}" (id) '
            'SELECT generate_series(1, %s)', (lock_rows,))
        info = {
            'estate': estate.rec_name, 'host': host.id,
            'gates': [g.id for g in gates], 'passes': len(tokens),
            'create_s': round(created, 1), 'sign_s': round(signed, 1),
            }
    # in random order: the passes verified one after the other are not
    # neighbours in the tables
    verify = tokens[:passes]
    random.Random(passes).shuffle(verify)
    with open(work / 'verify.txt', 'w') as f:
        for i, token in enumerate(verify):
            f.write(f"{auths[i % 2]}\t{json.dumps({'token': token})}\n")
    (work / 'contention.json').write_text(json.dumps([{
                'auth': auths[i % 2],
                'body': json.dumps({'token': token}),
                'pass_id': pass_id,
                } for i, (token, pass_id) in enumerate(zip(
                    tokens[passes:passes + rounds],
                    pass_ids[passes:passes + rounds]))]))
    with open(work / 'profile.txt', 'w') as f:
        for token in tokens[passes + rounds:]:
            f.write(f"{auths[0]}\t{json.dumps({'token': token})}\n")
    return info


def profile_routes(database, work, top=25):
    """Run the three routes of the gates scenario in this one process,
    without the network: wall and CPU ms per request, SQL statements per
    request and the time waiting for them and for the commit, the steps of
    a verification, its statements, and a cProfile of half of the
    verifications (sorted by own time and by cumulated time)"""
    import cProfile
    import io
    import pstats

    import psycopg
    from werkzeug.test import Client

    from trytond.backend.postgresql.database import LoggingCursor
    work, top = pathlib.Path(work), int(top)
    pool = _pool(database)
    from trytond.wsgi import app

    import bench_gunicorn
    bench_gunicorn.post_worker_init(None)
    client = Client(app)
    lines = (work / 'profile.txt').read_text().splitlines()
    half = len(lines) // 2
    statements = []
    timers = collections.Counter()

    def timed(key, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timers[key] += time.perf_counter() - started
        return wrapper

    def counting_execute(self, query, params=None, **kwargs):
        statements.append(query)
        return execute(self, query, params, **kwargs)
    execute, commit = LoggingCursor.execute, psycopg.Connection.commit
    LoggingCursor.execute = timed('sql', counting_execute)
    psycopg.Connection.commit = timed('commit', commit)
    # The steps of Gate.verify (bound class methods stay bound)
    Gate = pool.get('property.visitor.gate')
    Pass = pool.get('property.visitor.pass')
    Passage = pool.get('property.visitor.passage')
    SigningKey = pool.get('property.visitor.signing_key')
    Configuration = pool.get('property.visitor.configuration')
    steps = [
        ('gate authentication (1 SELECT, SHA-256)', Gate, 'authenticate'),
        ('clock tolerance (configuration, cached)', Configuration,
            'get_clock_skew'),
        ('token check (1 SELECT of the key, Ed25519)', Pass, 'check_token'),
        ('  of which Ed25519 verification', SigningKey, 'verify'),
        ('consumption (UPDATE pass, UPDATE visit)', Pass, 'consume'),
        ('passage log (INSERT)', Passage, 'record_scan'),
        ]
    for key, Model, name in steps:
        function = timed(key, getattr(Model, name))
        setattr(Model, name, staticmethod(function)
            if name == 'verify' else function)

    def call(path, method, line):
        auth, _, body = line.partition('\t')
        headers = {'Authorization': auth} if auth else {}
        if body:
            headers['Content-Type'] = 'application/json'
        response = client.open(f'/{database}/api/v1{path}', method=method,
            data=body or None, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)

    result = {'routes': {}}
    for name, path, method, route_lines in [
            ('health', '/health', 'GET', [''] * half),
            ('lock-row', '/bench/lock-row', 'POST', lines[:half]),
            ('verify', '/gate/verify', 'POST', lines[:half]),
            ]:
        call(path, method, route_lines[0])  # warm the caches
        del statements[:]
        timers.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        for line in route_lines[1:]:
            call(path, method, line)
        n = len(route_lines) - 1
        result['routes'][name] = {
            'wall_ms': (time.perf_counter() - wall) * 1000 / n,
            'cpu_ms': (time.process_time() - cpu) * 1000 / n,
            'statements': len(statements) / n,
            'sql_ms': timers['sql'] * 1000 / n,
            'commit_ms': timers['commit'] * 1000 / n,
            }
        if name == 'verify':
            result['steps'] = [(key, timers[key] * 1000 / n)
                for key, _, _ in steps]
            count = len(statements) // n
            result['verify_statements'] = [
                ' '.join(str(q).split())[:160]
                # psycopg_pool checks each connection it hands out
                or "'' (psycopg_pool's check of the pooled connection)"
                for q in statements[-count:]]
    profile = cProfile.Profile()
    profile.enable()
    for line in lines[half:]:
        call('/gate/verify', 'POST', line)
    profile.disable()
    LoggingCursor.execute, psycopg.Connection.commit = execute, commit
    for sort in ['tottime', 'cumulative']:
        output = io.StringIO()
        pstats.Stats(profile, stream=output).strip_dirs().sort_stats(
            sort).print_stats(top)
        result[sort] = output.getvalue()
    result['verifications'] = len(lines) - half
    return result


# Load generators

class Requests:
    "The request lines of a route; a consuming load sends each line once"

    def __init__(self, path, method='GET', consume=False):
        self.path = pathlib.Path(path)
        self.lines = self.path.read_text().splitlines() or ['']
        self.method = method
        self.consume = consume
        self.offset = 0

    def remaining(self):
        return self.lines[self.offset:] if self.consume else self.lines

    def file(self, work):
        """A file of the lines still to send, with at least one line (a
        used one when a consuming load has nothing left)"""
        if not self.consume:
            return self.path
        path = work / f'{self.path.stem}-{self.offset}.txt'
        path.write_text(''.join(l + '\n'
                for l in self.remaining() or self.lines[-1:]))
        return path

    def used(self, count):
        if self.consume:
            self.offset = min(len(self.lines), self.offset + count)


def run_wrk(url, requests, clients, duration, work):
    threads = min(2, clients)
    script = work / 'bench.lua'
    script.write_text(WRK_SCRIPT
        .replace('@METHOD@', requests.method)
        .replace('@CONSUME@', 'true' if requests.consume else 'false')
        .replace('@THREADS@', str(threads))
        .replace('@AVAILABLE@', str(len(requests.remaining())))
        .replace('@PATH@', str(requests.file(work))))
    process = subprocess.run(['wrk', '-t', str(threads), '-c', str(clients),
            '-d', f'{duration}s', '--timeout', '10s', '-s', str(script), url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout
    if process.returncode or 'WRK_JSON ' not in output:
        raise RuntimeError(f"wrk failed on {url}:\n{output[-2000:]}")
    line = next(l for l in output.splitlines() if l.startswith('WRK_JSON '))
    data = json.loads(line[len('WRK_JSON '):])
    requests.used(data['used'])
    return {
        'rps': data['requests'] / (data['duration_us'] / 1e6),
        'p50': data['p50'] / 1000, 'p95': data['p95'] / 1000,
        'p99': data['p99'] / 1000,
        'requests': data['requests'], 'errors': data['errors'],
        'codes': {int(k): v for k, v in data['codes'].items()},
        'exhausted': data['exhausted'],
        }


def _send(url, method, line, timeout=10):
    "Send the request of line; return the status (0 for no answer) and body"
    auth, _, body = line.partition('\t')
    headers = {}
    if auth:
        headers['Authorization'] = auth
    if body:
        headers['Content-Type'] = 'application/json'
    request = urllib.request.Request(url, data=body.encode() or None,
        headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, OSError):
        return 0, b''


def _client(index, url, method, lines, cycle_offset, deadline, queue):
    latencies, codes, sent = [], collections.Counter(), 0
    while time.monotonic() < deadline:
        if cycle_offset is None:
            line = lines[min(sent, len(lines) - 1)]
        else:
            line = lines[(cycle_offset + sent) % len(lines)]
        sent += 1
        started = time.perf_counter()
        status, _ = _send(url, method, line)
        latencies.append(time.perf_counter() - started)
        codes[status] += 1
    queue.put((index, latencies, dict(codes), sent))


def run_python(url, requests, clients, duration, work):
    lines = requests.remaining()
    fresh = [lines[i::clients] if requests.consume else lines
        for i in range(clients)]
    queue = multiprocessing.Queue()
    started = time.monotonic()
    deadline = started + duration
    processes = [multiprocessing.Process(target=_client, args=(
                i, url, requests.method, fresh[i] or requests.lines[-1:],
                None if requests.consume else i * 7919, deadline, queue))
        for i in range(clients)]
    for process in processes:
        process.start()
    latencies, codes, sent_max = [], collections.Counter(), 0
    exhausted = 0
    for _ in range(clients):
        i, l, c, sent = queue.get()
        latencies += l
        codes.update(c)
        sent_max = max(sent_max, sent)
        if requests.consume:
            exhausted += max(0, sent - len(fresh[i]))
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started
    requests.used(sent_max * clients)
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1,
                int(len(latencies) * p / 100))] * 1000
    return {
        'rps': len(latencies) / elapsed,
        'p50': percentile(50), 'p95': percentile(95), 'p99': percentile(99),
        'requests': len(latencies),
        'errors': sum(n for s, n in codes.items() if not 200 <= s < 400),
        'codes': dict(codes), 'exhausted': exhausted,
        }


class ServerCPU:
    """CPU time used by the server: the gunicorn workers and their
    PostgreSQL backends, whatever else runs on the machine"""

    def __init__(self, server):
        import psycopg
        self.server = server
        self.connection = psycopg.connect(
            server.pg_uri + server.database, autocommit=True)

    @staticmethod
    def _stat(pid):
        try:
            with open(f'/proc/{pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            return None
        # after the name: state ppid ... utime (14th) stime (15th)
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / (
            os.sysconf('SC_CLK_TCK'))

    def snapshot(self):
        "CPU seconds by (kind, process), kind: trytond or postgresql"
        master = self.server.process.pid
        pids = {('trytond', master)}
        for entry in os.listdir('/proc'):
            if entry.isdigit():
                stat = self._stat(entry)
                if stat and stat[0] == master:
                    pids.add(('trytond', int(entry)))
        pids.update(('postgresql', pid) for pid, in self.connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()", (self.server.database,)))
        cpu = {}
        for kind, pid in pids:
            stat = self._stat(pid)
            if stat:
                cpu[kind, pid] = stat[1]
        return cpu

    @staticmethod
    def seconds(before, after):
        "CPU seconds used between the snapshots by kind"
        used = collections.Counter()
        for (kind, pid), t in after.items():
            used[kind] += t - before.get((kind, pid), 0)
        return used

    def close(self):
        self.connection.close()


def measure(runner, routes, clients, duration, work, cpu=None):
    """Warm both workers on every route, then load every route with one
    client (the cost of a request without queueing), then every route with
    clients: the baselines run next to the measured route, under the same
    load of the machine.  Return (name, clients, result) rows by route, the
    warm-up results by name.  With cpu (a ServerCPU), each result has the
    server's CPU ms per request."""
    warm = {name: runner(url, requests, min(clients, 4), 2, work)
        for name, url, requests in routes}
    rows = []
    for n, seconds in [(1, max(3, duration // 3)), (clients, duration)]:
        for index, (name, url, requests) in enumerate(routes):
            before = cpu.snapshot() if cpu else None
            result = runner(url, requests, n, seconds, work)
            if cpu:
                used = cpu.seconds(before, cpu.snapshot())
                result['cpu_ms'] = {kind: t * 1000 / max(1, result['requests'])
                    for kind, t in used.items()}
            rows.append((index, name, n, result))
    return [r[1:] for r in sorted(rows, key=lambda r: r[:3:2])], warm


def contention(server, fixtures, clients):
    """Each pass of fixtures verified by clients at the same moment, on
    connections opened beforehand; return one Counter of answers per pass,
    keyed by status and the deny reason"""
    url = urllib.parse.urlsplit(server.url('/api/v1/gate/verify'))
    rounds = []
    for fixture in fixtures:
        barrier = threading.Barrier(clients)
        answers = collections.Counter()
        lock = threading.Lock()

        def verify():
            connection = http.client.HTTPConnection(
                url.hostname, url.port, timeout=60)
            try:
                connection.connect()
                barrier.wait()
                connection.request('POST', url.path, body=fixture['body'],
                    headers={'Authorization': fixture['auth'],
                        'Content-Type': 'application/json'})
                response = connection.getresponse()
                status, body = response.status, response.read()
            except OSError:
                status, body = 0, b''
            finally:
                connection.close()
            try:
                reason = json.loads(body).get('reason') or ''
            except ValueError:
                reason = ''
            with lock:
                answers[(status, reason)] += 1
        threads = [threading.Thread(target=verify) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rounds.append(answers)
    return rounds


def passage_counts(server, pass_ids=None):
    "Open scans in the passage log and used passes, of pass_ids or all"
    import psycopg
    where = ' AND pass_ = ANY(%s)' if pass_ids is not None else ''
    params = (list(pass_ids),) if pass_ids is not None else ()
    with psycopg.connect(server.pg_uri + server.database) as connection:
        opened = connection.execute(
            "SELECT pass_, COUNT(*) FROM property_visitor_passage "
            "WHERE result = 'open'" + where + " GROUP BY pass_",
            params).fetchall()
        used, = connection.execute(
            "SELECT COUNT(*) FROM property_visitor_pass WHERE state = 'used'"
            + where.replace('pass_', 'id'), params).fetchone()
    return dict(opened), used


# Scenarios: set up the fixtures, load the routes, return the rows of the
# report and the budget lines (text, ok)

def scenario_me(args, server, runner, work):
    tokens = work / 'tokens.txt'
    log(f"{in_trytond(server, 'make_sessions', tokens)} sessions")
    server.start()
    yield
    sessions = Requests(tokens)
    cpu = ServerCPU(server)
    rows, _ = measure(runner, [
            ('GET /api/v1/health (no-op)', server.url('/api/v1/health'),
                sessions),
            ('GET /api/v1/me', server.url('/api/v1/me'), sessions),
            ], args.clients, args.duration, work, cpu)
    cpu.close()
    me = next(r for n, c, r in rows
        if n == 'GET /api/v1/me' and c == args.clients)
    ok = me['p95'] <= BUDGET_ME_P95_MS and not me['errors']
    yield rows, [(f"GET /me p95 <= {BUDGET_ME_P95_MS:.0f} ms at "
            f"{args.clients} clients, 0 errors: p95 {me['p95']:.1f} ms, "
            f"{me['errors']} errors", ok)], []


def scenario_gates(args, server, runner, work):
    info = in_trytond(server, 'make_gate_fixtures', work, args.passes,
        args.contention_rounds, args.passes, 2 * args.profile)
    log(f"estate {info['estate']}, gates {info['gates']}: "
        f"{info['passes']} passes created in {info['create_s']} s, "
        f"signed in {info['sign_s']} s")
    server.start()
    yield
    empty = work / 'empty.txt'
    empty.write_text('\n')
    verify = Requests(work / 'verify.txt', 'POST', consume=True)
    routes = [
        ('GET /api/v1/health (no-op)', server.url('/api/v1/health'),
            Requests(empty)),
        ('POST /bench/lock-row (SQL)', server.url('/api/v1/bench/lock-row'),
            Requests(verify.path, 'POST')),
        ('POST /gate/verify', server.url('/api/v1/gate/verify'), verify),
        ]
    cpu = ServerCPU(server)
    rows, warm = measure(runner, routes, args.clients, args.duration, work,
        cpu)
    cpu.close()
    log(f"{verify.offset} of {len(verify.lines)} verification passes sent")
    fixtures = json.loads((work / 'contention.json').read_text())
    log(f"contention: {args.contention_clients} clients on one pass, "
        f"{len(fixtures)} passes")
    rounds = contention(server, fixtures, args.contention_clients)

    budget, notes = [], []
    r = next(r for n, c, r in rows
        if n == 'POST /gate/verify' and c == args.clients)
    budget.append((f"verifications/s at {args.clients} clients >= "
            f"{BUDGET_GATE_RPS:.0f}: {r['rps']:.0f}",
            r['rps'] >= BUDGET_GATE_RPS))
    budget.append((f"p99 at {args.clients} clients <= "
            f"{BUDGET_GATE_P99_MS:.0f} ms: {r['p99']:.1f} ms",
            r['p99'] <= BUDGET_GATE_P99_MS))
    verify_runs = [r for n, c, r in rows if n == 'POST /gate/verify']
    verify_runs.append(warm['POST /gate/verify'])
    codes = sum((collections.Counter(v['codes']) for v in verify_runs),
        collections.Counter())
    errors = sum(v['errors'] for v in verify_runs)
    exhausted = sum(v['exhausted'] for v in verify_runs)
    opens = codes.pop(200, 0)
    budget.append((f"random passes, every answer 200 open: {opens} open, "
            f"{errors} errors"
            + (f" {dict(codes)}" if codes else "")
            + (f", {exhausted} requests after the passes ran out "
                "(raise --passes)" if exhausted else ""),
            not errors and not codes and not exhausted))

    answers = sum(rounds, collections.Counter())
    opened = [a[(200, '')] for a in rounds]
    by_status = collections.Counter()
    for (status, _), count in answers.items():
        by_status[status if status in {200, 409, 503} else 'other'] += count
    clean = set(answers) <= {(200, ''), (409, 'used'), (503, '')}
    log_opened, used = passage_counts(server,
        [f['pass_id'] for f in fixtures])
    notes.append(f"contention, {args.contention_clients} clients at once "
        f"on one pass, {len(rounds)} passes: "
        + ', '.join(f"{status} {reason}".strip() + f": {count}"
            for (status, reason), count in sorted(answers.items()))
        + f"; opens per pass {opened}; passage log: "
        f"{sum(log_opened.values())} open scans, {used} passes used")
    budget.append((f"one pass, {args.contention_clients} clients: exactly "
            "one 200 open per pass, the rest 409 used or 503 busy: "
            f"opens {opened}, {by_status[409]} x 409, {by_status[503]} x "
            f"503, {by_status['other']} other",
            clean and all(n == 1 for n in opened)
            and all(n == 1 for n in log_opened.values())
            and len(log_opened) == len(rounds) == used))

    log_opened, used = passage_counts(server)
    # wrk does not wait for the answers of the requests still in flight
    # when a load stops: the server may have opened for them.
    answered = opens + sum(opened)
    in_flight = min(args.clients, 4) + sum(
        c for n, c, _ in rows if n == 'POST /gate/verify')
    consistent = (sum(log_opened.values()) == used
        and answered <= used <= answered + in_flight)
    notes.append(f"passage log after the run: {sum(log_opened.values())} "
        f"open scans, {used} passes used, {answered} 200 answers (+ up to "
        f"{in_flight} requests in flight when the loads stopped): "
        f"{'consistent' if consistent else 'INCONSISTENT'}")
    budget.append(("the passage log and the used passes match the "
            "200 answers", consistent))
    if args.profile:
        log(f"profiling {args.profile} requests per route in one process")
        notes += profile_notes(in_trytond(server, 'profile_routes', work))
    yield rows, budget, notes


def profile_notes(profile):
    notes = ['', "in one process without the network (werkzeug test client, "
        "same database), per request:"]
    for name, r in profile['routes'].items():
        notes.append(f"  {name:<9} {r['wall_ms']:5.2f} ms wall, "
            f"{r['cpu_ms']:5.2f} ms CPU, {r['statements']:.0f} SQL "
            f"statements ({r['sql_ms']:.2f} ms), commit "
            f"{r['commit_ms']:.2f} ms")
    notes.append("steps of a verification (ms, wall; SQL included):")
    notes += [f"  {key:<44} {ms:5.2f}" for key, ms in profile['steps']]
    rest = profile['routes']['verify']['wall_ms'] - sum(
        ms for key, ms in profile['steps'] if not key.startswith(' '))
    notes.append(f"  {'rest: HTTP, JSON, transaction, commit':<44} "
        f"{rest:5.2f}")
    notes.append("SQL statements of one verification:")
    notes += [f"  {q}" for q in profile['verify_statements']]
    notes.append(f"cProfile of {profile['verifications']} verifications:")
    for sort in ['tottime', 'cumulative']:
        text = profile[sort]
        notes.append(text[text.index('   ncalls'):].rstrip()
            if '   ncalls' in text else text.rstrip())
    return notes


SCENARIO_RUNS = {'me': scenario_me, 'gates': scenario_gates}


def print_report(args, use_wrk, rows, budget, notes, loads):
    print()
    print(f"scenario {args.scenario}: {args.units} units, gunicorn "
        f"{args.workers} sync workers, PostgreSQL 15, {os.cpu_count()} CPUs, "
        f"loopback, {args.duration} s per route at {args.clients} clients "
        f"({'wrk' if use_wrk else 'python client'})")
    header = (f"{'route':<28} {'clients':>7} {'req/s':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'requests':>8} {'errors':>6} "
        f"{'CPU ms':>11}  answers")
    print(header)
    print('-' * len(header))
    for name, clients, r in rows:
        answers = ' '.join(f'{s}:{n}' for s, n in sorted(r['codes'].items()))
        cpu = ''
        if 'cpu_ms' in r:
            cpu = (f"{r['cpu_ms'].get('trytond', 0):.2f}"
                f"+{r['cpu_ms'].get('postgresql', 0):.2f}")
        cpu = f"{cpu:>11}"
        print(f"{name:<28} {clients:>7} {r['rps']:>7.0f} {r['p50']:>7.1f} "
            f"{r['p95']:>7.1f} {r['p99']:>7.1f} {r['requests']:>8} "
            f"{r['errors']:>6} {cpu}  {answers}")
    if any('cpu_ms' in r for _, _, r in rows):
        print("CPU ms: CPU time per request of the gunicorn workers + of "
            "their PostgreSQL backends (not the load generator's, nor other "
            "processes'); 1,000 / CPU ms x cores = requests/s on an idle "
            "machine at best")
    for note in notes:
        print(note)
    print()
    print("budget")
    for text, ok in budget:
        print(f"  {'OK    ' if ok else 'MISSED'} {text}")
    print(f"load average (1, 5, 15 min): {loads[0]} before the set-up, "
        f"{loads[1]} before the load, {loads[2]} after"
        + (" (other processes were using the CPUs: the figures are"
            " pessimistic)"
            if float(loads[1].split()[0]) > 0.5 else ""))
    return all(ok for _, ok in budget)


def main():
    args = parse_args()
    loads = [load_average()]
    work = pathlib.Path(tempfile.mkdtemp(prefix='bench-'))
    server = Server(args.pg_uri, args.database, dev_login=False,
        workers=args.workers,
        gunicorn_config=(SCRIPTS / 'bench_gunicorn.py'
            if args.scenario == 'gates' else None))
    use_wrk = shutil.which('wrk') and not args.python_client
    runner = run_wrk if use_wrk else run_python
    try:
        started = time.monotonic()
        log(f"creating the database {args.database}")
        server.create_database(args.modules)
        log(f"loading demo data: {args.units} units, "
            f"{args.accounts} accounts")
        print(server.load_demo_data(
                units=args.units, accounts=args.accounts).strip(),
            file=sys.stderr)
        scenario = SCENARIO_RUNS[args.scenario](args, server, runner, work)
        next(scenario)  # fixtures made, server started
        log(f"set-up took {time.monotonic() - started:.0f} s; gunicorn "
            f"with {args.workers} sync workers on {server.base_url}; load "
            f"with {'wrk' if use_wrk else 'the Python client'}, "
            f"{args.clients} clients, {args.duration} s per route")
        loads.append(load_average())
        rows, budget, notes = next(scenario)
        loads.append(load_average())
    finally:
        server.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if print_report(args, use_wrk, rows, budget, notes, loads) else 1


if __name__ == '__main__':
    sys.exit(main())
