# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from sql.functions import CurrentTimestamp

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.property_community.estate import PAYER_ROLES
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import HostRequestMixin
from .exceptions import HostNotFound, VisitError
from .pass_ import clear_cache
from .statement import Param, StatementMixin

FINAL_STATES = {'rejected', 'cancelled', 'expired', 'completed'}


def mask(number):
    "A phone or ID number with only its ends: 138****5678, 110****1234"
    if not number:
        return number
    if len(number) < 8:
        return '*' * len(number)
    return number[:3] + '*' * (len(number) - 7) + number[-4:]


def sees_personal_data():
    "Whether the user of the transaction may see phone and ID numbers"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    if Transaction().user == 0:
        return True
    return ModelData.get_id(
        'property_visitor', 'group_visitor_admin') in User.get_groups()


class PersonalDataMixin:
    """Phone and ID numbers read masked by whoever may not see them

    Every client (list, form, export, scripts) gets the same masked values.
    """
    __slots__ = ()
    _personal_fields = {'visitor_phone', 'visitor_id_number'}

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        if sees_personal_data():
            return result
        cache = Transaction().get_cache().get(cls.__name__)
        for values in result:
            cached = cache.get(values['id']) if cache else None
            for name in cls._personal_fields:
                if name in values:
                    values[name] = mask(values[name])
                if cached is not None and name in cached:
                    cached[name] = mask(cached[name])
        return result


