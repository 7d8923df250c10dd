# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"XLSX exports of the collection statistics and of the arrears (BILL-8)"
import datetime as dt

from trytond.model import ModelView, fields
from trytond.modules.property_community.export import (
    ExportResultMixin, ExportWizardMixin, export_result, export_start)
from trytond.modules.property_community.sheet import (
    read_batches, write_sheet)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction
from trytond.wizard import Wizard

LATE_FEES = ['late_fees', 'late_fees_paid', 'late_fees_outstanding']
# report -> (model, columns, uses periods, uses the date)
REPORTS = {
    'collection_period': ('property.billing.collection.period',
        ['period', 'billed', 'paid', 'outstanding', 'rate'] + LATE_FEES,
        True, False),
    'collection_estate': ('property.billing.collection.estate',
        ['period', 'estate', 'billed', 'paid', 'outstanding', 'rate']
        + LATE_FEES, True, False),
    'collection_building': ('property.billing.collection.building',
        ['period', 'estate', 'building', 'billed', 'paid', 'outstanding',
            'rate'] + LATE_FEES, True, False),
    'collection_unit': ('property.billing.collection.unit',
        ['period', 'estate', 'building', 'unit', 'billed', 'paid',
            'outstanding', 'rate'] + LATE_FEES, True, False),
    'aging_party': ('property.billing.aging.party',
        ['party', 'outstanding', 'not_due', 'days_30', 'days_60', 'days_90',
            'days_more', 'overdue', 'oldest_due_date'], False, True),
    'aging_unit': ('property.billing.aging.unit',
        ['estate', 'building', 'unit', 'party', 'outstanding', 'not_due',
            'days_30', 'days_60', 'days_90', 'days_more', 'overdue',
            'oldest_due_date'], False, True),
    'overdue': ('property.billing.overdue',
        ['invoice', 'party', 'estate', 'period', 'due_date', 'days',
            'amount', 'outstanding', 'dunning_level'], False, True),
    }


def report_sheet(report, context):
    """Return the header and the rows of report in context

    The rows are read a batch of records at a time, for the XLSX writer in
    write-only mode.
    """
    pool = Pool()
    model, names, _, _ = REPORTS[report]
    Model = pool.get(model)
    definitions = Model.fields_get(names)
    header = [definitions[n]['string'] for n in names]
    relations = {n for n in names if definitions[n]['type'] == 'many2one'}
    read_names = [f'{n}.rec_name' if n in relations else n for n in names]

    def value(values, name):
        if name in relations:
            value = values[f'{name}.']
            return value['rec_name'] if value else None
        return values[name]

    def rows():
        with Transaction().set_context(context):
            for values in read_batches(Model, [], read_names):
                yield [value(values, n) for n in names]
    return header, rows()


class ExportStart(ModelView):
    __name__ = 'property.billing.collection.export.start'
    report = fields.Selection([
            ('collection_period', "Collection per Period"),
            ('collection_estate', "Collection per Estate"),
            ('collection_building', "Collection per Building"),
            ('collection_unit', "Collection per Unit"),
            ('aging_party', "Arrears Aging per Payer"),
            ('aging_unit', "Arrears Aging per Unit"),
            ('overdue', "Overdue Bills"),
            ], "Report", required=True, sort=False)
    company = fields.Many2One('company.company', "Company", required=True)
    estate = fields.Many2One('property.estate', "Estate",
        domain=[('company', '=', Eval('company', -1))])
    building = fields.Many2One('property.building', "Building",
        domain=[
            If(Eval('estate'), ('estate', '=', Eval('estate', -1)), ()),
            ])
    from_period = fields.Char("From Period", help="YYYY-MM",
        states={'invisible': ~Eval('report', '').in_(
                [k for k, v in REPORTS.items() if v[2]])})
    to_period = fields.Char("To Period", help="YYYY-MM",
        states={'invisible': ~Eval('report', '').in_(
                [k for k, v in REPORTS.items() if v[2]])})
    date = fields.Date("Date",
        states={
            'invisible': ~Eval('report', '').in_(
                [k for k, v in REPORTS.items() if v[3]]),
            'required': Eval('report', '').in_(
                [k for k, v in REPORTS.items() if v[3]]),
            },
        help="The day the days overdue are counted to.")

    @classmethod
    def default_report(cls):
        return 'collection_estate'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_from_period(cls):
        today = Pool().get('ir.date').today()
        return today.replace(month=1).strftime('%Y-%m')

    @classmethod
    def default_to_period(cls):
        return Pool().get('ir.date').today().strftime('%Y-%m')

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()


class ExportResult(ExportResultMixin, ModelView):
    __name__ = 'property.billing.collection.export.result'


class Export(ExportWizardMixin, Wizard):
    "Export collection statistics or arrears to XLSX"
    __name__ = 'property.billing.collection.export'
    start = export_start('property.billing.collection.export.start',
        'property_billing.collection_export_start_view_form')
    result = export_result('property.billing.collection.export.result',
        'property_billing.collection_export_result_view_form')

    def export_file(self):
        start = self.start
        _, _, periods, date = REPORTS[start.report]
        context = {
            'company': start.company.id,
            'estate': start.estate.id if start.estate else None,
            'building': start.building.id if start.building else None,
            }
        if periods:
            context['from_period'] = start.from_period
            context['to_period'] = start.to_period
        if date:
            context['date'] = start.date
        header, rows = report_sheet(start.report, context)
        parts = [start.report.replace('_', '-')]
        if start.estate:
            parts.append(start.estate.code)
        if periods:
            parts.extend(filter(None, [start.from_period, start.to_period]))
        else:
            parts.append((start.date or dt.date.today()).isoformat())
        return write_sheet(header, rows, 'xlsx'), '-'.join(parts) + '.xlsx'
