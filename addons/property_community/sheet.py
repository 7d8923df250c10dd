# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Spreadsheets (CSV and XLSX) to import and export records.

`read_sheet` and `write_sheet` know files; a model with `SheetMixin` knows
rows: its columns, how a cell is parsed and checked, and how the good rows
are saved.  A file with a bad row saves nothing unless bad rows are skipped.
"""
import codecs
import csv
import datetime as dt
import io
import re
import zipfile

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import SheetError

MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_UNZIPPED_SIZE = 100 * 1024 * 1024
MAX_ROWS = 20000
MAX_COLUMNS = 50
MAX_NAME = 100
# Records saved or searched at once; long lists of records are slow
BATCH = 100
PHONE = re.compile(r'1[3-9]\d{9}')
DATE = re.compile(
    r'(\d{4})\s*[-/.\u5e74]\s*(\d{1,2})\s*[-/.\u6708]\s*(\d{1,2})\s*\u65e5?'
    r'(?:[ T]0{1,2}:00(?::00)?)?')
# Spreadsheet programs run cells starting with these as formulas
FORMULA_PREFIXES = ('=', '+', '-', '@')
BOOLEAN_WORDS = {
    'yes': True, 'y': True, 'true': True, '1': True, '\u662f': True,
    'no': False, 'n': False, 'false': False, '0': False, '\u5426': False,
    }
FORMATS = [
    ('xlsx', "Excel (XLSX)"),
    ('csv', "CSV (UTF-8)"),
    ]


def _file_error(message_id, **variables):
    return SheetError(gettext('property_community.' + message_id, **variables))


def read_sheet(data, max_rows=MAX_ROWS, max_size=MAX_FILE_SIZE):
    "Return the non-blank rows of a CSV or XLSX file as (number, cells)"
    if not data:
        raise _file_error('msg_sheet_empty')
    data = bytes(data)
    if len(data) > max_size:
        raise _file_error('msg_sheet_too_large', max=max_size // 2 ** 20)
    if data.startswith(b'PK\x03\x04'):
        rows = _read_xlsx(data)
    elif data.startswith(b'\xd0\xcf\x11\xe0'):
        raise _file_error('msg_sheet_xls')
    else:
        rows = _read_csv(data)
    result = []
    # Blank rows count too so that a file of empty rows cannot run forever
    for number, cells in rows:
        if number > max_rows * 5:
            raise _file_error('msg_sheet_too_many_rows', max=max_rows)
        cells = [_cell(c) for c in cells[:MAX_COLUMNS]]
        if not any(c != '' for c in cells):
            continue
        # the header row is not counted
        if len(result) > max_rows:
            raise _file_error('msg_sheet_too_many_rows', max=max_rows)
        result.append((number, cells))
    if not result:
        raise _file_error('msg_sheet_empty')
    return result


def _cell(value):
    if value is None:
        return ''
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    value = str(value).strip()
    # written by write_sheet to stop spreadsheets running the cell
    if value[:1] == "'" and value[1:2] in FORMULA_PREFIXES:
        value = value[1:]
    return value


def _read_xlsx(data, max_size=MAX_UNZIPPED_SIZE):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            size = sum(i.file_size for i in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _file_error('msg_sheet_unreadable')
    # a small file may unzip to gigabytes
    if size > max_size:
        raise _file_error('msg_sheet_too_large_unzipped',
            max=max_size // 2 ** 20)
    try:
        workbook = load_workbook(
            io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl raises anything from KeyError to XML errors on files that
        # are not workbooks: they are all the same answer for the user
        raise _file_error('msg_sheet_unreadable')
    try:
        sheet = workbook.worksheets[0]
        # the dimension recorded in some files is wrong, read every row
        sheet.reset_dimensions()
        for number, cells in enumerate(
                sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True),
                start=1):
            yield number, list(cells)
    except SheetError:
        raise
    except (zipfile.BadZipFile, IndexError, KeyError, ValueError,
            TypeError, OSError, SyntaxError):
        raise _file_error('msg_sheet_unreadable')
    finally:
        workbook.close()


def _read_csv(data):
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ['utf-16']
    elif b'\x00' in data:
        raise _file_error('msg_sheet_unreadable')
    else:
        # Excel on Chinese Windows saves "CSV" in GB18030 (GBK)
        encodings = ['utf-8-sig', 'gb18030']
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_error('msg_sheet_encoding')
    if any(ord(c) < 32 and c not in '\t\n\r' for c in text):
        raise _file_error('msg_sheet_unreadable')
    first_line = text.lstrip('\r\n').split('\n', 1)[0]
    delimiter = max([',', ';', '\t'], key=first_line.count)
    if not first_line.count(delimiter):
        delimiter = ','
    reader = csv.reader(io.StringIO(text, newline=''), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error:
        raise _file_error('msg_sheet_unreadable')


def _safe_text(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def read_batches(Model, domain, names, order=None, size=1000):
    """Yield the values of names (dotted names allowed) of the records of
    domain in order, read size records at a time, for exports

    The search applies the user's rules; the related names are read as
    records read them, without checking access to their models.  Only the
    ids are kept between batches and no record is instantiated (a record
    of a search costs ~3 KiB until the end)."""
    cursor = Transaction().connection.cursor()
    cursor.execute(*Model.search(domain, order=order, query=True))
    ids = [i for i, in cursor]
    for sub_ids in grouped_slice(ids, size):
        sub_ids = list(sub_ids)
        with without_check_access():
            values = {v['id']: v for v in Model.read(sub_ids, names)}
        for id_ in sub_ids:
            yield values[id_]


def write_sheet(header, rows, format_='xlsx'):
    "Return header and rows as the content of an XLSX or CSV file"
    if format_ == 'csv':
        output = io.StringIO(newline='')
        writer = csv.writer(output)
        writer.writerow(header)
        for row in rows:
            writer.writerow([
                    v.isoformat() if isinstance(v, dt.date)
                    else _safe_text('' if v is None else v)
                    for v in row])
        # the BOM makes Excel read UTF-8
        return output.getvalue().encode('utf-8-sig')
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for i, name in enumerate(header):
        sheet.column_dimensions[get_column_letter(i + 1)].width = max(
            12, len(name) + 4)
    sheet.freeze_panes = 'A2'
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                # text, never a formula
                cell.data_type = 's'
            elif isinstance(value, dt.date):
                cell.number_format = 'yyyy-mm-dd'
            cells.append(cell)
        sheet.append(cells)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def save(Model, records, size=BATCH):
    "Save the records in batches: the ORM is slow on long lists"
    for sub_records in grouped_slice(records, size):
        Model.save(list(sub_records))


def write(Model, args, size=BATCH):
    "Write [records, values, ...] in batches"
    for i in range(0, len(args), 2 * size):
        Model.write(*args[i:i + 2 * size])


def normalize_word(value):
    return re.sub(r'[\s_]+', '', str(value)).lower()


def languages():
    "The codes of the languages whose words a sheet may use"
    Lang = Pool().get('ir.lang')
    codes = {'en', Transaction().language}
    codes.update(l.code for l in Lang.search([('translatable', '=', True)]))
    return sorted(codes)


class SheetMixin:
    "Rows of a spreadsheet: columns, parsing, checks and saving"
    __slots__ = ()

    @classmethod
    def columns(cls):
        "Return the keys of the columns and whether they are required"
        raise NotImplementedError

    @classmethod
    def header_label(cls, key, language=None):
        args = (language,) if language else ()
        return gettext(f'property_community.msg_sheet_column_{key}', *args)

    @classmethod
    def header(cls):
        return [cls.header_label(k) for k, _ in cls.columns()]

    @classmethod
    def read(cls, data):
        "Return the rows of the file as (number, {column key: cell})"
        rows = read_sheet(data)
        (_, header), rows = rows[0], rows[1:]
        names = {}
        codes = languages()
        for key, _ in cls.columns():
            names[normalize_word(key)] = key
            for language in codes:
                names[normalize_word(cls.header_label(key, language))] = key
        positions = {}
        for i, name in enumerate(header):
            key = names.get(normalize_word(name))
            if key is None:
                continue
            if key in positions:
                raise _file_error('msg_sheet_column_twice', column=name)
            positions[key] = i
        missing = [cls.header_label(k) for k, required in cls.columns()
            if required and k not in positions]
        if missing:
            raise _file_error('msg_sheet_missing_columns',
                columns=', '.join(missing))
        if not rows:
            raise _file_error('msg_sheet_empty')
        return [(number, {
                    k: cells[i] if i < len(cells) else ''
                    for k, i in positions.items()})
            for number, cells in rows]

    @classmethod
    def import_file(cls, data, skip_bad_rows=False):
        """Import the rows of the file and return the outcome

        Nothing is saved when a row is bad unless skip_bad_rows is set.
        """
        rows = cls.read(data)
        errors = []
        parsed = cls.parse_rows(rows, errors)
        bad = cls._bad(errors)
        good = cls.check_rows(
            [(n, v) for n, v in parsed if n not in bad], errors)
        bad = cls._bad(errors)
        good = [(n, v) for n, v in good if n not in bad]
        result = {
            'rows': len(rows),
            'errors': sorted(errors, key=lambda e: e['row']),
            'bad': len(cls._bad(errors)),
            'imported': 0,
            'created': 0,
            'updated': 0,
            'unchanged': 0,
            }
        if errors and not skip_bad_rows:
            return result
        outcomes = cls.save_rows(good)
        result['imported'] = len(good)
        for outcome in outcomes:
            result[outcome] += 1
        return result

    @classmethod
    def export_file(cls, format_='xlsx', **filters):
        return write_sheet(cls.header(), cls.export_rows(**filters), format_)

    @classmethod
    def parse_rows(cls, rows, errors):
        "Return the rows as (number, values) and add cell errors to errors"
        raise NotImplementedError

    @classmethod
    def check_rows(cls, rows, errors):
        "Add the errors between rows or against the database to errors"
        return rows

    @classmethod
    def save_rows(cls, rows):
        "Save the good rows and return created, updated or unchanged of each"
        raise NotImplementedError

    @classmethod
    def export_rows(cls, **filters):
        raise NotImplementedError

    @staticmethod
    def _bad(errors):
        return {e['row'] for e in errors}

    @classmethod
    def add_error(cls, errors, number, key, message_id, value='',
            **variables):
        if isinstance(value, dt.date):
            value = value.isoformat()
        errors.append({
                'row': number,
                'column': cls.header_label(key),
                'value': str(value)[:MAX_NAME],
                'message': gettext(
                    f'property_community.{message_id}', **variables),
                })

    @classmethod
    def parse_text(cls, errors, number, row, key, required=True,
            max_length=MAX_NAME):
        value = row.get(key, '')
        if isinstance(value, dt.date):
            value = value.isoformat()
        value = ' '.join(str(value).split())
        if not value:
            if required:
                cls.add_error(errors, number, key, 'msg_sheet_required')
            return None
        if len(value) > max_length:
            cls.add_error(errors, number, key, 'msg_sheet_too_long',
                value=value[:20] + '...', max=max_length)
            return None
        return value

    @classmethod
    def parse_phone(cls, errors, number, row, key='phone'):
        value = row.get(key, '')
        if value == '':
            cls.add_error(errors, number, key, 'msg_sheet_required')
            return None
        phone = re.sub(r'[\s\-()]', '', str(value))
        phone = re.sub(r'^(\+86|0086|86)(?=1\d{10}$)', '', phone)
        if not PHONE.fullmatch(phone):
            cls.add_error(errors, number, key, 'msg_sheet_phone_invalid',
                value=value)
            return None
        return phone

    @classmethod
    def parse_date(cls, errors, number, row, key, required=True):
        value = row.get(key, '')
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if value == '':
            if required:
                cls.add_error(errors, number, key, 'msg_sheet_required')
            return None
        value = str(value)
        match = DATE.fullmatch(value) or re.fullmatch(
            r'(\d{4})(\d{2})(\d{2})', value)
        try:
            if not match:
                raise ValueError
            return dt.date(*map(int, match.groups()))
        except ValueError:
            cls.add_error(errors, number, key, 'msg_sheet_date_invalid',
                value=value)
            return None

    @classmethod
    def boolean_words(cls):
        words = dict(BOOLEAN_WORDS)
        for language in languages():
            words[normalize_word(gettext(
                        'property_community.msg_sheet_yes', language))] = True
            words[normalize_word(gettext(
                        'property_community.msg_sheet_no', language))] = False
        return words

    @classmethod
    def parse_boolean(cls, errors, number, row, key, words, default=True):
        value = row.get(key, '')
        if isinstance(value, bool):
            return value
        if value == '':
            return default
        try:
            return words[normalize_word(value)]
        except KeyError:
            cls.add_error(errors, number, key, 'msg_sheet_boolean_invalid',
                value=value)
            return None
