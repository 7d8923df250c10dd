# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import unittest

from trytond.i18n import gettext
from trytond.modules.property_community.tests.test_translation import (
    TranslationFileTestMixin, TranslationTestMixin)
from trytond.pool import Pool
from trytond.tests.test_tryton import TestCase, with_transaction
from trytond.transaction import Transaction


class TranslationFileTestCase(TranslationFileTestMixin, unittest.TestCase):
    "Test the Chinese translation file of visitors"
    module = 'property_visitor'


class TranslationTestCase(TranslationTestMixin, TestCase):
    "Test the visitor strings are shown in Chinese"
    module = 'property_visitor'

    @with_transaction()
    def test_back_office_in_chinese(self):
        "Test visitor models, fields and menus are shown in Chinese"
        pool = Pool()
        Model = pool.get('ir.model')
        Visit = pool.get('property.visitor.visit')
        Passage = pool.get('property.visitor.passage')
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        self.load_chinese()

        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(
                Model.get_name('property.visitor.visit'), "来访登记")
            self.assertEqual(Model.get_name('property.visitor.pass'), "通行码")
            self.assertEqual(Model.get_name('property.visitor.gate'), "闸机")
            fields = Visit.fields_get(['visitor_name', 'state'])
            self.assertEqual(fields['visitor_name']['string'], "访客姓名")
            self.assertIn(('requested', "待审批"), fields['state']['selection'])
            fields = Passage.fields_get(['result', 'reason'])
            self.assertIn(('open', "放行"), fields['result']['selection'])
            self.assertIn(('wrong_gate', "非本闸机"),
                fields['reason']['selection'])
            menu = Menu(ModelData.get_id(self.module, 'menu_visitor'))
            self.assertEqual(menu.name, "访客管理")
            menu = Menu(ModelData.get_id(self.module, 'menu_card_batch_form'))
            self.assertEqual(menu.name, "批量发卡")

    @with_transaction()
    def test_gate_and_api_messages_in_chinese(self):
        "Test the deny reasons and mini-program messages are in Chinese"
        self.load_chinese()
        for name, text in [
                ('msg_deny_invalid_signature', "通行码无效。"),
                ('msg_deny_used', "通行码已使用。"),
                ('msg_deny_not_yet_valid', "通行码未到生效时间。"),
                ('msg_deny_expired', "通行码已过期。"),
                ('msg_deny_wrong_gate', "非本闸机通行码。"),
                ('msg_deny_revoked', "通行码已作废。"),
                ]:
            with self.subTest(message=name):
                self.assertEqual(
                    gettext(f'property_visitor.{name}', 'zh_CN'), text)
        self.assertEqual(
            gettext('property_visitor.msg_window_too_long', 'zh_CN', days=7),
            "来访时段不能超过 7 天。")
