# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import datetime as dt
from zoneinfo import ZoneInfo

from trytond.model import ModelView, fields
from trytond.modules.property_community.export import (
    ExportResultMixin, ExportWizardMixin, export_result, export_start)
from trytond.modules.property_community.sheet import (
    read_batches, write_sheet)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction
from trytond.wizard import Wizard

from .visit import mask, sees_personal_data


class ExportStart(ModelView):
    __name__ = 'property.visitor.export.start'
    kind = fields.Selection([
            ('visit', "Visits"),
            ('passage', "Passage Log"),
            ], "Export", required=True)
    from_date = fields.Date("From Date", required=True)
    to_date = fields.Date("To Date", required=True,
        domain=[('to_date', '>=', Eval('from_date', None))])
    estate = fields.Many2One('property.estate', "Estate",
        help="Leave empty to export every estate.")

    @classmethod
    def default_kind(cls):
        return 'visit'

    @classmethod
    def default_from_date(cls):
        return Pool().get('ir.date').today() - dt.timedelta(days=30)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()


class ExportResult(ExportResultMixin, ModelView):
    __name__ = 'property.visitor.export.result'


class Export(ExportWizardMixin, Wizard):
    "Export visits or the passage log to XLSX"
    __name__ = 'property.visitor.export'
    start = export_start('property.visitor.export.start',
        'property_visitor.export_start_view_form')
    result = export_result('property.visitor.export.result',
        'property_visitor.export_result_view_form')

    def export_file(self):
        kind = self.start.kind
        header, rows = getattr(self, f'_{kind}_sheet')(
            self.start.from_date, self.start.to_date, self.start.estate)
        return (write_sheet(header, rows, 'xlsx'),
            f'{kind}s-{self.start.from_date.isoformat()}'
            f'-{self.start.to_date.isoformat()}.xlsx')

    @staticmethod
    def _zone():
        "The time zone of the company, None for UTC"
        pool = Pool()
        Company = pool.get('company.company')
        company = Transaction().context.get('company')
        timezone = Company(company).timezone if company else None
        return ZoneInfo(timezone) if timezone else None

    @staticmethod
    def _local(value, zone):
        "Format a naive UTC datetime in zone"
        if value is None:
            return None
        if zone:
            value = value.replace(tzinfo=dt.timezone.utc).astimezone(
                zone).replace(tzinfo=None)
        return value.strftime('%Y-%m-%d %H:%M')

    @classmethod
    def _period(cls, from_date, to_date, zone):
        "The naive UTC bounds of the dates in zone"
        start = dt.datetime.combine(from_date, dt.time())
        end = dt.datetime.combine(to_date + dt.timedelta(days=1), dt.time())
        if zone:
            start, end = [d.replace(tzinfo=zone).astimezone(
                    dt.timezone.utc).replace(tzinfo=None)
                for d in (start, end)]
        return start, end

    @staticmethod
    def _account(user, full):
        "The name of a mini-program account, whose phone may be its name"
        if not user:
            return None
        if user['display_name'] or full:
            return user['rec_name']
        return mask(user['phone']) or user['rec_name']

    @staticmethod
    def _labels(Model, names):
        definitions = Model.fields_get(names)
        return [definitions[n]['string'] for n in names]

    @staticmethod
    def _selection(Model, name):
        return dict(Model.fields_get([name])[name]['selection'])

    def _visit_sheet(self, from_date, to_date, estate):
        pool = Pool()
        Visit = pool.get('property.visitor.visit')
        zone = self._zone()
        start, end = self._period(from_date, to_date, zone)
        domain = [
            ('valid_from', '<', end),
            ('valid_to', '>=', start),
            ]
        if estate:
            domain.append(('estate', '=', estate.id))
        names = ['estate', 'unit', 'host', 'origin', 'visitor_name',
            'visitor_phone', 'visitor_id_number', 'plate', 'purpose',
            'valid_from', 'valid_to', 'state']
        header = self._labels(Visit, names)
        full = sees_personal_data()
        origins = self._selection(Visit, 'origin')
        states = self._selection(Visit, 'state')

        account = ['display_name', 'phone', 'rec_name']
        fields = ['estate.rec_name', 'unit.rec_name', 'origin',
            'visitor_name', 'visitor_phone', 'visitor_id_number', 'plate',
            'purpose', 'valid_from', 'valid_to', 'state'] + [
            f'host.{n}' for n in account]

        def rows():
            for visit in read_batches(Visit, domain, fields,
                    [('valid_from', 'ASC'), ('id', 'ASC')]):
                yield self._visit_row(visit, full, origins, states, zone)
        return header, rows()

    def _visit_row(self, visit, full, origins, states, zone):
        phone, id_number = visit['visitor_phone'], visit['visitor_id_number']
        if not full:
            phone, id_number = mask(phone), mask(id_number)
        return [
            _name(visit['estate.']),
            _name(visit['unit.']),
            self._account(visit['host.'], full),
            origins[visit['origin']],
            visit['visitor_name'],
            phone,
            id_number,
            visit['plate'],
            visit['purpose'],
            self._local(visit['valid_from'], zone),
            self._local(visit['valid_to'], zone),
            states[visit['state']],
            ]

    def _passage_sheet(self, from_date, to_date, estate):
        pool = Pool()
        Passage = pool.get('property.visitor.passage')
        zone = self._zone()
        start, end = self._period(from_date, to_date, zone)
        domain = [
            ('scanned_at', '>=', start),
            ('scanned_at', '<', end),
            ]
        if estate:
            domain.append(('estate', '=', estate.id))
        names = ['scanned_at', 'estate', 'gate', 'kind', 'direction', 'mode',
            'result', 'reason', 'pass_', 'host', 'technician', 'flagged']
        header = self._labels(Passage, names)
        full = sees_personal_data()
        selections = {n: self._selection(Passage, n) for n in [
                'kind', 'direction', 'mode', 'result', 'reason']}

        account = ['display_name', 'phone', 'rec_name']
        fields = ['scanned_at', 'estate.rec_name', 'gate.rec_name', 'kind',
            'direction', 'mode', 'result', 'reason', 'pass_.rec_name',
            'flagged'] + [f'{u}.{n}' for u in ['host', 'technician']
            for n in account]

        def rows():
            for passage in read_batches(Passage, domain, fields,
                    [('scanned_at', 'ASC'), ('id', 'ASC')]):
                yield self._passage_row(passage, full, selections, zone)
        return header, rows()

    def _passage_row(self, passage, full, selections, zone):
        return [
            self._local(passage['scanned_at'], zone),
            _name(passage['estate.']),
            _name(passage['gate.']),
            *(selections[n][passage[n]] for n in [
                    'kind', 'direction', 'mode', 'result', 'reason']),
            _name(passage['pass_.']),
            self._account(passage['host.'], full),
            self._account(passage['technician.'], full),
            passage['flagged'],
            ]


def _name(value):
    "The record name of a many2one read with its rec_name"
    return value['rec_name'] if value else None
