# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt

from sql.aggregate import Count, Min

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction


class Statistic(ModelSQL, ModelView):
    "Gate passages per day, gate and host"
    __name__ = 'property.visitor.statistic'
    company = fields.Many2One('company.company', "Company", readonly=True)
    estate = fields.Many2One('property.estate', "Estate", readonly=True)
    gate = fields.Many2One('property.visitor.gate', "Gate", readonly=True)
    host = fields.Many2One('web.user', "Host", readonly=True)
    date = fields.Date("Date", readonly=True)
    scans = fields.Integer("Scans", readonly=True)
    entries = fields.Integer("Opened", readonly=True)
    denied = fields.Integer("Denied", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('gate', 'ASC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Passage = pool.get('property.visitor.passage')
        Company = pool.get('company.company')
        passage = Passage.__table__()
        context = Transaction().context
        timezone = None
        if context.get('company'):
            timezone = Company(context['company']).timezone
        date = cls.date.sql_cast(passage.scanned_at, timezone=timezone)
        where = passage.kind == 'pass'
        if context.get('from_date'):
            where &= date >= context['from_date']
        if context.get('to_date'):
            where &= date <= context['to_date']
        if context.get('estate'):
            where &= passage.estate == context['estate']
        return passage.select(
            Min(passage.id).as_('id'),
            passage.company.as_('company'),
            passage.estate.as_('estate'),
            passage.gate.as_('gate'),
            passage.host.as_('host'),
            date.as_('date'),
            Count(passage.id).as_('scans'),
            Count(passage.id, filter_=passage.result == 'open').as_(
                'entries'),
            Count(passage.id, filter_=passage.result == 'deny').as_(
                'denied'),
            where=where,
            group_by=[passage.company, passage.estate, passage.gate,
                passage.host, date])


class StatisticContext(ModelView):
    __name__ = 'property.visitor.statistic.context'
    from_date = fields.Date("From Date")
    to_date = fields.Date("To Date")
    estate = fields.Many2One('property.estate', "Estate")

    @classmethod
    def default_from_date(cls):
        pool = Pool()
        Date = pool.get('ir.date')
        return Date.today() - dt.timedelta(days=30)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()
