# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Billing demo data, loaded by scripts/demo_data.py when the module
property_billing is activated.

The company gets the property chart of accounts, a fiscal year, the billing
configuration and the WeChat Pay and finance system payment methods; each
estate gets fees with tariffs (management, parking, and metered water and
electricity for the shops) with the meters of its shops and their readings;
then last month is billed with the billing run and its bills are posted, so
that merchants and tenants find unpaid bills in the mini-program.  Their
accounts are bound to a demo WeChat identity, which WeChat Pay needs to take
a payment (against the fake WeChat Pay of the tests, the H5 site can pay).

Everything goes through the module's models, as the back office would.  Run
again, it creates nothing twice.  Databases larger than MAX_RUN_UNITS (the
benchmarks) get the accounting set-up and the fees, but no meters and no
billing run, which would take minutes.
"""
import datetime as dt
import json
import pathlib
import random
import sys
from decimal import Decimal

VOCABULARY = pathlib.Path(__file__).with_name('demo_billing.json')
CHART = ('property_billing', 'account_template_cn_root')
DAYS_UNTIL_DUE = 15
MAX_RUN_UNITS = 3000
# key -> code in the property chart of accounts (account_chart.xml)
ACCOUNTS = {
    'bank': '1002',
    'wechat': '1012',
    'receivable': '1122',
    'payable': '2202',
    'management': '6001',
    'water': '6002',
    'electricity': '6003',
    'parking': '6004',
    'other': '6051',
    'late_fee': '6301',
    }
DEMO_APPID = 'wx-demo-app'


def activated(pool):
    Module = pool.get('ir.module')
    return bool(Module.search([
                ('name', '=', 'property_billing'),
                ('state', '=', 'activated'),
                ]))


def previous_period(today):
    "The month before today as YYYY-MM and its first and last days"
    last = today.replace(day=1) - dt.timedelta(days=1)
    return last.strftime('%Y-%m'), last.replace(day=1), last


class Billing:
    def __init__(self, pool, company, seed):
        self.pool = pool
        self.company = company
        self.seed = seed
        self.words = json.loads(VOCABULARY.read_text(encoding='utf-8'))
        self.today = pool.get('ir.date').today()
        self.counts = dict.fromkeys(
            ['fees', 'meters', 'bills', 'wechat accounts'], 0)

    def rng(self, name):
        return random.Random(f'{self.seed}:billing:{name}')

    def data_id(self, module, name):
        return self.pool.get('ir.model.data').get_id(module, name)

    # Accounting

    def accounts(self):
        Account = self.pool.get('account.account')
        found = {a.code: a for a in Account.search([
                    ('company', '=', self.company.id),
                    ('code', 'in', list(ACCOUNTS.values())),
                    ])}
        return {key: found.get(code) for key, code in ACCOUNTS.items()}

    def setup_chart(self):
        "The property chart of accounts, once"
        pool = self.pool
        AccountTemplate = pool.get('account.account.template')
        AccountConfiguration = pool.get('account.configuration')
        CreateChart = pool.get('account.create_chart', type='wizard')
        accounts = self.accounts()
        if not accounts['receivable']:
            session_id, _, _ = CreateChart.create()
            wizard = CreateChart(session_id)
            wizard.account.account_template = AccountTemplate(
                self.data_id(*CHART))
            wizard.account.company = self.company
            wizard.transition_create_account()
            CreateChart.delete(session_id)
            accounts = self.accounts()
        configuration = AccountConfiguration(1)
        if not configuration.default_account_receivable:
            configuration.default_account_receivable = accounts['receivable']
            configuration.default_account_payable = accounts['payable']
            configuration.save()
        return accounts

    def setup_fiscalyear(self, date):
        "The fiscal year of date with its monthly periods and sequences"
        pool = self.pool
        FiscalYear = pool.get('account.fiscalyear')
        Sequence = pool.get('ir.sequence.strict')
        if FiscalYear.search([
                    ('company', '=', self.company.id),
                    ('start_date', '<=', date),
                    ('end_date', '>=', date),
                    ]):
            return
        name = str(date.year)
        move_sequence = Sequence(name=name, company=self.company,
            sequence_type=self.data_id('account', 'sequence_type_account_move'))
        move_sequence.save()
        invoice_sequence = Sequence(name=name, company=self.company,
            prefix=f'ZD{name}-', padding=5,
            sequence_type=self.data_id(
                'account_invoice', 'sequence_type_account_invoice'))
        invoice_sequence.save()
        fiscalyear = FiscalYear(name=name, company=self.company,
            start_date=date.replace(month=1, day=1),
            end_date=date.replace(month=12, day=31),
            move_sequence=move_sequence,
            invoice_sequences=[{
                    'in_invoice_sequence': invoice_sequence.id,
                    'in_credit_note_sequence': invoice_sequence.id,
                    'out_invoice_sequence': invoice_sequence.id,
                    'out_credit_note_sequence': invoice_sequence.id,
                    }])
        fiscalyear.save()
        FiscalYear.create_period([fiscalyear])

    def setup_configuration(self, accounts):
        "The billing configuration and the payment methods, once"
        pool = self.pool
        Configuration = pool.get('property.billing.configuration')
        Journal = pool.get('account.journal')
        PaymentMethod = pool.get('account.invoice.payment.method')
        configuration = Configuration(1)
        if not configuration.invoice_journal:
            configuration.invoice_journal = Journal(
                self.data_id('account', 'journal_revenue'))
        if configuration.days_until_due is None:
            configuration.days_until_due = DAYS_UNTIL_DUE
        for kind in ['management', 'water', 'electricity', 'parking',
                'other', 'late_fee']:
            if not getattr(configuration, f'account_{kind}'):
                setattr(configuration, f'account_{kind}', accounts[kind])
        if not configuration.wechat_pay_method:
            spec = self.words['wechat_pay']
            journal = Journal(name=spec['journal'], code=spec['code'],
                type='cash')
            journal.save()
            configuration.wechat_pay_method = PaymentMethod(
                name=spec['method'], company=self.company, journal=journal,
                credit_account=accounts['wechat'],
                debit_account=accounts['wechat'])
            configuration.wechat_pay_method.save()
        if not configuration.finance_payment_method:
            configuration.finance_payment_method = PaymentMethod(
                name=self.words['finance']['method'], company=self.company,
                journal=Journal(self.data_id('account', 'journal_cash')),
                credit_account=accounts['bank'],
                debit_account=accounts['bank'])
            configuration.finance_payment_method.save()
        configuration.save()

    # Fees and meters

    def setup_fees(self, estates):
        "The fees of the vocabulary, with a tariff and rules per estate"
        pool = self.pool
        Fee = pool.get('property.billing.fee')
        Tariff = pool.get('property.billing.tariff')
        Rule = pool.get('property.billing.fee.rule')
        fees = {f.code: f for f in Fee.search([
                    ('company', '=', self.company.id)])}
        for sequence, spec in enumerate(self.words['fees'], 1):
            fee = fees.get(spec['code'])
            if not fee:
                fee = Fee(company=self.company, code=spec['code'],
                    kind=spec['kind'], name=spec['name'],
                    sequence=sequence * 10)
                fee.save()
                self.counts['fees'] += 1
            for estate in estates:
                if not Tariff.search([
                            ('fee', '=', fee.id),
                            ('estate', '=', estate.id)]):
                    Tariff(fee=fee, estate=estate,
                        start_date=dt.date(self.today.year - 1, 1, 1),
                        rate=Decimal(spec['rates'][estate.kind])).save()
                rules = {r.unit_type for r in Rule.search([
                            ('fee', '=', fee.id),
                            ('estate', '=', estate.id)])}
                Rule.save([Rule(estate=estate, unit_type=unit_type, fee=fee)
                        for unit_type in spec['unit_types']
                        if unit_type not in rules])

    def setup_meters(self, estate, period_start, period_end):
        """Water and electricity meters of the shops of estate, read at the
        end of the month before the period and at the end of the period"""
        pool = self.pool
        Meter = pool.get('property.billing.meter')
        Reading = pool.get('property.billing.meter.reading')
        Unit = pool.get('property.unit')
        if Meter.search([('estate', '=', estate.id)], limit=1):
            return
        rng = self.rng(estate.code)
        shops = Unit.search([
                ('building.estate', '=', estate.id),
                ('type', '=', 'shop'),
                ], order=[('full_code', 'ASC')])
        specs = self.words['meters']
        meters, readings = [], []
        for unit in shops:
            for kind in ['water', 'electricity']:
                spec = specs[kind]
                meters.append(Meter(estate=estate, unit=unit, kind=kind,
                        code=f"{spec['prefix']}-{unit.full_code}",
                        initial_reading=Decimal(rng.randint(*spec['initial']))))
        Meter.save(meters)
        previous_date = period_start - dt.timedelta(days=1)
        for meter in meters:
            spec = specs[meter.kind]
            previous = meter.initial_reading + rng.randint(*spec['monthly'])
            current = previous + Decimal(
                rng.randint(*spec['monthly']) * 100 + rng.randint(0, 99)
                ) / 100
            readings += [
                Reading(meter=meter, date=previous_date, value=previous),
                Reading(meter=meter, date=period_end, value=current),
                ]
        Reading.save(readings)
        self.counts['meters'] += len(meters)

    # Bills

    def bill(self, estate, period, invoice_date):
        "Bill the period of estate with a billing run and post its bills"
        Run = self.pool.get('property.billing.run')
        if Run.search([('estate', '=', estate.id), ('period', '=', period)]):
            return
        run = Run(company=self.company, estate=estate, period=period,
            invoice_date=invoice_date)
        run.save()
        Run.compute([run])
        Run.create_invoices([run], commit=False)
        Run.post_invoices([run], commit=False)
        self.counts['bills'] += Run(run.id).posted_count or 0

    def bind_wechat(self):
        """Give merchant and tenant accounts the WeChat identity that a
        WeChat sign-in would have given them: WeChat Pay orders need it"""
        import trytond.config as config
        User = self.pool.get('web.user')
        appid = config.get('wechat', 'appid', default=None) or DEMO_APPID
        users = User.search([
                ('front_role', 'in', ['merchant', 'tenant']),
                ('party', '!=', None),
                ('wechat_openid', '=', None),
                ], order=[('id', 'ASC')])
        for user in users:
            user.wechat_appid = appid
            user.wechat_openid = f'demo-{self.seed}-{user.id}'
        User.save(users)
        self.counts['wechat accounts'] += len(users)

    def load(self, max_run_units=MAX_RUN_UNITS):
        pool = self.pool
        Estate = pool.get('property.estate')
        Unit = pool.get('property.unit')
        period, start, end = previous_period(self.today)
        invoice_date = end + dt.timedelta(days=1)
        accounts = self.setup_chart()
        self.setup_fiscalyear(invoice_date)
        self.setup_configuration(accounts)
        estates = Estate.search([('company', '=', self.company.id)],
            order=[('code', 'ASC')])
        self.setup_fees(estates)
        units = Unit.search_count([
                ('building.estate', 'in', [e.id for e in estates])])
        if units <= max_run_units:
            for estate in estates:
                self.setup_meters(estate, start, end)
                self.bill(estate, period, invoice_date)
        else:
            print(f"demo billing: {units} units, no meters and no billing "
                f"run (more than {max_run_units})", file=sys.stderr)
        self.bind_wechat()
        return self.counts


def load(pool, company, seed='2024', max_run_units=MAX_RUN_UNITS):
    "Load the billing demo data in the current transaction; return counts"
    return Billing(pool, company, seed).load(max_run_units=max_run_units)


def load_database(pool, database, seed='2024', language='zh_CN',
        max_run_units=MAX_RUN_UNITS):
    """Load the billing demo data into database in a transaction of its own
    when property_billing is activated; return the counts

    Creating configuration singletons and posting need table and sequence
    locks, which trytond takes only at the start of a transaction: the
    transaction starts again with the locks it asked for.
    """
    from trytond.transaction import Transaction, TransactionError
    extras = {}
    while True:
        try:
            with Transaction().start(database, 0,
                    context={'language': language}, **extras):
                if not activated(pool):
                    return {}
                Company = pool.get('company.company')
                companies = Company.search([], order=[('id', 'ASC')], limit=1)
                if not companies:
                    return {}
                company, = companies
                with Transaction().set_context(
                        company=company.id, companies=[company.id]):
                    return load(pool, company, seed=seed,
                        max_run_units=max_run_units)
        except TransactionError as error:
            error.fix(extras)
