# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Helpers reused by the tests of the billing module"
import datetime
from decimal import Decimal

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.pool import Pool

CHART = 'property_billing.account_template_cn_root'
# key -> account code in the chart of account_chart.xml
ACCOUNTS = {
    'cash': '1001',
    'bank': '1002',
    'wechat': '1012',
    'receivable': '1122',
    'payable': '2202',
    'advance': '2203',
    'tax': '2221',
    'management': '6001',
    'water': '6002',
    'electricity': '6003',
    'parking': '6004',
    'other': '6051',
    'late_fee': '6301',
    'expense': '6602',
    }


def month(number):
    "Return the period YYYY-MM of month number of this year"
    return f'{datetime.date.today().year}-{number:02d}'


def day(month_number, day_number):
    "Return the date of day_number of month_number of this year"
    return datetime.date(datetime.date.today().year, month_number, day_number)


def setup_billing(company, today=None, days_until_due=15):
    """Prepare the accounting of company for billing and return its records

    Call it inside set_company(company).  It creates the chart of accounts
    from the property company template, the fiscal year of today with its
    periods and invoice sequences, a payment term "due days_until_due days
    after the invoice date" and fills the billing configuration.  The result
    maps the keys of ACCOUNTS to accounts, and 'journal_revenue',
    'journal_cash', 'payment_term', 'fiscalyear' and 'configuration'.
    """
    pool = Pool()
    Account = pool.get('account.account')
    AccountConfiguration = pool.get('account.configuration')
    FiscalYear = pool.get('account.fiscalyear')
    Journal = pool.get('account.journal')
    PaymentTerm = pool.get('account.invoice.payment_term')
    Configuration = pool.get('property.billing.configuration')

    create_chart(company, chart=CHART)
    by_code = {a.code: a for a in Account.search([
                ('company', '=', company.id),
                ('code', 'in', list(ACCOUNTS.values())),
                ])}
    result = {key: by_code[code] for key, code in ACCOUNTS.items()}

    account_configuration = AccountConfiguration(1)
    account_configuration.default_account_receivable = result['receivable']
    account_configuration.default_account_payable = result['payable']
    account_configuration.save()

    fiscalyear = set_invoice_sequences(get_fiscalyear(company, today=today))
    fiscalyear.save()
    FiscalYear.create_period([fiscalyear])

    payment_term = PaymentTerm(
        name=f"Due {days_until_due} days after issue",
        lines=[{
                'type': 'remainder',
                'relativedeltas': [{'days': days_until_due}],
                }])
    payment_term.save()

    journal_revenue, = Journal.search([('code', '=', 'REV')], limit=1)
    journal_cash, = Journal.search([('code', '=', 'CASH')], limit=1)

    configuration = Configuration(1)
    configuration.invoice_journal = journal_revenue
    configuration.payment_term = payment_term
    configuration.days_until_due = days_until_due
    for kind in ['management', 'water', 'electricity', 'parking', 'other',
            'late_fee']:
        setattr(configuration, f'account_{kind}', result[kind])
    configuration.save()

    result.update({
            'journal_revenue': journal_revenue,
            'journal_cash': journal_cash,
            'payment_term': payment_term,
            'fiscalyear': fiscalyear,
            'configuration': configuration,
            })
    return result


def setup_payment_methods(company, accounts):
    """Create the WeChat Pay and finance system payment methods of company

    accounts is the result of setup_billing.  WeChat Pay is posted on its
    own cash journal to the clearing account 1012, the payments reported by
    the finance system to the bank account 1002.  Return both methods.
    """
    pool = Pool()
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    Configuration = pool.get('property.billing.configuration')

    journal = Journal(name="WeChat Pay", code='WXP', type='cash')
    journal.save()
    wechat = PaymentMethod(name="WeChat Pay", company=company,
        journal=journal, credit_account=accounts['wechat'],
        debit_account=accounts['wechat'])
    wechat.save()
    bank = PaymentMethod(name="Bank Transfer", company=company,
        journal=accounts['journal_cash'], credit_account=accounts['bank'],
        debit_account=accounts['bank'])
    bank.save()
    configuration = Configuration(1)
    configuration.wechat_pay_method = wechat
    configuration.finance_payment_method = bank
    configuration.save()
    return wechat, bank


def create_bill(company, party, amount, account, date=None):
    "Create and post a customer invoice (a bill) of one line of amount"
    pool = Pool()
    Configuration = pool.get('property.billing.configuration')
    Date = pool.get('ir.date')
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    invoice = Invoice(type='out', company=company, party=party,
        invoice_date=date or Date.today())
    invoice.on_change_type()
    invoice.on_change_party()
    invoice.payment_term = Configuration(1).get_payment_term()
    invoice.lines = [InvoiceLine(type='line', account=account,
            description="Management fee", quantity=1,
            unit_price=amount)]
    invoice.save()
    Invoice.post([invoice])
    return invoice


def create_fee(estate, kind, rate, code=None, name=None, start_date=None,
        tiers=(), unit_type=None, rule=True):
    """Create a fee of kind with its tariff in estate

    With rule, the fee applies to the units of unit_type of the estate (all
    types when None).  tiers are (threshold, rate) pairs.
    """
    pool = Pool()
    Fee = pool.get('property.billing.fee')
    Tariff = pool.get('property.billing.tariff')
    Rule = pool.get('property.billing.fee.rule')
    fee = Fee(company=estate.company, kind=kind, code=code or kind.upper(),
        name=name or kind.title())
    fee.save()
    if rate is not None:
        Tariff(fee=fee, estate=estate,
            start_date=start_date or datetime.date(2000, 1, 1),
            rate=Decimal(rate), tiers=[{
                    'threshold': Decimal(t), 'rate': Decimal(r)}
                for t, r in tiers]).save()
    if rule:
        Rule(estate=estate, unit_type=unit_type, fee=fee).save()
    return fee


def create_party(name, phone=None):
    Party = Pool().get('party.party')
    party = Party(name=name)
    if phone:
        party.contact_mechanisms = [{'type': 'mobile', 'value': phone}]
    party.save()
    return party


def occupy(unit, party, role='tenant', start_date=None, end_date=None):
    "Let party occupy unit in role from start_date"
    Occupancy = Pool().get('property.occupancy')
    occupancy = Occupancy(unit=unit, party=party, role=role,
        start_date=start_date or datetime.date(2000, 1, 1),
        end_date=end_date)
    occupancy.save()
    return occupancy


def run_billing(estate, period, invoice_date=None, post=True):
    """Bill estate for period in the current transaction and return the run

    invoice_date defaults to the first day after the period.
    """
    pool = Pool()
    Run = pool.get('property.billing.run')
    run = Run(company=estate.company, estate=estate, period=period)
    if invoice_date is None:
        invoice_date = run.period_dates[1] + datetime.timedelta(days=1)
    run.invoice_date = invoice_date
    run.save()
    Run.compute([run])
    Run.create_invoices([run], commit=False)
    if post:
        Run.post_invoices([run], commit=False)
    return Run(run.id)
