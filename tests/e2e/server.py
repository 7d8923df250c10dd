# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""A real trytond process on loopback backed by PostgreSQL, for end-to-end
tests and benchmarks.

    server = Server(pg_uri, 'e2e_db', dev_login=True)
    server.create_database()          # trytond-admin, every addon activated
    server.load_demo_data(units=60)   # scripts/demo_data.py
    server.start()                    # trytond, or gunicorn with workers=N
    ...  server.url('/api/v1/health')
    server.stop(); server.drop_database()
"""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
ADMIN_PASSWORD = 'admin'


def pg_uri_from_env():
    "The PostgreSQL server URI given to the tests, or None"
    for name in ['TEST_PG_URI', 'TRYTOND_DATABASE_URI']:
        uri = os.environ.get(name, '')
        if uri.startswith(('postgresql:', 'postgres:')):
            return uri
    return None


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def addons():
    return sorted(p.parent.name for p in ROOT.glob('addons/*/tryton.cfg'))


def _program(name):
    path = BIN / name
    return str(path) if path.exists() else shutil.which(name) or name


class Server:
    def __init__(self, pg_uri, database, dev_login=True, workers=0,
            extra_config='', gunicorn_config=None):
        self.pg_uri = pg_uri if pg_uri.endswith('/') else pg_uri + '/'
        self.database = database
        self.workers = workers
        # a gunicorn configuration file (hooks), with workers only
        self.gunicorn_config = gunicorn_config
        self.port = free_port()
        self.work = pathlib.Path(tempfile.mkdtemp(prefix='trytond-e2e-'))
        self.config = self.work / 'trytond.conf'
        self.log = self.work / 'server.log'
        self.process = None
        (self.work / 'admin-password').write_text(ADMIN_PASSWORD + '\n')
        self.config.write_text(textwrap.dedent(f"""\
            [database]
            uri = {self.pg_uri}
            path = {self.work}
            language = zh_CN
            list = False

            [web]
            listen = 127.0.0.1:{self.port}
            root = {ROOT / 'var' / 'sao'}

            [password]
            length = 0

            [property]
            dev_login = {dev_login}

            [wechat]
            appid = wx0000000000000000
            secret = not-a-real-secret
            api_base_url = http://127.0.0.1:9/
            timeout = 2
            """) + extra_config)

    @property
    def base_url(self):
        return f'http://127.0.0.1:{self.port}'

    def url(self, path=''):
        "URL of path under the database, e.g. url('/api/v1/me')"
        return f'{self.base_url}/{self.database}{path}'

    def env(self):
        env = dict(os.environ)
        for name in ['TRYTOND_DATABASE_URI', 'TRYTOND_CONFIG', 'DB_NAME',
                'DB_CACHE']:
            env.pop(name, None)
        env['TRYTOND_CONFIG'] = str(self.config)
        env['TRYTONPASSFILE'] = str(self.work / 'admin-password')
        env.setdefault('PYTHONWARNINGS', 'ignore::DeprecationWarning')
        return env

    def _psql(self, statement):
        import psycopg
        with psycopg.connect(self.pg_uri + 'postgres', autocommit=True) as c:
            c.execute(statement)

    def _run(self, args, what):
        result = subprocess.run(args, env=self.env(), cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode:
            raise RuntimeError(f"{what} failed:\n{result.stdout[-4000:]}")
        return result.stdout

    def create_database(self, modules=None):
        "Create the database and activate the modules (default every addon)"
        self._psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self._psql(f'CREATE DATABASE "{self.database}" ENCODING \'UTF8\'')
        self._run([_program('trytond-admin'), '-c', str(self.config),
                '-d', self.database, '--all',
                '-u', *(modules or addons()), '--activate-dependencies',
                '-l', 'zh_CN', '--email', 'admin@example.com'],
            'trytond-admin')

    def load_demo_data(self, **options):
        args = [sys.executable, '-O', str(ROOT / 'scripts' / 'demo_data.py'),
            '-c', str(self.config), '-d', self.database]
        for key, value in options.items():
            args += [f'--{key}', str(value)]
        return self._run(args, 'demo data')

    def start(self, timeout=90):
        if self.workers:
            args = [_program('gunicorn'), '--workers', str(self.workers),
                '--worker-class', 'sync', '--bind', f'127.0.0.1:{self.port}',
                '--backlog', '2048', '--timeout', '60']
            if self.gunicorn_config:
                args += ['--config', str(self.gunicorn_config)]
            args.append('trytond.application:app')
            env = self.env()
            env['TRYTOND_DATABASE_NAMES'] = self.database
        else:
            # -d: the pool must be loaded before the first login, see
            # tryton-notes section 0
            args = [_program('trytond'), '-c', str(self.config),
                '-d', self.database]
            env = self.env()
        self._log = open(self.log, 'w')
        self.process = subprocess.Popen(args, env=env, cwd=ROOT,
            stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the server stopped:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(
                        self.url('/api/v1/health'), timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the server did not start:\n{self.log_tail()}")

    def log_tail(self, size=4000):
        try:
            return self.log.read_text(errors='replace')[-size:]
        except FileNotFoundError:
            return ''

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if getattr(self, '_log', None):
            self._log.close()
            self._log = None

    def drop_database(self):
        self._psql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def cleanup(self):
        self.stop()
        try:
            self.drop_database()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
