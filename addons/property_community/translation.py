# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import polib

from trytond.pool import Pool, PoolMeta


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    @classmethod
    def translation_import(cls, lang, module, po_path):
        result = super().translation_import(lang, module, po_path)
        cls.confirm_overrides(lang, module, po_path)
        return result

    @classmethod
    def confirm_overrides(cls, lang, module, po_path):
        "Make the overridden translations that keep their value not fuzzy"
        # translation_import ignores an override equal to the value it
        # overrides, even when that value is a fuzzy suggestion that the
        # clients never show
        ModelData = Pool().get('ir.model.data')
        to_save = []
        for path in po_path:
            for entry in polib.pofile(path):
                if entry.obsolete or 'fuzzy' in entry.flags:
                    continue
                translation, res_id = cls.from_poentry(entry)
                if '.' not in res_id:
                    continue
                res_id_module, fs_id = res_id.split('.')
                domain = [
                    ('name', '=', translation.name),
                    ('res_id', '=',
                        ModelData.get_id(res_id_module, fs_id)
                        if fs_id else -1),
                    ('lang', '=', lang),
                    ('type', '=', translation.type),
                    ('module', '=', res_id_module),
                    ('fuzzy', '=', True),
                    ('value', '=', translation.value),
                    ]
                if translation.type in {
                        'report', 'view', 'wizard_button', 'selection'}:
                    domain.append(('src', '=', translation.src))
                for overridden in cls.search(domain):
                    overridden.fuzzy = False
                    overridden.overriding_module = module
                    to_save.append(overridden)
        cls.save(to_save)
