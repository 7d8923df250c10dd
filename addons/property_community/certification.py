# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from sql import Literal
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .estate import LEASABLE_TYPES, PAYER_ROLES
from .exceptions import CertificationError, CertificationValidationError
from .prepared import Prepared

CERTIFICATION_ROLES = [
    ('merchant', "Merchant"),
    ('tenant', "Tenant"),
    ]


class Certification(Workflow, ModelSQL, ModelView):
    "Request of a mini-program account to be certified as merchant or tenant"
    __name__ = 'property.certification'
    _states = {
        'readonly': Eval('state') != 'pending',
        }

    web_user = fields.Many2One(
        'web.user', "Account", required=True, readonly=True,
        ondelete='RESTRICT')
    name = fields.Char("Name", required=True, states=_states)
    phone = fields.Char("Phone", required=True, states=_states)
    role = fields.Selection(
        CERTIFICATION_ROLES, "Role", required=True, states=_states)
    units = fields.Many2Many(
        'property.certification-property.unit', 'certification', 'unit',
        "Units", required=True,
        domain=[
            ('type', 'in', sorted(LEASABLE_TYPES)),
            ('building.estate.company', '=', Eval('company', -1)),
            ],
        states=_states)
    photos = fields.One2Many(
        'ir.attachment', 'resource', "Photos", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    reject_reason = fields.Text("Reject Reason", readonly=True,
        states={
            'required': Eval('state') == 'rejected',
            'invisible': (Eval('state') != 'rejected')
            & ~Eval('reject_reason'),
            })
    reviewed_by = fields.Many2One('res.user', "Reviewed by", readonly=True)
    submitted_at = fields.Timestamp("Submitted at", required=True,
        readonly=True)
    decided_at = fields.Timestamp("Decided at", readonly=True)
    party = fields.Many2One('party.party', "Party", readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The party the account was linked to on approval.")
    occupancies = fields.One2Many(
        'property.occupancy', 'origin', "Occupancies", readonly=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('pending_unique',
                Exclude(t, (t.web_user, Equal),
                    where=t.state == Literal('pending')),
                'property_community.msg_certification_pending'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.web_user, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == Literal('pending')),
                })
        cls._order = [('submitted_at', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'approved'),
            ('pending', 'rejected'),
            ('pending', 'cancelled'),
            ('rejected', 'cancelled'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_submitted_at(cls):
        return dt.datetime.now()

    def get_rec_name(self, name):
        return f'{self.name} ({self.phone})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('phone', operator, value),
            ]

    @classmethod
    def current_summary(cls, web_user_id):
        """Return the API description of the latest request of the account,
        or None (one query, for GET /me)"""
        Unit = Pool().get('property.unit')
        cursor = Transaction().connection.cursor()
        _current_query.execute(cursor, user=web_user_id)
        summary = None
        for row in cursor:
            if summary is None:
                summary = dict(zip(SUMMARY_FIELDS, row), units=[])
            if row[len(SUMMARY_FIELDS)] is not None:
                summary['units'].append(
                    Unit.describe_row(row[len(SUMMARY_FIELDS):]))
        return summary

    @classmethod
    def submit(cls, web_user, name, phone, role, units, photos=None):
        """Create the pending request of the account.

        The photos are uploads of the account (or of its earlier requests);
        a rejected request is replaced by the new one.
        """
        pool = Pool()
        Attachment = pool.get('ir.attachment')
        photos = photos or []
        if cls.search([
                    ('web_user', '=', web_user.id),
                    ('state', '=', 'pending'),
                    ], limit=1):
            raise CertificationError(gettext(
                    'property_community.msg_certification_pending'))
        for unit in units:
            if not unit.leasable:
                raise CertificationValidationError(gettext(
                        'property_community'
                        '.msg_certification_unit_not_leasable',
                        unit=unit.rec_name), field='units')
        companies = {u.building.estate.company for u in units}
        if len(companies) > 1:
            raise CertificationValidationError(gettext(
                    'property_community.msg_certification_units_companies'),
                field='units')
        owned = cls._photos_of(web_user, photos)
        for i, photo in enumerate(photos):
            if photo not in owned:
                raise CertificationValidationError(gettext(
                        'property_community.msg_certification_photo_foreign'),
                    field=f'photos[{i}]')

        certification = cls(
            web_user=web_user, name=name, phone=phone, role=role,
            units=units, company=companies.pop())
        certification.save()
        cls.cancel(cls.search([
                    ('web_user', '=', web_user.id),
                    ('state', '=', 'rejected'),
                    ]))

        resource = str(certification)
        moved = [p for p in photos if p.resource == web_user]
        if moved:
            Attachment.write(moved, {'resource': resource})
        copied = [p for p in photos if p not in moved]
        if copied:
            Attachment.copy(copied, default={'resource': resource})
        return certification

    @classmethod
    def _photos_of(cls, web_user, photos):
        "Return the photos uploaded by the account or on its requests"
        resources = {str(web_user)} | {
            str(c) for c in cls.search([('web_user', '=', web_user.id)])}
        return {p for p in photos
            if p.resource and str(p.resource) in resources}

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, certifications):
        pool = Pool()
        Date = pool.get('ir.date')
        Occupancy = pool.get('property.occupancy')
        WebUser = pool.get('web.user')
        transaction = Transaction()
        today = Date.today()
        now = dt.datetime.now()
        # The button is guarded by the verification group; what approval
        # does to accounts, parties and occupancies is part of it.
        with without_check_access():
            occupancies, to_write, accounts = [], [], []
            for certification in certifications:
                party = certification._find_or_create_party()
                certification._check_units_free(party, today)
                unit_ids = [u.id for u in certification.units]
                current = {o.unit for o in Occupancy.search([
                            ('party', '=', party.id),
                            ('unit', 'in', unit_ids),
                            ('role', 'in', sorted(PAYER_ROLES)),
                            ('current', '=', True),
                            ])}
                for unit in certification.units:
                    if unit not in current:
                        occupancies.append(Occupancy(
                                unit=unit, party=party,
                                role=certification.role, start_date=today,
                                origin=certification))
                to_write.extend([[certification], {
                            'party': party.id,
                            'reviewed_by': transaction.user,
                            'decided_at': now,
                            }])
                accounts.extend(
                    [[certification.web_user],
                        certification._account_values(party)])
            Occupancy.save(occupancies)
            if to_write:
                cls.write(*to_write)
                WebUser.write(*accounts)

    def _find_or_create_party(self):
        Party = Pool().get('party.party')
        if self.web_user.party:
            return self.web_user.party
        party = Party.find_by_phones([self.phone]).get(self.phone)
        return party or Party.create_with_phone(self.name, self.phone)

    def _check_units_free(self, party, date):
        "Refuse units leased on date or later to another party"
        Occupancy = Pool().get('property.occupancy')
        others = Occupancy.search([
                ('unit', 'in', [u.id for u in self.units]),
                ('party', '!=', party.id),
                ('role', 'in', sorted(PAYER_ROLES)),
                ['OR',
                    ('end_date', '=', None),
                    ('end_date', '>=', date),
                    ],
                ], limit=1)
        if others:
            other, = others
            raise CertificationError(gettext(
                    'property_community.msg_certification_unit_leased',
                    request=self.rec_name, unit=other.unit.rec_name,
                    other=other.party.rec_name))

    def _account_values(self, party):
        values = {
            'party': party.id,
            'front_role': self.role,
            }
        if not self.web_user.display_name:
            values['display_name'] = self.name
        if not self.web_user.phone:
            values['phone'] = self.phone
        return values

    @classmethod
    @ModelView.button_action(
        'property_community.wizard_certification_reject')
    def reject(cls, certifications):
        pass

    @classmethod
    @Workflow.transition('rejected')
    def reject_with_reason(cls, certifications, reason):
        reason = (reason or '').strip()
        if not reason:
            raise CertificationValidationError(gettext(
                    'property_community.msg_certification_reason_required'),
                field='reason')
        cls.write(certifications, {
                'reject_reason': reason,
                'reviewed_by': Transaction().user,
                'decided_at': dt.datetime.now(),
                })

    @classmethod
    @Workflow.transition('cancelled')
    def cancel(cls, certifications):
        "Withdraw pending requests or close rejected ones"
        pass

    @classmethod
    def copy(cls, certifications, default=None):
        default = default.copy() if default is not None else {}
        for name in ['reject_reason', 'reviewed_by', 'decided_at', 'party',
                'photos', 'occupancies']:
            default.setdefault(name, None)
        default.setdefault('submitted_at', lambda data: dt.datetime.now())
        return super().copy(certifications, default=default)


class CertificationUnit(ModelSQL):
    __name__ = 'property.certification-property.unit'
    certification = fields.Many2One(
        'property.certification', "Certification", required=True,
        ondelete='CASCADE')
    unit = fields.Many2One(
        'property.unit', "Unit", required=True, ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.certification, Index.Range())))
        cls._sql_indexes.add(Index(t, (t.unit, Index.Range())))


