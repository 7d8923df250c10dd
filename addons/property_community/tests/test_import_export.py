# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
import csv
import datetime as dt
import io
import zipfile

from openpyxl import Workbook, load_workbook

from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction

from ..exceptions import SheetError
from .tools import create_account, create_estate

# The Chinese words for merchant (shangjia) and tenant (zuke)
MERCHANT_ZH = '\u5546\u5bb6'
TENANT_ZH = '\u79df\u5ba2'
# A Chinese name (Zhang San)
ZHANG_SAN = '\u5f20\u4e09'
HEADER = ['Name', 'Phone', 'Role', 'Unit', 'Start Date', 'End Date']


def csv_file(rows, header=HEADER, encoding='utf-8-sig'):
    output = io.StringIO(newline='')
    writer = csv.writer(output)
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue().encode(encoding)


def xlsx_file(rows, header=HEADER):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def zip_bomb():
    "A small XLSX-looking file that unzips to more than 100 MB"
    output = io.BytesIO()
    with zipfile.ZipFile(output, 'w', zipfile.ZIP_DEFLATED) as archive:
        with archive.open('xl/sharedStrings.xml', 'w') as member:
            for _ in range(101):
                member.write(b'0' * 2 ** 20)
    return output.getvalue()


def read_csv(data):
    return list(csv.reader(io.StringIO(data.decode('utf-8-sig'))))


def read_xlsx(data):
    sheet = load_workbook(io.BytesIO(data)).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def run_import(data, kind='occupancy', skip_bad_rows=False):
    "Run the import wizard as the back office does and return its result"
    Import = Pool().get('property.sheet.import', type='wizard')
    session_id, _, _ = Import.create()
    result = Import.execute(session_id, {
            'start': {
                'kind': kind,
                'file': data,
                'filename': 'accounts',
                'skip_bad_rows': skip_bad_rows,
                },
            }, 'import_')
    Import.delete(session_id)
    return result['view']['defaults']


def run_export(kind='occupancy', format_='xlsx', estate=None):
    "Run the export wizard and return the file"
    Export = Pool().get('property.sheet.export', type='wizard')
    session_id, _, _ = Export.create()
    result = Export.execute(session_id, {
            'start': {
                'kind': kind,
                'format': format_,
                'estate': estate.id if estate else None,
                },
            }, 'export')
    Export.delete(session_id)
    defaults = result['view']['defaults']
    assert defaults['filename'].endswith('.' + format_)
    return defaults['file']


