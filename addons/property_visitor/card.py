# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from sql import For
from sql.aggregate import Count

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .common import HostRequestMixin
from .exceptions import BatchError

MAX_CARDS = 500


class Batch(HostRequestMixin, Workflow, ModelSQL, ModelView):
    "Visitor cards for a group, approved once and issued one by one"
    __name__ = 'property.visitor.card.batch'
    _states = {
        'readonly': Eval('state') != 'requested',
        }
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    estate = fields.Many2One('property.estate', "Estate", required=True,
        ondelete='CASCADE', states=_states,
        domain=[('company', '=', Eval('company', -1))])
    unit = fields.Many2One('property.unit', "Unit", ondelete='SET NULL',
        states=_states,
        domain=[('building.estate', '=', Eval('estate', -1))])
    requester = fields.Many2One('web.user', "Requested by", readonly=True,
        ondelete='CASCADE',
        help="The merchant who asked for the cards, empty when the "
        "property staff did.")
    group_name = fields.Char("Group", required=True, states=_states)
    purpose = fields.Char("Purpose", states=_states)
    quantity = fields.Integer("Cards", required=True, states=_states,
        domain=[('quantity', '>=', 1), ('quantity', '<=', MAX_CARDS)])
    state = fields.Selection([
            ('requested', "Requested"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ('expired', "Expired"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    reject_reason = fields.Char("Reject Reason",
        states={
            'readonly': Eval('state') != 'requested',
            'invisible': ~Eval('state').in_(['requested', 'rejected']),
            })
    decided_by = fields.Many2One('res.user', "Decided by", readonly=True)
    decided_at = fields.Timestamp("Decided at", readonly=True)
    passes = fields.One2Many(
        'property.visitor.pass', 'batch', "Cards Issued", readonly=True)
    issued = fields.Function(fields.Integer("Issued"), 'get_issued')
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.requester, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(['requested', 'approved'])),
                })
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'requested',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'requested',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['requested', 'approved']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'requested'

    @classmethod
    def default_quantity(cls):
        return 10

    def get_rec_name(self, name):
        return f'{self.group_name} ({self.quantity})'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('group_name',) + tuple(clause[1:])]

    @classmethod
    def get_issued(cls, batches, name):
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        pass_ = Pass.__table__()
        cursor = Transaction().connection.cursor()
        result = {b.id: 0 for b in batches}
        cursor.execute(*pass_.select(pass_.batch, Count(pass_.id),
                where=pass_.batch.in_(list(result)),
                group_by=[pass_.batch]))
        result.update(cursor)
        return result

    @classmethod
    def request(cls, requester, unit, values):
        "Ask for cards for the group of the merchant"
        cls.check_host_unit(requester, unit)
        cls.check_window(values['valid_from'], values['valid_to'])
        batch, = cls.create([{
                    'estate': unit.building.estate.id,
                    'unit': unit.id,
                    'requester': requester.id,
                    **values,
                    }])
        return batch

    @classmethod
    def _decide(cls, batches):
        cls.write(batches, {
                'decided_by': Transaction().user or None,
                'decided_at': dt.datetime.now(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, batches):
        cls._decide(batches)

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, batches):
        cls._decide(batches)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, batches):
        cls.revoke_passes(batches)

    @classmethod
    @Workflow.transition('expired')
    def expire(cls, batches):
        pass

    @classmethod
    def expire_batches(cls, date=None):
        cls.expire(cls.search_ended(date))

    def issue_card(self, visitor_name=None, holder=None, date=None):
        """Issue the next card of the batch: a single-use pass

        The batch row is locked so that two cards issued at the same time
        cannot go over the quantity.
        """
        pool = Pool()
        Pass = pool.get('property.visitor.pass')
        if date is None:
            date = dt.datetime.now()
        table = self.__table__()
        cursor = Transaction().connection.cursor()
        # Serialize the issues of one batch without restarting the
        # transaction as Model.lock does.
        cursor.execute(*table.select(table.state,
                where=table.id == self.id, for_=_for_update()))
        state, = cursor.fetchone()
        if state != 'approved':
            raise BatchError(gettext(
                    'property_visitor.msg_batch_not_approved'))
        if self.valid_to <= date:
            raise BatchError(gettext('property_visitor.msg_window_past'))
        if self.get_issued([self], 'issued')[self.id] >= self.quantity:
            raise BatchError(gettext(
                    'property_visitor.msg_batch_exhausted',
                    quantity=self.quantity))
        return Pass.issue(self.estate, self.valid_from, self.valid_to,
            visitor_name=visitor_name or self.group_name,
            host=self.requester, holder=holder, batch=self)


def _for_update():
    if Transaction().database.has_select_for():
        return For('UPDATE')
