# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond.model import dualmethod, fields
from trytond.modules.company.model import set_employee
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .fee import IN_MAX

RUN_CONTEXT = '_property_billing_run'


def _reference_ids(values, model):
    "Return the ids of the references to model among values"
    prefix = model + ','
    ids = set()
    for value in values:
        if value and value.startswith(prefix):
            try:
                ids.add(int(value[len(prefix):]))
            except ValueError:
                pass
    return ids


def run_invoices_built(invoice_ids):
    """Return the invoices among invoice_ids built by the billing run of the
    context whose field checks can be skipped

    An invoice qualifies when every line of it comes from a billing line of
    the run (the run builds these invoices from computed values: parties,
    their invoice addresses and rounded amounts).  The values that come from
    the configuration (accounts, journal, payment term) are checked by the
    usual validation on one invoice of each combination, the first one,
    with its lines and its move, which is therefore not returned.
    """
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    BillingLine = pool.get('property.billing.line')
    run_id = Transaction().context.get(RUN_CONTEXT)
    if not run_id or not invoice_ids:
        return set()
    invoice = Invoice.__table__()
    line = InvoiceLine.__table__()
    billing_line = BillingLine.__table__()
    cursor = Transaction().connection.cursor()
    keys, origins = {}, {}
    for sub_ids in grouped_slice(sorted(set(invoice_ids)), IN_MAX):
        cursor.execute(*invoice.join(line,
                condition=line.invoice == invoice.id
                ).select(invoice.id, invoice.company, invoice.type,
                invoice.currency, invoice.journal, invoice.account,
                invoice.payment_term, invoice.invoice_date,
                invoice.accounting_date, invoice.state,
                line.account, line.origin, line.type, line.product,
                where=fields.SQL_OPERATORS['in'](invoice.id, sub_ids)))
        for (id_, company, type_, currency, journal, account, payment_term,
                invoice_date, accounting_date, state, line_account, origin,
                line_type, product) in cursor:
            keys.setdefault(id_, [
                    (company, type_, currency, journal, account,
                        payment_term, invoice_date, accounting_date, state),
                    set()])[1].add((line_account, line_type, product))
            origins.setdefault(id_, []).append(origin)
    billing_ids = _reference_ids(
        (o for os in origins.values() for o in os), BillingLine.__name__)
    of_run = set()
    for sub_ids in grouped_slice(sorted(billing_ids), IN_MAX):
        cursor.execute(*billing_line.select(billing_line.id,
                where=fields.SQL_OPERATORS['in'](billing_line.id, sub_ids)
                & (billing_line.run == run_id)))
        of_run.update(i for i, in cursor)
    result, checked = set(), set()
    for id_ in sorted(keys):
        if not all(_reference_ids([o], BillingLine.__name__) & of_run
                for o in origins[id_]):
            continue
        base, lines = keys[id_]
        key = (tuple(base), frozenset(lines))
        if key in checked:
            result.add(id_)
        else:
            checked.add(key)
    return result


class _RunValidationMixin:
    "Skip the field checks of the records built by the billing run"
    __slots__ = ()

    @classmethod
    def _run_invoice_ids(cls, records):
        "Return the invoice id of each record"
        raise NotImplementedError

    @classmethod
    def _validate(cls, records, field_names=None):
        if not Transaction().context.get(RUN_CONTEXT) or not records:
            super()._validate(records, field_names=field_names)
            return
        invoice_ids = cls._run_invoice_ids(records)
        built = run_invoices_built(
            [i for i in invoice_ids.values() if i])
        to_check = [r for r in records if invoice_ids.get(r.id) not in built]
        to_trust = [r for r in records if invoice_ids.get(r.id) in built]
        if to_trust:
            # new instances: reading a field of one record of a list reads
            # it for the whole list
            to_check = cls.browse([r.id for r in to_check])
        super()._validate(to_check, field_names=field_names)
        if to_trust:
            # the business rules still apply, called as ModelStorage does
            if field_names is None:
                field_names = cls._fields.keys()
            elif not isinstance(field_names, set):
                field_names = set(field_names)
            for record in to_trust:
                record.pre_validate()
            cls.validate(to_trust)
            cls.validate_fields(to_trust, field_names)

    @classmethod
    def _run_select(cls, query):
        cursor = Transaction().connection.cursor()
        cursor.execute(*query)
        return dict(cursor)


