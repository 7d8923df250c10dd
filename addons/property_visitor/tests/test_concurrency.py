# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import multiprocessing
import os
import unittest

from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from .tools import DBTestCase, company_estate, invite

PROCESSES = 4


def verify_at_gate(uri, database, token, authorization, barrier, results):
    "Run in a process of its own: scan token at a gate through the API"
    from trytond.config import config
    config.set('database', 'uri', uri)
    from werkzeug.test import Client

    from trytond.pool import Pool
    from trytond.protocols.wrappers import Response
    from trytond.wsgi import app
    Pool.start()
    client = Client(app, Response)
    # Load the pool before the race so that all scans start together
    client.get(f'/{database}/api/v1/health')
    barrier.wait(timeout=120)
    response = client.post(f'/{database}/api/v1/gate/verify',
        json={'token': token}, headers={'Authorization': authorization})
    results.put((os.getpid(), response.status_code, response.json))


@unittest.skipIf(backend.name != 'postgresql',
    "needs PostgreSQL: SQLite runs one writer at a time, so it cannot "
    "show two gates racing")
class ConcurrencyTestCase(DBTestCase):
    "Test gates scanning the same pass at the same moment"

    def test_same_pass_many_gates(self):
        "Test processes verifying one token at once open exactly once"
        with Transaction().start(DB_NAME, 1):
            with company_estate() as setup:
                pass_, = invite(setup).passes
                token = pass_.static_token()
            pass_id = pass_.id
            gates = [
                f'Gate {setup.north.id}:{setup.north_key}',
                f'Gate {setup.south.id}:{setup.south_key}',
                ]

        context = multiprocessing.get_context('spawn')
        barrier = context.Barrier(PROCESSES)
        results = context.Queue()
        uri = os.environ.get('TRYTOND_DATABASE_URI')
        processes = [context.Process(target=verify_at_gate,
                args=(uri, DB_NAME, token, gates[i % 2], barrier, results))
            for i in range(PROCESSES)]
        for process in processes:
            process.start()
        answers = [results.get(timeout=180) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            self.assertEqual(process.exitcode, 0)

        self.assertEqual(len({pid for pid, _, _ in answers}), PROCESSES)
        opened = [a for _, s, a in answers if s == 200]
        refused = [(s, a) for _, s, a in answers if s != 200]
        self.assertEqual(len(opened), 1, answers)
        self.assertEqual(opened[0]['result'], 'open')
        for status, answer in refused:
            self.assertIn(status, {409, 503}, answer)
            if status == 409:
                self.assertEqual(answer['reason'], 'used')

        with Transaction().start(DB_NAME, 0):
            pool = Pool()
            Pass = pool.get('property.visitor.pass')
            Passage = pool.get('property.visitor.passage')
            self.assertEqual(Pass(pass_id).state, 'used')
            passages = Passage.search([('pass_', '=', pass_id)])
            self.assertEqual(
                sorted(p.result for p in passages),
                sorted(['open'] + ['deny'] * (
                        len([s for s, _ in refused if s == 409]))))
