# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext, ngettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .export import (
    ExportResultMixin, ExportWizardMixin, export_result, export_start)
from .sheet import FORMATS, write_sheet

SHEETS = {
    'occupancy': 'property.occupancy.sheet',
    'technician': 'property.technician.sheet',
    }
KINDS = [
    ('occupancy', "Merchants and Tenants"),
    ('technician', "Technicians"),
    ]
# More errors than this are only in the downloadable report
MAX_ERRORS_SHOWN = 500


class ImportStart(ModelView):
    __name__ = 'property.sheet.import.start'
    kind = fields.Selection(KINDS, "Import", required=True)
    file = fields.Binary("File", required=True, filename='filename',
        help="An XLSX or CSV file whose first row names the columns.")
    filename = fields.Char("File Name")
    skip_bad_rows = fields.Boolean("Skip Bad Rows",
        help="Import the good rows and report the bad ones.\n"
        "Otherwise a file with a bad row imports nothing.")
    columns = fields.Function(
        fields.Char("Columns", readonly=True), 'on_change_with_columns')

    @classmethod
    def default_kind(cls):
        return 'occupancy'

    @classmethod
    def sheets(cls):
        "The sheet model of each kind of import"
        return dict(SHEETS)

    @classmethod
    def default_skip_bad_rows(cls):
        return False

    @fields.depends('kind')
    def on_change_with_columns(self, name=None):
        if self.kind:
            Sheet = Pool().get(self.sheets()[self.kind])
            return ', '.join(Sheet.header())


class ImportResult(ModelView):
    __name__ = 'property.sheet.import.result'
    summary = fields.Text("Summary", readonly=True)
    errors = fields.One2Many(
        'property.sheet.import.error', None, "Errors", readonly=True)
    report = fields.Binary(
        "Error Report", filename='report_filename', readonly=True)
    report_filename = fields.Char("Report File Name", readonly=True)


class ImportRowError(ModelView):
    __name__ = 'property.sheet.import.error'
    row = fields.Integer("Row", readonly=True)
    column = fields.Char("Column", readonly=True)
    value = fields.Char("Value", readonly=True)
    message = fields.Char("Message", readonly=True)


class Import(Wizard):
    __name__ = 'property.sheet.import'
    start = StateView('property.sheet.import.start',
        'property_community.sheet_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-import', default=True),
            ])
    import_ = StateTransition()
    result = StateView('property.sheet.import.result',
        'property_community.sheet_import_result_view_form', [
            Button("Back", 'start', 'tryton-back'),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        "Keep the file when going back to import it again"
        defaults = {}
        if getattr(self.start, 'kind', None):
            defaults['kind'] = self.start.kind
        if getattr(self.start, 'file', None):
            defaults['file'] = self.start.__class__.file.cast(self.start.file)
            defaults['filename'] = self.start.filename
        return defaults

    def transition_import_(self):
        pool = Pool()
        Sheet = pool.get(self.start.sheets()[self.start.kind])
        Error = pool.get('property.sheet.import.error')
        outcome = Sheet.import_file(
            self.start.file, skip_bad_rows=self.start.skip_bad_rows)
        errors = outcome.pop('errors')
        if outcome['imported'] or not errors:
            summary = ngettext('property_community.msg_sheet_imported',
                outcome['imported'], **outcome)
            if errors:
                summary += '\n' + ngettext(
                    'property_community.msg_sheet_skipped', outcome['bad'],
                    **outcome)
        else:
            summary = ngettext(
                'property_community.msg_sheet_nothing_imported',
                outcome['bad'], **outcome)
        if len(errors) > MAX_ERRORS_SHOWN:
            summary += '\n' + gettext(
                'property_community.msg_sheet_errors_truncated',
                shown=MAX_ERRORS_SHOWN, total=len(errors))
        self.result.summary = summary
        self.result.errors = [
            Error(**e) for e in errors[:MAX_ERRORS_SHOWN]]
        if errors:
            self.result.report = self.error_report(errors)
            self.result.report_filename = 'errors.csv'
        else:
            self.result.report = self.result.report_filename = None
        # Going back must not import the bad rows of a corrected file
        self.start.skip_bad_rows = False
        return 'result'

    @classmethod
    def error_report(cls, errors):
        "Return the errors as a CSV file"
        Error = Pool().get('property.sheet.import.error')
        names = ['row', 'column', 'value', 'message']
        labels = Error.fields_get(names)
        return write_sheet(
            [labels[n]['string'] for n in names],
            [[e[n] for n in names] for e in errors], 'csv')

    def default_result(self, fields):
        report = self.result.report
        cast = self.result.__class__.report.cast
        errors = [{
                'row': e.row, 'column': e.column, 'value': e.value,
                'message': e.message} for e in self.result.errors]
        # No need to keep them in the session
        self.result.report = None
        self.result.errors = []
        return {
            'summary': self.result.summary,
            'errors': errors,
            'report': cast(report) if report else None,
            'report_filename': self.result.report_filename,
            }


class ExportStart(ModelView):
    __name__ = 'property.sheet.export.start'
    kind = fields.Selection(KINDS, "Export", required=True)
    format = fields.Selection(FORMATS, "Format", required=True)
    estate = fields.Many2One('property.estate', "Estate",
        states={
            'invisible': Eval('kind') != 'occupancy',
            },
        help="Leave empty to export every estate.")

    @classmethod
    def default_kind(cls):
        return 'occupancy'

    @classmethod
    def default_format(cls):
        return 'xlsx'


class ExportResult(ExportResultMixin, ModelView):
    __name__ = 'property.sheet.export.result'


class Export(ExportWizardMixin, Wizard):
    __name__ = 'property.sheet.export'
    start = export_start('property.sheet.export.start',
        'property_community.sheet_export_start_view_form')
    result = export_result('property.sheet.export.result',
        'property_community.sheet_export_result_view_form')

    def export_file(self):
        pool = Pool()
        Date = pool.get('ir.date')
        Sheet = pool.get(SHEETS[self.start.kind])
        filters = {}
        if self.start.kind == 'occupancy' and self.start.estate:
            filters['estate'] = self.start.estate.id
        name = {
            'occupancy': 'merchants-tenants',
            'technician': 'technicians',
            }[self.start.kind]
        if filters:
            name += '-' + self.start.estate.code
        return (Sheet.export_file(self.start.format, **filters),
            f'{name}-{Date.today().isoformat()}.{self.start.format}')
