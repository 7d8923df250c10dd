# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
import hashlib
import hmac
import secrets
from collections import namedtuple

from sql import Literal
from sql.aggregate import Max
from sql.functions import CurrentTimestamp
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Exclude, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import GateError
from .pass_ import REASONS, TokenRefused, decode_token
from .secret import SecretMixin

KEY_PREFIX = 'gk_'
Scan = namedtuple('Scan', ['result', 'reason', 'pass_id', 'passage_id'])


def hash_key(key):
    return hashlib.sha256(key.encode('utf-8')).hexdigest()


class Gate(SecretMixin, DeactivableMixin, ModelSQL, ModelView):
    "Access-control gate of an estate, authenticated by its own key"
    __name__ = 'property.visitor.gate'
    _secret_fields = {'key_hash'}
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
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_direction(cls):
        return 'both'

    @fields.depends('estate', 'bit', '_parent_estate.company')
    def on_change_estate(self):
        if self.estate:
            self.company = self.estate.company
            if self.bit is None:
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
        if values.get('estate'):
            values['company'] = Estate(values['estate']).company.id
        if mode == 'create' and values.get('bit') is None and values.get(
                'estate'):
            values['bit'] = cls.free_bit(Estate(values['estate']))
        return values

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
        result.update(cursor)
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
    def authenticate(cls, gate_id, key):
        "Return the gate of id gate_id whose key is key or None"
        if not key or len(key) > 128:
            return None
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        # One query: the gate's values come with its key digest
        names = ['company', 'estate', 'bit', 'direction', 'active']
        cursor.execute(*table.select(table.key_hash,
                *(getattr(table, n) for n in names),
                where=table.id == gate_id))
        row = cursor.fetchone()
        if not row or not row[0]:
            return None
        if not hmac.compare_digest(row[0], hash_key(key)):
            return None
        return cls(gate_id, **dict(zip(names, row[1:])))

    def verify(self, token, date=None):
        """Check token at this gate and consume its pass: the gate opens

        Return the scan recorded in the passage log: its result is 'open'
        or 'deny' with a reason.
        """
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        Passage = pool.get('property.visitor.passage')
        Configuration = pool.get('property.visitor.configuration')
        if date is None:
            date = dt.datetime.now().replace(microsecond=0)
        skew = Configuration.get_clock_skew()
        claims = None
        try:
            claims = Pass.check_token(self, token, date, skew)
            host = Pass.consume(claims.pass_id, self, date, skew)
        except TokenRefused as refused:
            claims = claims or refused.claims
            host = None
            if claims:
                host = Pass.host_of(claims.pass_id, self.company.id)
            return Passage.record_scan(self, date, 'deny', refused.reason,
                claims, host, jti=_jti(token))
        return Passage.record_scan(self, date, 'open', None, claims, host)

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
            reason = claims = host = None
            flagged = False
            try:
                claims = Pass.check_token(self, token, date, skew)
                host = Pass.host_of(claims.pass_id, self.company.id)
                if scan['result'] == 'open':
                    try:
                        Pass.consume(claims.pass_id, self, date, skew,
                            states=('active', 'expired'))
                    except TokenRefused as refused:
                        if refused.reason != 'used':
                            raise
                        flagged = True
            except TokenRefused as refused:
                reason = refused.reason
                claims = claims or refused.claims
                # The gate opened for a code the server refuses
                flagged = scan['result'] == 'open'
            scan = Passage.record_scan(self, date, scan['result'], reason,
                claims, host, mode='offline', flagged=flagged, jti=jti)
            outcomes.append({
                    'status': 'flagged' if flagged else 'recorded',
                    'reason': reason,
                    'pass_id': scan.pass_id,
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


class Passage(ModelSQL, ModelView):
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
    def record_scan(cls, gate, date, result, reason, claims, host,
            mode='online', flagged=False, jti=None):
        """Log the scan of a pass at gate and return it as a Scan

        claims are those of a token signed by the server or None.
        """
        # A plain insert: every scan of every gate goes through here, and
        # all the values are the server's own.
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = cls.__table__()
        pass_id = None
        if claims and host is not None:
            pass_id = claims.pass_id
        elif claims and Pass.search([
                    ('id', '=', claims.pass_id),
                    ('company', '=', gate.company.id),
                    ], limit=1):
            pass_id = claims.pass_id
        columns = [table.create_uid, table.create_date, table.company,
            table.estate, table.gate, table.kind, table.pass_, table.host,
            table.direction, table.scanned_at, table.mode, table.result,
            table.reason, table.jti, table.flagged, table.resolved]
        values = [transaction.user, CurrentTimestamp(), gate.company.id,
            gate.estate.id, gate.id, 'pass', pass_id, host,
            gate.direction if gate.direction != 'both' else None,
            date, mode, result, reason,
            claims.jti.hex() if claims else jti, flagged, False]
        insert = table.insert(columns, [values])
        if transaction.database.has_returning():
            insert.returning = [table.id]
            cursor.execute(*insert)
            passage_id, = cursor.fetchone()
        else:
            cursor.execute(*insert)
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
