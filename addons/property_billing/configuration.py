# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.company.model import (
    CompanyMultiValueMixin, CompanyValueMixin)
from trytond.pool import Pool
from trytond.pyson import Eval

from .exceptions import BillingConfigurationError

# fee kind -> configuration field of its default revenue account
FEE_ACCOUNTS = {
    'management': 'account_management',
    'water': 'account_water',
    'electricity': 'account_electricity',
    'parking': 'account_parking',
    'other': 'account_other',
    'late_fee': 'account_late_fee',
    }


def _revenue_account(string, company=None, **kwargs):
    if company is None:
        company = Eval('context', {}).get('company', -1)
    return fields.Many2One('account.account', string,
        domain=[
            ('closed', '!=', True),
            ('type.revenue', '=', True),
            ('company', '=', company),
            ], **kwargs)


def _invoice_journal(string):
    return fields.Many2One('account.journal', string,
        domain=[('type', '=', 'revenue')],
        help="The journal of the customer invoices of billing runs.")


def _payment_term(string):
    return fields.Many2One(
        'account.invoice.payment_term', string, ondelete='RESTRICT',
        help="When the bills fall due.\n"
        "Leave empty to use the days until due.")


class Configuration(
        ModelSingleton, ModelSQL, ModelView, CompanyMultiValueMixin):
    __name__ = 'property.billing.configuration'
    invoice_journal = fields.MultiValue(_invoice_journal("Invoice Journal"))
    payment_term = fields.MultiValue(_payment_term("Payment Term"))
    days_until_due = fields.MultiValue(fields.Integer("Days until Due",
            domain=['OR',
                ('days_until_due', '=', None),
                ('days_until_due', '>=', 0),
                ],
            help="How many days after the invoice date a bill falls due "
            "when no payment term is set."))
    account_management = fields.MultiValue(
        _revenue_account("Management Fee Account"))
    account_water = fields.MultiValue(_revenue_account("Water Fee Account"))
    account_electricity = fields.MultiValue(
        _revenue_account("Electricity Fee Account"))
    account_parking = fields.MultiValue(
        _revenue_account("Parking Fee Account"))
    account_other = fields.MultiValue(_revenue_account("Other Fee Account",
            help="The default account of one-off charges."))
    account_late_fee = fields.MultiValue(
        _revenue_account("Late Fee Account"))

    @classmethod
    def multivalue_model(cls, field):
        pool = Pool()
        if field in set(FEE_ACCOUNTS.values()) | {
                'invoice_journal', 'payment_term', 'days_until_due'}:
            return pool.get('property.billing.configuration.company')
        return super().multivalue_model(field)

    @classmethod
    def default_days_until_due(cls, **pattern):
        return cls.multivalue_model(
            'days_until_due').default_days_until_due()

    @classmethod
    def default_invoice_journal(cls, **pattern):
        return cls.multivalue_model(
            'invoice_journal').default_invoice_journal()

    def get_fee_account(self, kind, **pattern):
        "Return the default revenue account of the fee kind"
        account = self.get_multivalue(FEE_ACCOUNTS[kind], **pattern)
        if not account:
            Kind = Pool().get('property.billing.fee')
            kinds = dict(Kind.fields_get(['kind'])['kind']['selection'])
            raise BillingConfigurationError(gettext(
                    'property_billing.msg_configuration_fee_account_missing',
                    kind=kinds.get(kind, kind)))
        return account

    def get_invoice_journal(self, **pattern):
        journal = self.get_multivalue('invoice_journal', **pattern)
        if not journal:
            raise BillingConfigurationError(gettext(
                    'property_billing.msg_configuration_journal_missing'))
        return journal

    def get_payment_term(self, **pattern):
        """Return the payment term of the bills

        Without a payment term set, the term "due N days after the invoice
        date" of the days until due is found or created.
        """
        PaymentTerm = Pool().get('account.invoice.payment_term')
        term = self.get_multivalue('payment_term', **pattern)
        if term:
            return term
        days = self.get_multivalue('days_until_due', **pattern) or 0
        name = gettext(
            'property_billing.msg_payment_term_days', days=days)
        terms = PaymentTerm.search([('name', '=', name)], limit=1)
        if terms:
            term, = terms
        else:
            term = PaymentTerm(name=name, lines=[{
                        'type': 'remainder',
                        'relativedeltas': [{'days': days}],
                        }])
            term.save()
        return term


class ConfigurationCompany(ModelSQL, CompanyValueMixin):
    __name__ = 'property.billing.configuration.company'
    invoice_journal = _invoice_journal("Invoice Journal")
    payment_term = _payment_term("Payment Term")
    days_until_due = fields.Integer("Days until Due")
    account_management = _revenue_account(
        "Management Fee Account", company=Eval('company', -1))
    account_water = _revenue_account(
        "Water Fee Account", company=Eval('company', -1))
    account_electricity = _revenue_account(
        "Electricity Fee Account", company=Eval('company', -1))
    account_parking = _revenue_account(
        "Parking Fee Account", company=Eval('company', -1))
    account_other = _revenue_account(
        "Other Fee Account", company=Eval('company', -1))
    account_late_fee = _revenue_account(
        "Late Fee Account", company=Eval('company', -1))

    @classmethod
    def default_days_until_due(cls):
        return 15

    @classmethod
    def default_invoice_journal(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id('account', 'journal_revenue')
        except KeyError:
            return None