class Visit(StatementMixin, PersonalDataMixin, HostRequestMixin, Workflow,
        ModelSQL, ModelView):
    "Visit to a merchant or tenant, by invitation or on application"
    __name__ = 'property.visitor.visit'
    _states = {
        'readonly': Eval('state') != 'requested',
        }
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    estate = fields.Many2One('property.estate', "Estate", required=True,
        readonly=True, ondelete='CASCADE')
    unit = fields.Many2One('property.unit', "Unit", readonly=True,
        ondelete='SET NULL')
    host = fields.Many2One('web.user', "Host", required=True, readonly=True,
        ondelete='CASCADE',
        help="The merchant or tenant visited.")
    applicant = fields.Many2One('web.user', "Applicant", readonly=True,
        ondelete='SET NULL',
        help="The account that applied to visit.")
    origin = fields.Selection([
            ('invitation', "Invitation"),
            ('application', "Application"),
            ], "Origin", required=True, readonly=True)
    visitor_name = fields.Char("Visitor", required=True, states=_states)
    visitor_phone = fields.Char("Visitor Phone", states=_states)
    visitor_id_number = fields.Char("Visitor ID Number", states=_states)
    plate = fields.Char("Plate Number", states=_states)
    purpose = fields.Char("Purpose", states=_states)
    state = fields.Selection([
            ('requested', "Requested"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ('expired', "Expired"),
            ('completed', "Completed"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    reject_reason = fields.Char("Reject Reason", readonly=True,
        states={'invisible': Eval('state') != 'rejected'})
    decided_at = fields.Timestamp("Decided at", readonly=True)
    passes = fields.One2Many(
        'property.visitor.pass', 'visit', "Passes", readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.host, Index.Range()),
                    (t.valid_from, Index.Range(order='DESC'))),
                Index(t, (t.applicant, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.valid_to, Index.Range()),
                    where=t.state.in_(['requested', 'approved'])),
                })
        cls._transitions.add(('approved', 'completed'))
        cls._buttons.update({
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['requested', 'approved']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'requested'

    def get_rec_name(self, name):
        return f'{self.visitor_name} → {self.host.rec_name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('visitor_name', operator, value),
            ('host.rec_name', operator, value),
            ('plate', operator, value),
            ]

    @property
    def pass_(self):
        "The current pass of the visit"
        for pass_ in self.passes:
            if pass_.state in {'active', 'used'}:
                return pass_

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        for name in ['visitor_phone', 'visitor_id_number', 'plate']:
            if values.get(name):
                values[name] = values[name].strip().upper()
        return values

    @classmethod
    def host_of_unit(cls, unit, phone=None):
        """Return the account of the merchant or tenant of unit

        With phone, the account must also have this phone. Raise HostNotFound
        otherwise, with the same message whatever is wrong, so that the
        answer does not tell who is there.
        """
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        User = pool.get('web.user')
        occupancies = Occupancy.search([
                ('unit', '=', unit.id),
                ('role', 'in', sorted(PAYER_ROLES)),
                ('current', '=', True),
                ])
        parties = [o.party.id for o in occupancies]
        domain = [
            ('party', 'in', parties),
            ('front_role', 'in', sorted(PAYER_ROLES)),
            ]
        if phone:
            domain.append(('phone', '=', phone))
        hosts = User.search(domain, order=[('id', 'ASC')], limit=1)
        if not parties or not hosts:
            raise HostNotFound(gettext('property_visitor.msg_host_not_found'))
        return hosts[0]

    @classmethod
    def invite(cls, host, unit, values):
        "Register the expected visitor of host and issue the pass"
        cls.check_host_unit(host, unit)
        cls.check_window(values['valid_from'], values['valid_to'])
        visit, = cls.create([{
                    'estate': unit.building.estate.id,
                    'unit': unit.id,
                    'host': host.id,
                    'origin': 'invitation',
                    **values,
                    }])
        cls.approve([visit])
        return visit

    @classmethod
    def apply(cls, applicant, unit, values, host_phone=None):
        "Ask the merchant or tenant of unit to be let in"
        pool = Pool()
        Configuration = pool.get('property.visitor.configuration')
        config = Configuration(1)
        cls.check_window(values['valid_from'], values['valid_to'])
        pending = cls.search_count([
                ('applicant', '=', applicant.id),
                ('state', '=', 'requested'),
                ])
        if pending >= config.max_pending_applications:
            raise VisitError(gettext(
                    'property_visitor.msg_too_many_applications',
                    max=config.max_pending_applications))
        host = cls.host_of_unit(unit, host_phone)
        if host == applicant:
            raise HostNotFound(gettext('property_visitor.msg_host_not_found'))
        visit, = cls.create([{
                    'estate': unit.building.estate.id,
                    'unit': unit.id,
                    'host': host.id,
                    'applicant': applicant.id,
                    'origin': 'application',
                    **values,
                    }])
        return visit

    @classmethod
    @Workflow.transition('approved')
    def approve(cls, visits):
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        for visit in visits:
            if visit.valid_to <= dt.datetime.now():
                raise VisitError(gettext(
                        'property_visitor.msg_window_past'))
            Pass.issue(visit.estate, visit.valid_from, visit.valid_to,
                visitor_name=visit.visitor_name, host=visit.host,
                holder=visit.applicant, visit=visit)
        cls.write(visits, {'decided_at': dt.datetime.now()})

    @classmethod
    @Workflow.transition('rejected')
    def reject(cls, visits, reason=None):
        cls.write(visits, {
                'decided_at': dt.datetime.now(),
                'reject_reason': reason,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, visits):
        cls.revoke_passes(visits)

    @classmethod
    @Workflow.transition('expired')
    def expire(cls, visits):
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        Pass.expire(cls.active_passes(visits))

    @classmethod
    def _sql_complete_used(cls, visits=None):
        "UPDATE completing the visits (Param('visit')) whose pass was used"
        table = cls.__table__()
        if visits is None:
            visits = [Param('visit')]
        return table.update(
            [table.state, table.write_date, table.write_uid],
            ['completed', CurrentTimestamp(), Param('user')],
            where=table.id.in_(visits)
            & table.state.in_(['approved', 'expired']))

    @classmethod
    def complete_used(cls, visit_id):
        "Complete the visit whose pass was just used at a gate"
        # Called within the gate's atomic consumption: a plain update keeps
        # the verification to a few statements.
        cls._execute('complete_used',
            visit=visit_id, user=Transaction().user)
        clear_cache(cls, [visit_id])

    @classmethod
    def expire_visits(cls, date=None):
        "Expire the visits and passes whose window ended"
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        Batch = pool.get('property.visitor.card.batch')
        if date is None:
            date = dt.datetime.now()
        cls.expire(cls.search_ended(date))
        Pass.expire_passes(date)
        Batch.expire_batches(date)

    @classmethod
    def purge(cls, date=None):
        """Delete the visitor data older than the retention period

        Visits, batches and their passes go; the passage log keeps the gate,
        time and result of the scans for the statistics, without the pass.
        The technicians' own records older than the period go too.
        """
        pool = Pool()
        Configuration = pool.get('property.visitor.configuration')
        Batch = pool.get('property.visitor.card.batch')
        Passage = pool.get('property.visitor.passage')
        config = Configuration(1)
        if date is None:
            date = dt.datetime.now()
        limit = date - config.retention
        cls.delete(cls.search([
                    ('valid_to', '<', limit),
                    ]))
        Batch.delete(Batch.search([
                    ('valid_to', '<', limit),
                    ]))
        Passage.delete(Passage.search([
                    ('kind', '=', 'technician'),
                    ('scanned_at', '<', limit),
                    ]))