class Invoice(_RunValidationMixin, metaclass=PoolMeta):
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
            cls._post_billing(invoices)

    @classmethod
    @set_employee('posted_by', when='before')
    def _post_billing(cls, invoices):
        cls._post(invoices)

    @dualmethod
    def update_taxes(cls, invoices, exception=False):
        # Each save of a draft invoice computes its taxes again: billing runs
        # skip the invoices without any tax, whose taxes stay empty anyway.
        if Transaction().context.get('_property_billing_untaxed'):
            taxed = cls._taxed_ids([i.id for i in invoices
                    if i.id is not None and i.id >= 0])
            invoices = [i for i in invoices
                if i.id in taxed
                or ((i.id is None or i.id < 0)
                    and (i.taxes or any(l.taxes for l in i.lines)))]
        super().update_taxes(invoices, exception=exception)

    @classmethod
    def _taxed_ids(cls, ids):
        "Return the ids of the invoices with a tax or a line with a tax"
        pool = Pool()
        InvoiceTax = pool.get('account.invoice.tax')
        InvoiceLine = pool.get('account.invoice.line')
        LineTax = pool.get('account.invoice.line-account.tax')
        invoice_tax = InvoiceTax.__table__()
        line = InvoiceLine.__table__()
        line_tax = LineTax.__table__()
        cursor = Transaction().connection.cursor()
        result = set()
        for sub_ids in grouped_slice(ids, IN_MAX):
            sub_ids = list(sub_ids)
            cursor.execute(*(invoice_tax.select(invoice_tax.invoice,
                        where=fields.SQL_OPERATORS['in'](
                            invoice_tax.invoice, sub_ids))
                    | line.join(line_tax,
                        condition=line_tax.line == line.id
                        ).select(line.invoice,
                        where=fields.SQL_OPERATORS['in'](
                            line.invoice, sub_ids))))
            result.update(i for i, in cursor)
        return result

    @classmethod
    def _run_invoice_ids(cls, records):
        return {r.id: r.id for r in records}


class InvoiceLine(_RunValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['property.billing.line']

    @classmethod
    def _run_invoice_ids(cls, records):
        line = cls.__table__()
        result = {}
        for sub_ids in grouped_slice([r.id for r in records], IN_MAX):
            result.update(cls._run_select(line.select(line.id, line.invoice,
                        where=fields.SQL_OPERATORS['in'](line.id, sub_ids))))
        return result


class Move(_RunValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _run_invoice_ids(cls, records):
        move = cls.__table__()
        result = {}
        for sub_ids in grouped_slice([r.id for r in records], IN_MAX):
            for id_, origin in cls._run_select(move.select(
                        move.id, move.origin,
                        where=fields.SQL_OPERATORS['in'](move.id, sub_ids))
                    ).items():
                ids = _reference_ids([origin], 'account.invoice')
                result[id_] = ids.pop() if ids else None
        return result


class MoveLine(_RunValidationMixin, metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @classmethod
    def _run_invoice_ids(cls, records):
        pool = Pool()
        Move = pool.get('account.move')
        line = cls.__table__()
        move = Move.__table__()
        result = {}
        for sub_ids in grouped_slice([r.id for r in records], IN_MAX):
            for id_, origin in cls._run_select(line.join(move,
                        condition=line.move == move.id
                        ).select(line.id, move.origin,
                        where=fields.SQL_OPERATORS['in'](line.id, sub_ids))
                    ).items():
                ids = _reference_ids([origin], 'account.invoice')
                result[id_] = ids.pop() if ids else None
        return result
