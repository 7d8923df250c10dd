# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import hashlib
import hmac
import secrets

from sql import Literal
from sql.aggregate import Max
from sql.functions import CurrentTimestamp
from sql.operators import Equal

from trytond.cache import Cache
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Exclude, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .common import EstateMixin
from .exceptions import GateAuthenticationError, GateError
from .pass_ import REASONS, Scan, TokenRefused, decode_token
from .secret import SecretMixin
from .statement import Param, StatementMixin

KEY_PREFIX = 'gk_'


def hash_key(key):
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


class Gate(StatementMixin, SecretMixin, EstateMixin, DeactivableMixin,
        ModelSQL, ModelView):
    "Access-control gate of an estate, authenticated by its own key"
    __name__ = 'property.visitor.gate'
    _secret_fields = {'key_hash'}
    # The values of a gate that its scans need, its key digest and whether
    # it is active first
    _authentication_fields = [
        'key_hash', 'active', 'company', 'estate', 'bit', 'direction']
    _authentication_cache = Cache(
        'property.visitor.gate.authentication', context=False)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    estate = fields.Many2One('property.estate', "Estate", required=True,
        ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))])
    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    bit = fields.Integer("Gate Number", required=True,
        domain=[('bit', '>=', 0), ('bit', '<', 32)],
        help="The position of the gate in the gate list of the passes "
        "(0 to 31), unique in the estate.")
    direction = fields.Selection([
            ('both', "Entry and Exit"),
            ('in', "Entry"),
            ('out', "Exit"),
            ], "Direction", required=True)
    key_hash = fields.Char("Key Digest", readonly=True, strip=False)
    key_hint = fields.Char("Key Ends with", readonly=True)
    key_set_at = fields.Timestamp("Key Set at", readonly=True)
    last_seen_at = fields.Function(
        fields.DateTime("Last Scan"), 'get_last_seen_at')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_unique', Unique(t, t.estate, t.code),
                'property_visitor.msg_gate_code_unique'),
            ('bit_unique', Exclude(t, (t.estate, Equal), (t.bit, Equal),
                    where=t.active == Literal(True)),
                'property_visitor.msg_gate_bit_unique'),
            ]
        cls._order = [('estate', 'ASC'), ('bit', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'new_key': {
                    'icon': 'tryton-launch',
                    },
                })

    @classmethod
    def default_direction(cls):
        return 'both'

    @fields.depends('bit')
    def on_change_estate(self):
        super().on_change_estate()
        if self.estate and self.bit is None:
            self.bit = self.free_bit(self.estate)

    @classmethod
    def free_bit(cls, estate):
        used = {g.bit for g in cls.search([('estate', '=', estate.id)])}
        for bit in range(32):
            if bit not in used:
                return bit

    def get_rec_name(self, name):
        return f'{self.estate.rec_name} {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('code', operator, value),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Estate = pool.get('property.estate')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('bit') is None and values.get(
                'estate'):
            values['bit'] = cls.free_bit(Estate(values['estate']))
        return values

    @classmethod
    def on_modification(cls, mode, gates, field_names=None):
        super().on_modification(mode, gates, field_names=field_names)
        cls._authentication_cache.clear()

    @classmethod
    def get_last_seen_at(cls, gates, name):
        pool = Pool()
        Passage = pool.get('property.visitor.passage')
        passage = Passage.__table__()
        cursor = Transaction().connection.cursor()
        result = {g.id: None for g in gates}
        cursor.execute(*passage.select(
                passage.gate, Max(passage.scanned_at),
                where=passage.gate.in_(list(result)),
                group_by=[passage.gate]))
        for gate, date in cursor:
            if isinstance(date, str):
                # SQLite gives the maximum as text
                date = dt.datetime.fromisoformat(date)
            result[gate] = date
        return result

    @classmethod
    @ModelView.button_action('property_visitor.wizard_gate_key')
    def new_key(cls, gates):
        pass

    def set_new_key(self):
        "Give the gate a new key and return it; the key is not kept"
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        self.__class__.write([self], {
                'key_hash': hash_key(key),
                'key_hint': key[-4:],
                'key_set_at': dt.datetime.now(),
                })
        return key

    @classmethod
    def _sql_authenticate(cls):
        table = cls.__table__()
        return table.select(
            *(getattr(table, n) for n in cls._authentication_fields),
            where=table.id == Param('gate'))

    @classmethod
    def _sql_authenticated(cls):
        """The query of the gate Param('gate') if it is active with the key
        Param('key_hash') and it is still the gate Param('bit') of
        Param('estate')"""
        table = cls.__table__()
        return table.select(Literal(1),
            where=(table.id == Param('gate'))
            & (table.key_hash == Param('key_hash'))
            & (table.active == Literal(True))
            & (table.estate == Param('estate'))
            & (table.bit == Param('bit')))

    @classmethod
    def authenticate(cls, gate_id, key, cached=False):
        """Return the gate of id gate_id whose key is key or None

        cached: the gate may come from the cache of the process, which
        another process may not have cleared yet after the gate changed:
        only verify() takes it, as it checks the gate again when it opens.
        """
        if not key or len(key) > 128:
            return None
        return cls._authenticate_digest(gate_id, hash_key(key), cached)

    @classmethod
    def _authenticate_digest(cls, gate_id, digest, cached=False):
        values = cls._authentication_cache.get(gate_id) if cached else None
        # Not cached, cached before the gate had this key or while it was
        # disabled: a cache never refuses
        if (values is None or not values[1]
                or not hmac.compare_digest(values[0] or '', digest)):
            values = cls._execute('authenticate', gate=gate_id).fetchone()
            if not values:
                return None
            values = tuple(values)
            cls._authentication_cache.set(gate_id, values)
        if not values[0] or not hmac.compare_digest(values[0], digest):
            return None
        return cls(gate_id, **dict(zip(cls._authentication_fields, values)))

    @property
    def key_digest(self):
        "The digest of the gate's key, as authenticated or else as stored"
        return self.key_hash or self.secret_values('key_hash')[0]

    def verify(self, token, date=None):
        """Check token at this gate and consume its pass: the gate opens

        Return the scan recorded in the passage log: its result is 'open'
        or 'deny' with a reason.
        The gate and the public keys may come from the caches of the
        process: they are checked again by the statement that consumes the
        pass, and every refusal is decided again on fresh values.  Raise
        GateAuthenticationError if the gate's key changed or the gate was
        disabled since it was cached.
        """
        pool = Pool()
        Configuration = pool.get('property.visitor.configuration')
        if date is None:
            date = dt.datetime.now().replace(microsecond=0)
        skew = Configuration.get_clock_skew()
        scan = self._scan(token, date, skew, cached=True)
        if scan is None:
            gate = self._authenticate_digest(self.id, self.key_digest)
            if not gate:
                raise GateAuthenticationError(gettext(
                        'property_visitor.msg_gate_unauthenticated'))
            if not gate.active:
                raise GateAuthenticationError(gettext(
                        'property_visitor.msg_gate_inactive'),
                    code='inactive')
            scan = gate._scan(token, date, skew)
        return scan

    def _scan(self, token, date, skew, cached=False):
        """Check token, consume its pass and return the scan logged

        With cached, return None instead of logging a refusal.
        """
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        Passage = pool.get('property.visitor.passage')
        claims = None
        try:
            claims = Pass.check_token(self, token, date, skew, cached=cached)
            return Pass.consume(claims, self, date, skew)
        except TokenRefused as refused:
            if cached:
                return None
            pass_id, host = refused.pass_ or Pass.find(
                refused.claims or claims, self.company.id)
            return Passage.record_scan(self, date, 'deny', refused.reason,
                pass_id, host, jti=_jti(token))

    def reconcile_offline(self, scans):
        """Record the scans made while the gate was offline

        scans are dicts with token, scanned_at and result ('open' or
        'deny'). A pass the gate opened offline is consumed; if it was
        already used (online or at another gate) the scan is flagged for
        a person to look at. Return one outcome per scan.
        """
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        Passage = pool.get('property.visitor.passage')
        Configuration = pool.get('property.visitor.configuration')
        skew = Configuration.get_clock_skew()
        outcomes = []
        for scan in scans:
            date = scan['scanned_at'].replace(microsecond=0)
            token = scan['token']
            jti = _jti(token)
            if jti and Passage.search([
                        ('gate', '=', self.id),
                        ('jti', '=', jti),
                        ('scanned_at', '=', date),
                        ('mode', '=', 'offline'),
                        ], limit=1):
                outcomes.append({'status': 'duplicate', 'reason': None})
                continue
            reason, flagged, claims = None, False, None
            try:
                claims = Pass.check_token(self, token, date, skew)
                if scan['result'] == 'open':
                    logged = Pass.consume(claims, self, date, skew,
                        states=('active', 'expired'), mode='offline')
                    outcomes.append({'status': 'recorded', 'reason': None,
                            'pass_id': logged.pass_id})
                    continue
                pass_id, host = Pass.find(claims, self.company.id)
            except TokenRefused as refused:
                # The gate opened for a code used elsewhere since (not a
                # refusal: the gate could not know) or refused by the server
                flagged = scan['result'] == 'open'
                if refused.reason != 'used':
                    reason = refused.reason
                pass_id, host = refused.pass_ or Pass.find(
                    refused.claims or claims, self.company.id)
            logged = Passage.record_scan(self, date, scan['result'], reason,
                pass_id, host, mode='offline', flagged=flagged, jti=jti)
            outcomes.append({
                    'status': 'flagged' if flagged else 'recorded',
                    'reason': reason,
                    'pass_id': logged.pass_id,
                    })
        return outcomes


