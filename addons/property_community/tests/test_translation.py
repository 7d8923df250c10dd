# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import re
import unittest
from importlib import import_module
from pathlib import Path

import polib

from trytond.i18n import gettext
from trytond.modules import create_graph, load_translations
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    TestCase, activate_module, drop_db, with_transaction)
from trytond.transaction import Transaction

PLACEHOLDER = re.compile(
    r'%\(\w+\)[a-z]'  # python-format
    r'|\$\{\w+\}'  # address and report header formats
    r'|\{\}'  # address part formats
    r'|\[\d+:')  # markup of report templates
# Their translations can not be overridden: translation_import skips them
CORE_MODULES = {'ir', 'res'}


def entry_key(entry):
    return (entry.msgctxt, entry.msgid, entry.msgid_plural or None)


def entry_values(entry):
    if entry.msgid_plural:
        return [entry.msgstr_plural.get(0, '')]  # Chinese has one form
    return [entry.msgstr]


def placeholders(text):
    return sorted(set(PLACEHOLDER.findall(text or '')))


def po_files(module):
    "Return the translation file of module and its override file if any"
    locale = Path(import_module(f'trytond.modules.{module}').__file__
        ).resolve().parent / 'locale'
    override = locale / 'override' / 'zh_CN.po'
    return [locale / 'zh_CN.po'] + ([override] if override.exists() else [])


class TranslationFileTestMixin:
    "Checks of the Chinese translation files of module"
    module = None

    @property
    def po_files(self):
        return po_files(self.module)

    def test_po_file_exists(self):
        "Test the module has a Chinese translation file"
        self.assertTrue(self.po_files[0].is_file())

    def test_every_entry_translated(self):
        "Test no entry is empty or fuzzy"
        for path in self.po_files:
            for entry in polib.pofile(str(path)):
                with self.subTest(file=path.name, entry=entry.msgctxt,
                        msgid=entry.msgid):
                    self.assertNotIn('fuzzy', entry.flags)
                    self.assertFalse(entry.obsolete)
                    for value in entry_values(entry):
                        self.assertTrue(value.strip())

    def test_placeholders(self):
        "Test translations keep the placeholders of their source"
        for path in self.po_files:
            for entry in polib.pofile(str(path)):
                source = placeholders(entry.msgid + (entry.msgid_plural or ''))
                for value in entry_values(entry):
                    with self.subTest(file=path.name, entry=entry.msgctxt,
                            msgid=entry.msgid):
                        self.assertEqual(placeholders(value), source)

    def test_override_context(self):
        "Test overrides name the module of the string they override"
        for path in self.po_files[1:]:
            self.check_override_context(path)

    def check_override_context(self, path):
        for entry in polib.pofile(str(path)):
            with self.subTest(entry=entry.msgctxt):
                _, _, res_id = entry.msgctxt.split(':')
                module, dot, _ = res_id.partition('.')
                self.assertEqual(dot, '.')
                self.assertNotIn(module, CORE_MODULES)
                self.assertNotEqual(module, self.module)


class TranslationTestMixin:
    "Checks that the strings of module are shown in Chinese"
    module = None

    @property
    def po_files(self):
        return po_files(self.module)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(cls.module)

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        drop_db()

    def source_entries(self):
        "Return the keys of the module's strings as the export writes them"
        pool = Pool()
        Translation = pool.get('ir.translation')
        TranslationSet = pool.get('ir.translation.set', type='wizard')
        # Views and reports are only collected by the set wizard
        session_id, _, _ = TranslationSet.create()
        translation_set = TranslationSet(session_id)
        translation_set.set_report()
        translation_set.set_view()
        content = Translation.translation_export('en', self.module)
        return {entry_key(e) for e in polib.pofile(content.decode('utf-8'))}

    def load_chinese(self):
        "Load the Chinese translations of the activated modules"
        pool = Pool()
        Module = pool.get('ir.module')
        modules = {m.name for m in Module.search([
                    ('state', '=', 'activated'),
                    ])}
        for node in create_graph(modules):
            load_translations(pool, node, ['zh_CN'])

    @with_transaction()
    def test_every_string_in_po(self):
        "Test zh_CN.po has exactly the strings of the module"
        sources = self.source_entries()
        translated = {
            entry_key(e) for e in polib.pofile(str(self.po_files[0]))}
        self.assertFalse(sources - translated,
            msg="Missing from zh_CN.po: run scripts/export_translations")
        self.assertFalse(translated - sources,
            msg="Stale in zh_CN.po: run scripts/export_translations")

    @with_transaction()
    def test_overrides_applied(self):
        "Test every override replaces an upstream translation"
        self.load_chinese()
        for path in self.po_files[1:]:
            self.check_overrides_applied(path)

    def check_overrides_applied(self, path):
        pool = Pool()
        Translation = pool.get('ir.translation')
        ModelData = pool.get('ir.model.data')
        for entry in polib.pofile(str(path)):
            type_, name, res_id = entry.msgctxt.split(':')
            module, fs_id = res_id.split('.')
            with self.subTest(entry=entry.msgctxt, msgid=entry.msgid):
                translation, = Translation.search([
                        ('lang', '=', 'zh_CN'),
                        ('type', '=', type_),
                        ('name', '=', name),
                        ('res_id', '=',
                            ModelData.get_id(module, fs_id) if fs_id else -1),
                        ('module', '=', module),
                        ('src', '=', entry.msgid),
                        ])
                self.assertEqual(translation.value, entry.msgstr)
                self.assertFalse(translation.fuzzy)
                self.assertEqual(
                    translation.overriding_module, self.module)


class TranslationFileTestCase(TranslationFileTestMixin, unittest.TestCase):
    "Test the Chinese translation files"
    module = 'property_community'


class TranslationTestCase(TranslationTestMixin, TestCase):
    "Test the module's strings are shown in Chinese"
    module = 'property_community'

    @with_transaction()
    def test_back_office_in_chinese(self):
        "Test models, fields, menus and messages are shown in Chinese"
        pool = Pool()
        Model = pool.get('ir.model')
        Unit = pool.get('property.unit')
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        self.load_chinese()

        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(Model.get_name('party.party'), "参与者")
            self.assertEqual(Model.get_name('property.unit'), "房间")
            fields = Unit.fields_get(['code', 'type'])
            self.assertEqual(fields['code']['string'], "房号")
            self.assertIn(('parking', "车位"), fields['type']['selection'])
            menu = Menu(ModelData.get_id(self.module, 'menu_property'))
            self.assertEqual(menu.name, "物业管理")
        self.assertEqual(
            gettext('property_community.msg_api_unauthenticated', 'zh_CN'),
            "登录已失效，请重新登录。")
