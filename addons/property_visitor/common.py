# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Rules shared by the gates, the visits and the card batches"
import datetime as dt

from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.property_community.estate import PAYER_ROLES
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .exceptions import VisitValidationError

MAX_WINDOW = dt.timedelta(days=31)


class EstateMixin:
    "A record of an estate, in the company of the estate"
    __slots__ = ()

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @fields.depends('estate', '_parent_estate.company')
    def on_change_estate(self):
        if self.estate:
            self.company = self.estate.company

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Estate = pool.get('property.estate')
        values = super().preprocess_values(mode, values)
        if values.get('estate'):
            values['company'] = Estate(values['estate']).company.id
        return values


class HostRequestMixin(EstateMixin):
    """Visits and card batches: asked for a unit and a window, requested
    then approved, they issue passes"""
    __slots__ = ()
    valid_from = fields.DateTime("From", required=True,
        states={'readonly': Eval('state') != 'requested'})
    valid_to = fields.DateTime("To", required=True,
        states={'readonly': Eval('state') != 'requested'},
        domain=[('valid_to', '>', Eval('valid_from', None))])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('valid_from', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('requested', 'approved'),
            ('requested', 'rejected'),
            ('requested', 'cancelled'),
            ('requested', 'expired'),
            ('approved', 'cancelled'),
            ('approved', 'expired'),
            }

    @classmethod
    def host_units(cls, host):
        "The units the host occupies as merchant or tenant"
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        if not host.party or host.front_role not in PAYER_ROLES:
            return []
        return sorted({o.unit for o in Occupancy.search([
                        ('party', '=', host.party.id),
                        ('role', 'in', sorted(PAYER_ROLES)),
                        ('current', '=', True),
                        ])}, key=lambda u: u.id)

    @classmethod
    def check_host_unit(cls, host, unit):
        if unit not in cls.host_units(host):
            raise VisitValidationError(gettext(
                    'property_visitor.msg_unit_not_hosts'), field='unit')

    @classmethod
    def check_window(cls, valid_from, valid_to, date=None):
        if date is None:
            date = dt.datetime.now()
        if valid_to <= valid_from:
            raise VisitValidationError(gettext(
                    'property_visitor.msg_window_invalid'), field='valid_to')
        if valid_to <= date:
            raise VisitValidationError(gettext(
                    'property_visitor.msg_window_past'), field='valid_to')
        if valid_to - valid_from > MAX_WINDOW:
            raise VisitValidationError(gettext(
                    'property_visitor.msg_window_too_long',
                    days=MAX_WINDOW.days), field='valid_to')

    @classmethod
    def active_passes(cls, records):
        return [p for r in records for p in r.passes if p.state == 'active']

    @classmethod
    def revoke_passes(cls, records):
        "Revoke the active passes of records: they stop opening the gates"
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        Pass.revoke(cls.active_passes(records))

    @classmethod
    def search_ended(cls, date=None):
        "The records requested or approved whose window ended before date"
        if date is None:
            date = dt.datetime.now()
        return cls.search([
                ('state', 'in', ['requested', 'approved']),
                ('valid_to', '<', date),
                ])
