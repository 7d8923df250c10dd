# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import types

from trytond.modules.company.tests import create_company, set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import with_transaction
from trytond.transaction import Transaction

from ..exceptions import GateAuthenticationError, PassError
from ..gate import hash_key
from ..pass_ import TOKEN_SIZE, decode_token, encode_token, timestamp
from .tools import DBTestCase, company_estate, invite, setup_estate


class PassTestCase(DBTestCase):
    "Test the signed single-use passes and their verification at gates"

    def invite(self, setup, gates=None, **kwargs):
        "Return a new visit, its pass and the pass' static token"
        Pass = Pool().get('property.visitor.pass')
        visit = invite(setup, **kwargs)
        pass_, = visit.passes
        if gates is not None:
            Pass.write([pass_], {'gates': [('add', [g.id for g in gates])]})
        pass_ = Pass(pass_.id)
        return visit, pass_, pass_.static_token()

    def verdict(self, passage):
        return passage.result, passage.reason

    @with_transaction()
    def test_token_format(self):
        "Test the static token is compact, signed and names the pass"
        with company_estate() as setup:
            visit, pass_, token = self.invite(setup)
        self.assertEqual(len(token), TOKEN_SIZE)
        self.assertEqual(len(token), 132)
        self.assertTrue(token.startswith('PV1.'))
        claims, _, _ = decode_token(token)
        self.assertEqual(claims.pass_id, pass_.id)
        self.assertEqual(claims.site, setup.estate.id)
        self.assertEqual(claims.nbf, timestamp(pass_.valid_from))
        self.assertEqual(claims.exp, timestamp(pass_.valid_to))
        self.assertEqual(claims.gates, 0xFFFFFFFF)
        # The same pass always gives the same static token
        self.assertEqual(pass_.static_token(), token)
        self.assertNotIn("Zhang".encode(), token.encode())

    @with_transaction()
    def test_replay_refused(self):
        "Test the first scan opens and every later scan is refused as used"
        with company_estate() as setup:
            visit, pass_, token = self.invite(setup)
            first = setup.north.verify(token)
            again = setup.north.verify(token)
            elsewhere = setup.south.verify(token)
        self.assertEqual(self.verdict(first), ('open', None))
        self.assertEqual(self.verdict(again), ('deny', 'used'))
        self.assertEqual(self.verdict(elsewhere), ('deny', 'used'))
        pass_ = pass_.__class__(pass_.id)
        self.assertEqual(pass_.state, 'used')
        self.assertEqual(pass_.used_gate, setup.north)
        self.assertEqual(visit.__class__(visit.id).state, 'completed')
        passage = Pool().get('property.visitor.passage')(first.passage_id)
        self.assertEqual(passage.pass_, pass_)
        self.assertEqual(passage.host, setup.merchant)
        self.assertEqual(passage.gate, setup.north)
        self.assertEqual(first.pass_id, pass_.id)

    @with_transaction()
    def test_tampered_token(self):
        "Test a token with a changed character or payload is refused"
        with company_estate() as setup:
            _, pass_, token = self.invite(setup)
            position = 40
            flipped = 'A' if token[position] != 'A' else 'B'
            tampered = token[:position] + flipped + token[position + 1:]
            for bad in [tampered, token[:-1], token + 'A', 'PV1.' + 'A' * 128,
                    'hello', '', 'PV2.' + token[4:]]:
                with self.subTest(token=bad[:50]):
                    self.assertEqual(
                        self.verdict(setup.north.verify(bad)),
                        ('deny', 'invalid_signature'))
            self.assertEqual(pass_.__class__(pass_.id).state, 'active')
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('open', None))

    @with_transaction()
    def test_wrong_key_id(self):
        "Test a token naming an unknown key or forged with another key"
        pool = Pool()
        SigningKey = pool.get('property.visitor.signing_key')
        with company_estate() as setup:
            _, pass_, _ = self.invite(setup)
            key = SigningKey.get_active(setup.company)
            claims = decode_token(pass_.static_token())[0]
            unknown = types.SimpleNamespace(kid=key.kid + 7, sign=key.sign)
            token = encode_token(unknown, claims)
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('deny', 'unknown_key'))

            # A key of another company with the same id does not sign ours
            other_company = create_company(name="Other Property Co.")
            with set_company(other_company):
                forger = SigningKey.get_active(other_company)
            self.assertEqual(forger.kid, key.kid)
            token = encode_token(forger, claims)
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('deny', 'invalid_signature'))
            self.assertEqual(pass_.__class__(pass_.id).state, 'active')

    @with_transaction()
    def test_expired(self):
        "Test a pass is refused after its window and the clock skew"
        with company_estate() as setup:
            _, pass_, token = self.invite(setup)
            late = pass_.valid_to + dt.timedelta(seconds=31)
            self.assertEqual(
                self.verdict(setup.north.verify(token, late)),
                ('deny', 'expired'))
            # Within the skew of the gate clocks it still opens
            self.assertEqual(self.verdict(setup.north.verify(
                        token, pass_.valid_to + dt.timedelta(seconds=20))),
                ('open', None))

    @with_transaction()
    def test_not_yet_valid(self):
        "Test a pass is refused before its window"
        with company_estate() as setup:
            _, pass_, token = self.invite(setup, start=dt.timedelta(hours=2))
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('deny', 'not_yet_valid'))
            self.assertEqual(self.verdict(setup.north.verify(
                        token, pass_.valid_from)), ('open', None))

    @with_transaction()
    def test_wrong_gate(self):
        "Test a pass opens only its gates of its estate"
        pool = Pool()
        Gate = pool.get('property.visitor.gate')
        with company_estate() as setup:
            other = setup_estate(setup.company, code='E2')
            _, pass_, token = self.invite(setup, gates=[setup.north])
            self.assertEqual(decode_token(token)[0].gates,
                1 << setup.north.bit)
            # Same gate number in another estate
            self.assertEqual(other.north.bit, setup.north.bit)
            for gate in [setup.south, other.north]:
                with self.subTest(gate=gate.rec_name):
                    self.assertEqual(self.verdict(gate.verify(token)),
                        ('deny', 'wrong_gate'))
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('open', None))
            self.assertEqual(Gate(setup.north.id).last_seen_at is None,
                False)

    @with_transaction()
    def test_revoked(self):
        "Test a cancelled visit's pass and a revoked key's passes are refused"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        SigningKey = pool.get('property.visitor.signing_key')
        with company_estate() as setup:
            visit, pass_, token = self.invite(setup)
            Visit.cancel([visit])
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('deny', 'revoked'))

            _, pass_, token = self.invite(setup)
            SigningKey.revoke(SigningKey.search([]))
            self.assertEqual(self.verdict(setup.north.verify(token)),
                ('deny', 'unknown_key'))

    @with_transaction()
    def test_key_rotation(self):
        "Test a new key signs new passes while the old passes still open"
        pool = Pool()
        SigningKey = pool.get('property.visitor.signing_key')
        with company_estate() as setup:
            _, old_pass, _ = self.invite(setup)
            old_token = old_pass.static_token()
            old_key = SigningKey.get_active(setup.company)
            new_key, = SigningKey.create([{'company': setup.company.id}])
            self.assertEqual(SigningKey(old_key.id).state, 'retired')
            self.assertEqual(SigningKey.get_active(setup.company), new_key)
            _, new_pass, _ = self.invite(setup)
            new_token = new_pass.static_token()
            self.assertEqual(decode_token(new_token)[0].kid, new_key.kid)
            self.assertEqual(decode_token(old_token)[0].kid, old_key.kid)
            self.assertEqual(self.verdict(setup.north.verify(old_token)),
                ('open', None))
            self.assertEqual(self.verdict(setup.north.verify(new_token)),
                ('open', None))

    @with_transaction()
    def test_rotating_code(self):
        "Test the rotating code changes each period and lives briefly"
        pool = Pool()
        Configuration = pool.get('property.visitor.configuration')
        config = Configuration(1)
        with company_estate() as setup:
            _, pass_, _ = self.invite(setup)
            now = dt.datetime.now().replace(microsecond=0)
            start = dt.datetime.fromtimestamp(
                timestamp(now) // 30 * 30, dt.timezone.utc).replace(
                tzinfo=None)
            token, nbf, exp, refresh = pass_.rotating_token(start)
            self.assertEqual(pass_.rotating_token(
                    start + dt.timedelta(seconds=29))[0], token)
            next_token = pass_.rotating_token(
                start + dt.timedelta(seconds=30))[0]
            self.assertNotEqual(next_token, token)
            self.assertEqual(nbf, start)
            self.assertEqual(exp, start + dt.timedelta(
                    seconds=config.code_lifetime))
            self.assertEqual(refresh, start + dt.timedelta(seconds=30))
            self.assertNotEqual(token, pass_.static_token())

            # A screenshot is useless once the code lived
            late = exp + dt.timedelta(seconds=config.clock_skew + 1)
            self.assertEqual(self.verdict(setup.north.verify(token, late)),
                ('deny', 'expired'))
            self.assertEqual(self.verdict(setup.north.verify(
                        token, start + dt.timedelta(seconds=5))),
                ('open', None))

            # Every code of the pass dies with it
            self.assertEqual(self.verdict(setup.north.verify(
                        next_token, start + dt.timedelta(seconds=35))),
                ('deny', 'used'))
            with self.assertRaises(PassError) as cm:
                pass_.__class__(pass_.id).rotating_token(start)
            self.assertEqual(cm.exception.code, 'used')

    @with_transaction()
    def test_offline_reconciliation(self):
        "Test a code opened offline at two gates is flagged for a person"
        with company_estate() as setup:
            _, pass_, token = self.invite(setup)
            _, other, _ = self.invite(setup)
            other_token = other.static_token()
            now = dt.datetime.now().replace(microsecond=0)
            scans = [
                {'token': token, 'scanned_at': now, 'result': 'open'},
                {'token': other_token, 'scanned_at': now, 'result': 'deny'},
                ]
            north = setup.north.reconcile_offline(scans)
            self.assertEqual([o['status'] for o in north],
                ['recorded', 'recorded'])
            self.assertEqual(pass_.__class__(pass_.id).state, 'used')
            # The gate denied the other code: it stays usable
            self.assertEqual(other.__class__(other.id).state, 'active')

            # Uploading the same scans again changes nothing
            self.assertEqual(
                [o['status'] for o in setup.north.reconcile_offline(scans)],
                ['duplicate', 'duplicate'])

            south = setup.south.reconcile_offline([{
                        'token': token,
                        'scanned_at': now + dt.timedelta(seconds=40),
                        'result': 'open',
                        }])
            self.assertEqual(south, [{
                        'status': 'flagged', 'reason': None,
                        'pass_id': pass_.id}])
            passages = pass_.__class__(pass_.id).passages
            self.assertEqual(
                sorted((p.gate.code, p.mode, p.flagged) for p in passages),
                [('N', 'offline', False), ('S', 'offline', True)])

            # A gate that opened offline for a refused code is flagged too
            forged = token[:40] + ('A' if token[40] != 'A' else 'B') + (
                token[41:])
            outcome, = setup.north.reconcile_offline([{
                        'token': forged,
                        'scanned_at': now + dt.timedelta(seconds=90),
                        'result': 'open'}])
            self.assertEqual(outcome['status'], 'flagged')
            self.assertEqual(outcome['reason'], 'invalid_signature')

    @with_transaction()
    def test_offline_after_expiry(self):
        "Test a scan made offline in the window counts after the pass expired"
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        with company_estate() as setup:
            visit, pass_, token = self.invite(setup)
            Visit.expire_visits(pass_.valid_to + dt.timedelta(minutes=1))
            self.assertEqual(pass_.__class__(pass_.id).state, 'expired')
            outcome, = setup.north.reconcile_offline([{
                        'token': token,
                        'scanned_at': pass_.valid_to - dt.timedelta(hours=1),
                        'result': 'open'}])
        self.assertEqual(outcome['status'], 'recorded')
        self.assertEqual(pass_.__class__(pass_.id).state, 'used')
        self.assertEqual(Visit(visit.id).state, 'completed')

    def change_behind_cache(self, Model, record, **values):
        "Write values of record as another process would, unknown to caches"
        table = Model.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [getattr(table, n) for n in values], list(values.values()),
                where=table.id == record.id))

    @with_transaction()
    def test_cached_gate_checked_again(self):
        "Test a gate changed elsewhere is refused as it is, not as cached"
        pool = Pool()
        Gate = pool.get('property.visitor.gate')
        Pass = pool.get('property.visitor.pass')
        with company_estate() as setup:
            _, pass_, token = self.invite(setup, gates=[setup.north])
            north = {'key_hash': hash_key(setup.north_key), 'active': True,
                'bit': setup.north.bit}
            for values, refusal in [
                    ({'key_hash': hash_key('gk_other')}, 'unauthenticated'),
                    ({'active': False}, 'inactive'),
                    ({'bit': 7}, ('deny', 'wrong_gate')),
                    ]:
                with self.subTest(values=values):
                    gate = Gate.authenticate(
                        setup.north.id, setup.north_key, cached=True)
                    self.change_behind_cache(Gate, setup.north, **values)
                    # This process still knows the gate as it was
                    self.assertEqual(Gate.authenticate(
                            setup.north.id, setup.north_key, cached=True),
                        gate)
                    if isinstance(refusal, tuple):
                        self.assertEqual(
                            self.verdict(gate.verify(token)), refusal)
                    else:
                        with self.assertRaises(
                                GateAuthenticationError) as cm:
                            gate.verify(token)
                        self.assertEqual(cm.exception.code, refusal)
                    self.assertEqual(Pass(pass_.id).state, 'active')
                    self.change_behind_cache(Gate, setup.north, **north)

            # A gate cached while disabled is read again
            self.change_behind_cache(Gate, setup.north, active=False)
            Gate._authentication_cache.clear()
            self.assertFalse(Gate.authenticate(
                    setup.north.id, setup.north_key, cached=True).active)
            self.change_behind_cache(Gate, setup.north, active=True)
            gate = Gate.authenticate(
                setup.north.id, setup.north_key, cached=True)
            self.assertTrue(gate.active)
            self.assertEqual(self.verdict(gate.verify(token)),
                ('open', None))

    @with_transaction()
    def test_cached_key_checked_again(self):
        "Test a signing key revoked elsewhere stops opening at once"
        pool = Pool()
        Gate = pool.get('property.visitor.gate')
        Pass = pool.get('property.visitor.pass')
        SigningKey = pool.get('property.visitor.signing_key')
        with company_estate() as setup:
            _, pass_, token = self.invite(setup)
            key = SigningKey.get_active(setup.company)
            gate = Gate.authenticate(
                setup.north.id, setup.north_key, cached=True)
            self.assertEqual(SigningKey.verifying_public_key(
                    setup.company.id, key.kid, cached=True), key.public_key)
            self.change_behind_cache(SigningKey, key, state='revoked')
            # This process still has the key
            self.assertEqual(SigningKey.verifying_public_key(
                    setup.company.id, key.kid, cached=True), key.public_key)
            self.assertEqual(self.verdict(gate.verify(token)),
                ('deny', 'unknown_key'))
            self.assertEqual(Pass(pass_.id).state, 'active')

