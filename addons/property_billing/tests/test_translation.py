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
    "Test the Chinese translation files of billing"
    module = 'property_billing'


class TranslationTestCase(TranslationTestMixin, TestCase):
    "Test the billing strings are shown in Chinese"
    module = 'property_billing'

    @with_transaction()
    def test_back_office_in_chinese(self):
        "Test billing models, fields, menus and messages are in Chinese"
        pool = Pool()
        Model = pool.get('ir.model')
        Fee = pool.get('property.billing.fee')
        Run = pool.get('property.billing.run')
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        self.load_chinese()

        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(Model.get_name('property.billing.run'), "出账批次")
            self.assertEqual(
                Model.get_name('property.payment.attempt'), "微信支付订单")
            fields = Fee.fields_get(['kind'])
            self.assertIn(('management', "物业费"),
                fields['kind']['selection'])
            self.assertIn(('water', "水费"), fields['kind']['selection'])
            self.assertIn(('electricity', "电费"),
                fields['kind']['selection'])
            self.assertIn(('parking', "停车费"), fields['kind']['selection'])
            fields = Run.fields_get(['state'])
            self.assertIn(('posted', "已入账"), fields['state']['selection'])
            menu = Menu(ModelData.get_id(self.module, 'menu_billing'))
            self.assertEqual(menu.name, "收费管理")
        self.assertEqual(
            gettext('property_billing.msg_payment_unavailable', 'zh_CN'),
            "微信支付暂时不可用，请稍后再试。")

    @with_transaction()
    def test_finance_in_chinese(self):
        "Test the upstream invoice, payment and dunning strings are Chinese"
        pool = Pool()
        Model = pool.get('ir.model')
        Dunning = pool.get('account.dunning')
        DunningFee = pool.get('account.dunning.fee')
        Payment = pool.get('account.payment')
        Menu = pool.get('ir.ui.menu')
        ModelData = pool.get('ir.model.data')
        self.load_chinese()

        with Transaction().set_context(language='zh_CN'):
            self.assertEqual(Model.get_name('account.invoice'), "账单")
            self.assertEqual(Model.get_name('account.dunning'), "催缴")
            self.assertEqual(Model.get_name('account.payment'), "收付款单")
            fields = Dunning.fields_get(['level', 'state'])
            self.assertEqual(fields['level']['string'], "催缴级别")
            self.assertIn(('final', "已完结"), fields['state']['selection'])
            fields = DunningFee.fields_get(['compute_method'])
            self.assertIn(('late_fee', "按日计收滞纳金"),
                fields['compute_method']['selection'])
            fields = Payment.fields_get(['state'])
            self.assertIn(('succeeded', "成功"), fields['state']['selection'])
            menu = Menu(ModelData.get_id(
                    'account_invoice', 'menu_invoice_out_form'))
            self.assertEqual(menu.name, "客户账单")
            menu = Menu(ModelData.get_id('account_dunning', 'menu_dunnings'))
            self.assertEqual(menu.name, "催缴")