class RejectStart(ModelView):
    __name__ = 'property.certification.reject.start'
    reason = fields.Text("Reason", required=True,
        help="Shown to the applicant in the mini-program.")


class Reject(Wizard):
    __name__ = 'property.certification.reject'
    start = StateView('property.certification.reject.start',
        'property_community.certification_reject_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reject", 'reject', 'tryton-ok', default=True),
            ])
    reject = StateTransition()

    def transition_reject(self):
        pool = Pool()
        Certification = pool.get('property.certification')
        Certification.reject_with_reason(self.records, self.start.reason)
        return 'end'


SUMMARY_FIELDS = ['id', 'state', 'name', 'phone', 'role', 'reject_reason',
    'submitted_at', 'decided_at']


@Prepared
def _current_query(param):
    "The latest request of an account with its units, in the model's order"
    pool = Pool()
    Certification = pool.get('property.certification')
    CertificationUnit = pool.get('property.certification-property.unit')
    Unit = pool.get('property.unit')
    certification = Certification.__table__()
    latest = Certification.__table__()
    relation = CertificationUnit.__table__()
    unit = Unit.__table__()
    from_, unit_columns = Unit.describe_join(
        certification.join(relation, 'LEFT',
            condition=relation.certification == certification.id),
        relation.unit, 'LEFT', table=unit)
    return from_.select(
        *(getattr(certification, f) for f in SUMMARY_FIELDS),
        *unit_columns,
        where=certification.id == latest.select(latest.id,
            where=latest.web_user == param('user'),
            order_by=[latest.submitted_at.desc, latest.id.desc],
            limit=1),
        order_by=[unit.full_code.asc, unit.id.asc])