class ImportExportTestCase(CompanyTestMixin, ModuleTestCase):
    "Test the import and export of merchants, tenants and technicians"
    module = 'property_community'

    def setUp(self):
        super().setUp()
        self.start = dt.date.today() - dt.timedelta(days=30)
        self.end = dt.date.today() + dt.timedelta(days=335)

    def counts(self):
        pool = Pool()
        return {
            'party': pool.get('party.party').search_count([]),
            'account': pool.get('web.user').search_count([]),
            'occupancy': pool.get('property.occupancy').search_count([]),
            }

    def good_rows(self):
        return [
            [ZHANG_SAN, '13912345678', 'merchant', 'HX-B1-02',
                self.start.isoformat(), ''],
            ["Li Si", '139 1234 5679', 'Tenant', 'HX-B1-03',
                self.start.strftime('%Y/%m/%d'), self.end.isoformat()],
            ]

    @with_transaction()
    def test_import_csv(self):
        "Test a CSV file creates parties, accounts and occupancies"
        pool = Pool()
        User = pool.get('web.user')
        Occupancy = pool.get('property.occupancy')
        Unit = pool.get('property.unit')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            result = run_import(csv_file(self.good_rows()))

            self.assertEqual(result['errors'], [])
            self.assertEqual(result['summary'],
                "2 rows imported: 2 created, 0 updated, 0 unchanged.")
            zhang, = User.search([('phone', '=', '13912345678')])
            self.assertEqual(zhang.front_role, 'merchant')
            self.assertEqual(zhang.display_name, ZHANG_SAN)
            self.assertIsNone(zhang.email)
            self.assertIsNone(zhang.wechat_openid)
            self.assertEqual(zhang.party.name, ZHANG_SAN)
            self.assertEqual(zhang.party.mobile, '13912345678')
            self.assertEqual(
                [u.full_code for u in Unit.browse(zhang.units)], ['HX-B1-02'])
            li, = User.search([('phone', '=', '13912345679')])
            self.assertEqual(li.front_role, 'tenant')
            lease, = Occupancy.search([('party', '=', li.party.id)])
            self.assertEqual(
                (lease.role, lease.start_date, lease.end_date),
                ('tenant', self.start, self.end))
            self.assertEqual(lease.unit.state, 'leased')

    @with_transaction()
    def test_import_xlsx(self):
        "Test an XLSX file with date and number cells imports"
        pool = Pool()
        User = pool.get('web.user')
        Occupancy = pool.get('property.occupancy')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            result = run_import(xlsx_file([
                        [ZHANG_SAN, 13912345678, MERCHANT_ZH, 'HX-B1-02',
                            dt.datetime.combine(self.start, dt.time()),
                            None],
                        ["Li Si", '+86 13912345679', TENANT_ZH, 'hx-b1-03',
                            self.start, self.end],
                        ]))

            self.assertEqual(result['errors'], [])
            self.assertEqual(Occupancy.search_count([]), 2)
            zhang, = User.search([('phone', '=', '13912345678')])
            self.assertEqual(zhang.front_role, 'merchant')
            li, = User.search([('phone', '=', '13912345679')])
            self.assertEqual(li.front_role, 'tenant')
            lease, = Occupancy.search([('party', '=', li.party.id)])
            self.assertEqual(lease.unit.full_code, 'HX-B1-03')
            self.assertEqual(lease.end_date, self.end)

    @with_transaction()
    def test_bad_row_imports_nothing(self):
        "Test a file with one bad row imports nothing and reports the row"
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            before = self.counts()
            rows = self.good_rows() + [
                ["Wang Wu", '1391234', 'merchant', 'HX-B1-01',
                    self.start.isoformat(), ''],
                ]
            result = run_import(csv_file(rows))

            self.assertEqual(self.counts(), before)
            self.assertEqual(result['summary'],
                "Nothing was imported: 1 of 3 rows has errors. "
                "Correct it, or tick \"Skip Bad Rows\" to import "
                "the other rows.")
            self.assertEqual(result['errors'], [{
                        'row': 4, 'column': "Phone", 'value': '1391234',
                        'message': "Not an 11-digit mainland mobile phone "
                        "number.",
                        }])
            self.assertEqual(read_csv(result['report']), [
                    ["Row", "Column", "Value", "Message"],
                    ['4', "Phone", '1391234',
                        "Not an 11-digit mainland mobile phone number."],
                    ])

    @with_transaction()
    def test_row_errors(self):
        "Test every kind of bad row is reported with its row and column"
        pool = Pool()
        Party = pool.get('party.party')
        Unit = pool.get('property.unit')
        Occupancy = pool.get('property.occupancy')
        company = create_company()
        with set_company(company):
            estate = create_estate(company, code='HX', units=8)
            Unit.create([{
                        'building': estate.buildings[0].id, 'code': 'LOBBY',
                        'type': 'public',
                        }])
            other, = Party.create([{'name': "Other Tenant"}])
            Occupancy.create([{
                        'unit': Unit.search([('full_code', '=', 'HX-B1-08')])[
                            0].id,
                        'party': other.id, 'role': 'tenant',
                        'start_date': self.start,
                        }])
            create_account('technician', "Tech", phone='13700000001')
            start = self.start.isoformat()
            rows = [
                ["A", '13800000001', 'merchant', 'HX-B1-01', start, ''],
                ["", '13800000002', 'tenant', 'HX-B1-02', start, ''],
                ["C", '13800000003', 'owner', 'HX-B1-03', start, ''],
                ["D", '13800000004', 'tenant', 'HX-Z-99', start, ''],
                ["E", '13800000005', 'tenant', 'HX-B1-LOBBY', start, ''],
                ["F", '13800000006', 'tenant', 'HX-B1-04', '31/12/2026', ''],
                ["G", '13800000007', 'tenant', 'HX-B1-05', '2026-02-30', ''],
                ["H", '13800000008', 'tenant', 'HX-B1-06', start,
                    (self.start - dt.timedelta(days=1)).isoformat()],
                ["Not A", '13800000001', 'tenant', 'HX-B1-07', start, ''],
                ["J", '13800000010', 'tenant', 'HX-B1-01', start, ''],
                ["K", '13800000011', 'tenant', 'HX-B1-08', start, ''],
                ["L", '13700000001', 'tenant', 'HX-B1-07', start, ''],
                ]
            result = run_import(csv_file(rows))

            self.assertEqual(
                [(e['row'], e['column'], e['message'])
                    for e in result['errors']], [
                    (3, "Name", "A value is required."),
                    (4, "Role",
                        "Unknown role: write one of Merchant, Tenant."),
                    (5, "Unit", "No unit has this number."),
                    (6, "Unit",
                        "This unit is a public area and cannot be leased."),
                    (7, "Start Date", "Not a date: write it as 2026-01-31."),
                    (8, "Start Date", "Not a date: write it as 2026-01-31."),
                    (9, "End Date", "The end date is before the start date."),
                    (10, "Name", "The phone 13800000001 is in row 2 "
                        "with another name."),
                    (11, "Unit", "Row 2 leases the same unit during "
                        "these dates."),
                    (12, "Unit", "Unit \"HX-B1-08\" is already leased to "
                        "\"Other Tenant\" during these dates."),
                    (13, "Phone",
                        "The phone 13700000001 belongs to a Technician "
                        "account."),
                    ])
            self.assertEqual(Occupancy.search_count([]), 1)

    @with_transaction()
    def test_skip_bad_rows(self):
        "Test skipping bad rows imports the good rows and reports the bad"
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            rows = self.good_rows() + [
                ["Wang Wu", '13912345670', 'merchant', 'HX-B9-01',
                    self.start.isoformat(), ''],
                ]
            Import = pool.get('property.sheet.import', type='wizard')
            session_id, _, _ = Import.create()
            Import.execute(session_id, {
                    'start': {'kind': 'occupancy', 'file': csv_file(rows)},
                    }, 'import_')
            self.assertEqual(Occupancy.search_count([]), 0)
            # Back to the first page: the file is kept, skipping is asked
            start = Import.execute(session_id, {}, 'start')['view']
            self.assertEqual(start['defaults']['file'], csv_file(rows))
            self.assertFalse(start['defaults']['skip_bad_rows'])
            result = Import.execute(session_id, {
                    'start': dict(start['defaults'], skip_bad_rows=True),
                    }, 'import_')['view']['defaults']

            self.assertEqual(result['summary'],
                "2 rows imported: 2 created, 0 updated, 0 unchanged.\n"
                "1 bad row was skipped: see the errors below.")
            self.assertEqual(
                [(e['row'], e['column'], e['value'])
                    for e in result['errors']],
                [(4, "Unit", 'HX-B9-01')])
            self.assertEqual(
                sorted(o.unit.full_code for o in Occupancy.search([])),
                ['HX-B1-02', 'HX-B1-03'])

    @with_transaction()
    def test_export_import_round_trip(self):
        "Test an export re-imports without changing or duplicating anything"
        company = create_company()
        with set_company(company):
            estate = create_estate(company, code='HX')
            create_estate(company, code='YD')
            rows = self.good_rows() + [
                ["Wang Wu", '13912345670', 'tenant', 'YD-B1-01',
                    self.start.isoformat(), ''],
                ]
            run_import(csv_file(rows))
            after_import = self.counts()

            xlsx = run_export(format_='xlsx')
            self.assertEqual(read_xlsx(xlsx), [HEADER] + [
                    [ZHANG_SAN, '13912345678', "Merchant", 'HX-B1-02',
                        dt.datetime.combine(self.start, dt.time()), None],
                    ["Li Si", '13912345679', "Tenant", 'HX-B1-03',
                        dt.datetime.combine(self.start, dt.time()),
                        dt.datetime.combine(self.end, dt.time())],
                    ["Wang Wu", '13912345670', "Tenant", 'YD-B1-01',
                        dt.datetime.combine(self.start, dt.time()), None],
                    ])
            self.assertEqual(run_import(xlsx)['summary'],
                "3 rows imported: 0 created, 0 updated, 3 unchanged.")

            data = run_export(format_='csv', estate=estate)
            self.assertTrue(data.startswith(b'\xef\xbb\xbf'))
            self.assertEqual(read_csv(data), [HEADER,
                    [ZHANG_SAN, '13912345678', "Merchant", 'HX-B1-02',
                        self.start.isoformat(), ''],
                    ["Li Si", '13912345679', "Tenant", 'HX-B1-03',
                        self.start.isoformat(), self.end.isoformat()],
                    ])
            self.assertEqual(run_import(data)['summary'],
                "2 rows imported: 0 created, 0 updated, 2 unchanged.")
            self.assertEqual(self.counts(), after_import)

    @with_transaction()
    def test_import_updates_lease(self):
        "Test a row of the same person and unit updates the lease"
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            rows = self.good_rows()
            run_import(csv_file(rows))
            rows[0][5] = self.end.isoformat()
            result = run_import(csv_file(rows))

            self.assertEqual(result['summary'],
                "2 rows imported: 0 created, 1 updated, 1 unchanged.")
            lease, = Occupancy.search([('unit.full_code', '=', 'HX-B1-02')])
            self.assertEqual(lease.end_date, self.end)

    @with_transaction()
    def test_imported_account_claimed_by_wechat(self):
        "Test the person takes over the imported account with WeChat"
        pool = Pool()
        User = pool.get('web.user')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            run_import(csv_file(self.good_rows()))
            merchant, = User.search([('phone', '=', '13912345678')])

            guest = User.sign_in_wechat('wxapp', 'openid-zhang')
            account = guest.bind_phone('13912345678')
            self.assertEqual(account, merchant)
            self.assertEqual(account.front_role, 'merchant')
            self.assertEqual(account.wechat_openid, 'openid-zhang')
            self.assertEqual(len(account.units), 1)
            self.assertFalse(User(guest.id).active)

    @with_transaction()
    def test_import_technicians(self):
        "Test technicians are created, updated and deactivated by import"
        pool = Pool()
        User = pool.get('web.user')
        company = create_company()
        with set_company(company):
            header = ["Name", "Phone", "Active"]
            result = run_import(csv_file([
                        ["Wang", '13900000001', ''],
                        ["Zhao", '13900000002', 'yes'],
                        ], header=header), kind='technician')
            self.assertEqual(result['summary'],
                "2 rows imported: 2 created, 0 updated, 0 unchanged.")
            wang, = User.search([('phone', '=', '13900000001')])
            self.assertEqual(
                (wang.front_role, wang.display_name, wang.active),
                ('technician', "Wang", True))

            result = run_import(xlsx_file([
                        ["Wang Gong", '13900000001', True],
                        ["Zhao", '13900000002', 'No'],
                        ], header=header), kind='technician')
            self.assertEqual(result['summary'],
                "2 rows imported: 0 created, 2 updated, 0 unchanged.")
            self.assertEqual(User(wang.id).display_name, "Wang Gong")
            self.assertEqual(
                User.search([('phone', '=', '13900000002')]), [])

            data = run_export('technician', 'csv')
            self.assertEqual(read_csv(data), [header,
                    ["Wang Gong", '13900000001', "Yes"],
                    ["Zhao", '13900000002', "No"],
                    ])
            self.assertEqual(
                run_import(data, kind='technician')['summary'],
                "2 rows imported: 0 created, 0 updated, 2 unchanged.")
            with Transaction().set_context(active_test=False):
                self.assertEqual(
                    User.search_count([('front_role', '=', 'technician')]),
                    2)

    @with_transaction()
    def test_technician_row_errors(self):
        "Test duplicate and used phones of technicians are refused"
        pool = Pool()
        User = pool.get('web.user')
        company = create_company()
        with set_company(company):
            create_account('merchant', "Shop", phone='13900000003')
            result = run_import(csv_file([
                        ["Wang", '13900000001', ''],
                        ["Wang 2", '13900000001', ''],
                        ["Shop", '13900000003', ''],
                        ["Zhao", '13900000004', 'maybe'],
                        ], header=["Name", "Phone", "Active"]),
                kind='technician')

            self.assertEqual(
                [(e['row'], e['column'], e['message'])
                    for e in result['errors']], [
                    (3, "Phone", "The phone 13900000001 is already in row 2."),
                    (4, "Phone", "The phone 13900000003 belongs to a "
                        "Merchant account."),
                    (5, "Active", "Write Yes or No."),
                    ])
            self.assertEqual(
                User.search_count([('front_role', '=', 'technician')]), 0)

    @with_transaction()
    def test_bad_files(self):
        "Test files that are not spreadsheets give a clear error"
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            for data, message in [
                    (b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR',
                        "The file is not a spreadsheet: choose an XLSX or "
                        "CSV file."),
                    (b'PK\x03\x04garbage',
                        "The file is not a spreadsheet: choose an XLSX or "
                        "CSV file."),
                    (b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1',
                        "Old Excel files (.xls) cannot be read: save the "
                        "file as Excel Workbook (.xlsx) or CSV UTF-8."),
                    ('Name,Phone\n'.encode() + b'\x80\xff,1',
                        "The characters of the CSV file cannot be read: "
                        "save it as \"CSV UTF-8\"."),
                    (b'\r\n\r\n',
                        "The file has no rows to import."),
                    (b'Hello,world\nthis is not,a list\n',
                        "The first row of the file must name the columns; "
                        "missing: Name, Phone, Role, Unit, Start Date."),
                    (csv_file([]),
                        "The file has no rows to import."),
                    (zip_bomb(),
                        "The workbook holds too much data: at most 100 MB "
                        "once unzipped."),
                    (b'x' * (10 * 2 ** 20 + 1),
                        "The file is too large: at most 10 MB."),
                    (csv_file([[]] * 2, header=HEADER + ["Phone"]),
                        "The column \"Phone\" appears twice in the first "
                        "row."),
                    (csv_file([["A", '13800000000', 'tenant', 'HX-B1-01',
                                '2026-01-01', '']] * 20001),
                        "The file has more than 20000 rows: split it into "
                        "smaller files."),
                    ]:
                with self.subTest(data=data[:20]):
                    with self.assertRaises(SheetError) as cm:
                        run_import(data)
                    self.assertEqual(cm.exception.message, message)

    @with_transaction()
    def test_gb18030_csv(self):
        "Test a CSV saved by Excel on Chinese Windows is read"
        pool = Pool()
        User = pool.get('web.user')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            result = run_import(csv_file([
                        [ZHANG_SAN, '13912345678', MERCHANT_ZH, 'HX-B1-02',
                            self.start.isoformat(), ''],
                        ], encoding='gb18030'))
            self.assertEqual(result['errors'], [])
            zhang, = User.search([('phone', '=', '13912345678')])
            self.assertEqual(zhang.display_name, ZHANG_SAN)

    @with_transaction()
    def test_formula_cells_stay_text(self):
        "Test names that look like formulas are exported as text"
        pool = Pool()
        User = pool.get('web.user')
        company = create_company()
        with set_company(company):
            create_estate(company, code='HX')
            run_import(csv_file([
                        ["=1+1", '13912345678', 'merchant', 'HX-B1-02',
                            self.start.isoformat(), ''],
                        ]))
            data = run_export(format_='csv')
            self.assertEqual(read_csv(data)[1][0], "'=1+1")
            self.assertEqual(read_xlsx(run_export())[1][0], "=1+1")
            self.assertEqual(run_import(data)['summary'],
                "1 row imported: 0 created, 0 updated, 1 unchanged.")
            account, = User.search([('phone', '=', '13912345678')])
            self.assertEqual(account.display_name, "=1+1")

    @with_transaction()
    def test_import_admins_only(self):
        "Test only user verification admins may import and export"
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Menu = pool.get('ir.ui.menu')
        Import = pool.get('property.sheet.import', type='wizard')
        Export = pool.get('property.sheet.export', type='wizard')
        group = ModelData.get_id(
            'property_community', 'group_verification')
        admin_group = ModelData.get_id(
            'property_community', 'group_verification_admin')
        clerk, admin = User.create([{
                    'login': 'clerk', 'groups': [('add', [group])],
                    }, {
                    'login': 'verification_admin',
                    'groups': [('add', [group, admin_group])],
                    }])
        menus = [ModelData.get_id('property_community', m)
            for m in ['menu_sheet_import', 'menu_sheet_export']]
        for wizard in [Import, Export]:
            with Transaction().set_user(clerk.id):
                with self.assertRaises(AccessError):
                    wizard.create()
            with Transaction().set_user(admin.id):
                wizard.create()
        with Transaction().set_user(clerk.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(Menu.search([('id', 'in', menus)]), [])
        with Transaction().set_user(admin.id), \
                Transaction().set_context(_check_access=True):
            self.assertEqual(
                len(Menu.search([('id', 'in', menus)])), 2)


del ModuleTestCase
