# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""The wizards that export a file: a start state with the choices, an
export transition that makes the file and a result state to download it"""
from trytond.model import fields
from trytond.wizard import Button, StateTransition, StateView


def export_start(model, view):
    "Return the state of the choices of an export"
    return StateView(model, view, [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Export", 'export', 'tryton-export', default=True),
            ])


def export_result(model, view):
    "Return the state that shows the file made"
    return StateView(model, view, [
            Button("Close", 'end', 'tryton-close', default=True),
            ])


class ExportResultMixin:
    "The file made by an export"
    __slots__ = ()
    file = fields.Binary("File", filename='filename', readonly=True)
    filename = fields.Char("File Name", readonly=True)


class ExportWizardMixin:
    """A wizard whose start state is made with export_start and whose
    result state, of a model with ExportResultMixin, with export_result"""
    __slots__ = ()
    export = StateTransition()

    def transition_export(self):
        self.result.file, self.result.filename = self.export_file()
        return 'result'

    def export_file(self):
        "Return the content and the name of the file of the choices of start"
        raise NotImplementedError

    def default_result(self, fields):
        file_ = self.result.file
        cast = self.result.__class__.file.cast
        # No need to keep it in the session
        self.result.file = None
        return {
            'file': cast(file_) if file_ else None,
            'filename': self.result.filename,
            }
