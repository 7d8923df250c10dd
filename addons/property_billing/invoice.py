# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import dualmethod
from trytond.pool import PoolMeta
from trytond.transaction import Transaction


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def post_billing(cls, invoices):
        """Post invoices of billing runs

        Their lines have no product, so the default taxes of the products
        need no check, and a run posts after the preview was accepted, so
        the warnings were seen.
        """
        with Transaction().set_context(
                _skip_warnings=True, _property_billing_untaxed=True):
            # records are saved in the context they were instantiated in
            invoices = cls.browse([i for i in invoices
                    if i.state in {'draft', 'validated'}])
            cls._post(invoices)

    @dualmethod
    def update_taxes(cls, invoices, exception=False):
        # Each save of a draft invoice computes its taxes again: billing runs
        # skip the invoices without any tax, whose taxes stay empty anyway.
        if Transaction().context.get('_property_billing_untaxed'):
            invoices = [i for i in invoices
                if i.taxes or any(l.taxes for l in i.lines)]
        super().update_taxes(invoices, exception=exception)


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['property.billing.line']