def _jti(token):
    "The token id written in token, checked or not, or None"
    try:
        return decode_token(token)[0].jti.hex()
    except TokenRefused:
        return None


class GateKeyResult(ModelView):
    __name__ = 'property.visitor.gate.key.result'
    gate = fields.Many2One('property.visitor.gate', "Gate", readonly=True)
    key = fields.Char("Key", readonly=True,
        help="Copy it into the gate now: it is not shown again.")


class GateKey(Wizard):
    __name__ = 'property.visitor.gate.key'
    start_state = 'generate'
    generate = StateTransition()
    result = StateView('property.visitor.gate.key.result',
        'property_visitor.gate_key_result_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_generate(self):
        if len(self.records) != 1:
            raise GateError(gettext('property_visitor.msg_gate_key_one'))
        self.result.gate = self.record
        self.result.key = self.record.set_new_key()
        return 'result'

    def default_result(self, fields):
        key = self.result.key
        # Not kept in the wizard session once shown
        self.result.key = None
        return {
            'gate': self.result.gate.id,
            'key': key,
            }


class Passage(StatementMixin, ModelSQL, ModelView):
    "Entry or exit through a gate: pass scans and technicians' records"
    __name__ = 'property.visitor.passage'
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    estate = fields.Many2One('property.estate', "Estate", required=True,
        readonly=True, ondelete='CASCADE')
    gate = fields.Many2One('property.visitor.gate', "Gate", readonly=True,
        ondelete='SET NULL')
    kind = fields.Selection([
            ('pass', "Pass"),
            ('technician', "Technician"),
            ], "Kind", required=True, readonly=True)
    pass_ = fields.Many2One('property.visitor.pass', "Pass", readonly=True,
        ondelete='SET NULL')
    host = fields.Many2One('web.user', "Host", readonly=True,
        ondelete='SET NULL')
    technician = fields.Many2One('web.user', "Technician", readonly=True,
        ondelete='CASCADE')
    direction = fields.Selection([
            (None, ""),
            ('in', "Entry"),
            ('out', "Exit"),
            ], "Direction", readonly=True)
    scanned_at = fields.DateTime("Time", required=True, readonly=True)
    mode = fields.Selection([
            ('online', "Online"),
            ('offline', "Offline"),
            ('self', "Self-recorded"),
            ], "Mode", required=True, readonly=True)
    result = fields.Selection([
            ('open', "Open"),
            ('deny', "Deny"),
            ], "Result", required=True, readonly=True)
    result_string = result.translated('result')
    reason = fields.Selection([(None, "")] + REASONS, "Reason",
        readonly=True)
    jti = fields.Char("Token ID", readonly=True)
    flagged = fields.Boolean("Flagged", readonly=True,
        help="A code used twice while gates were offline, or a gate that "
        "opened for a code the server refuses.")
    resolved = fields.Boolean("Resolved",
        states={'invisible': ~Eval('flagged')})
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.scanned_at, Index.Range(order='DESC'))),
                Index(t, (t.gate, Index.Range()), (t.jti, Index.Equality())),
                Index(t, (t.pass_, Index.Range())),
                Index(t, (t.technician, Index.Range()),
                    (t.scanned_at, Index.Range(order='DESC'))),
                Index(t, (t.flagged, Index.Equality(cardinality='low')),
                    where=t.flagged == Literal(True)),
                })
        cls._order = [('scanned_at', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'resolve': {
                    'invisible': ~Eval('flagged') | Eval('resolved'),
                    'depends': ['flagged', 'resolved'],
                    },
                })

    @classmethod
    def default_flagged(cls):
        return False

    @classmethod
    def default_resolved(cls):
        return False

    def get_rec_name(self, name):
        return f'{self.scanned_at} {self.result_string}'

    @classmethod
    def _scan_columns(cls, table, pass_, host):
        """Columns and values of the log of a scan (see scan_values)

        pass_ and host are expressions: the pass consumed or Param('pass').
        """
        return [
            (table.create_uid, Param('user')),
            (table.create_date, CurrentTimestamp()),
            (table.company, Param('company')),
            (table.estate, Param('estate')),
            (table.gate, Param('gate')),
            (table.kind, Literal('pass')),
            (table.pass_, pass_),
            (table.host, host),
            (table.direction, Param('direction')),
            (table.scanned_at, Param('scanned_at')),
            (table.mode, Param('mode')),
            (table.result, Param('result')),
            (table.reason, Param('reason')),
            (table.jti, Param('jti')),
            (table.flagged, Param('flagged')),
            (table.resolved, Literal(False)),
            ]

    @classmethod
    def scan_values(cls, gate, date, result, reason=None, jti=None,
            mode='online', flagged=False):
        "The values of the parameters of _scan_columns"
        return {
            'user': Transaction().user,
            'company': gate.company.id,
            'estate': gate.estate.id,
            'gate': gate.id,
            'direction': gate.direction if gate.direction != 'both' else None,
            'scanned_at': date,
            'mode': mode,
            'result': result,
            'reason': reason,
            'jti': jti,
            'flagged': flagged,
            }

    @classmethod
    def _sql_record_scan(cls):
        table = cls.__table__()
        columns, values = zip(*cls._scan_columns(
                table, Param('pass'), Param('host')))
        insert = table.insert(list(columns), [list(values)])
        if Transaction().database.has_returning():
            insert.returning = [table.id]
        return insert

    @classmethod
    def record_scan(cls, gate, date, result, reason, pass_id, host,
            mode='online', flagged=False, jti=None):
        """Log the scan of a pass at gate and return it as a Scan

        pass_id is the id of the pass of a token signed by the server, and
        host its host id, or None.
        """
        # A plain insert: every scan of every gate goes through here, and
        # all the values are the server's own.
        transaction = Transaction()
        cursor = cls._execute('record_scan', **cls.scan_values(
                gate, date, result, reason, jti, mode, flagged),
            **{'pass': pass_id, 'host': host})
        if transaction.database.has_returning():
            passage_id, = cursor.fetchone()
        else:
            passage_id = transaction.database.lastid(cursor)
        return Scan(result, reason, pass_id, passage_id)

    @classmethod
    def record_technician(cls, technician, estate, direction, note=None,
            date=None):
        "Record the entry or exit a technician reports"
        if date is None:
            date = dt.datetime.now().replace(microsecond=0)
        passage, = cls.create([{
                    'company': estate.company.id,
                    'estate': estate.id,
                    'kind': 'technician',
                    'technician': technician.id,
                    'direction': direction,
                    'scanned_at': date,
                    'mode': 'self',
                    'result': 'open',
                    'note': note,
                    }])
        return passage

    @classmethod
    def last_technician_passage(cls, technician):
        passages = cls.search([
                ('technician', '=', technician.id),
                ('kind', '=', 'technician'),
                ], order=[('scanned_at', 'DESC'), ('id', 'DESC')], limit=1)
        return passages[0] if passages else None

    @classmethod
    @ModelView.button
    def resolve(cls, passages):
        cls.write(passages, {'resolved': True})
