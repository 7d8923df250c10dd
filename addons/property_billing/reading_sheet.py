# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Meter readings from spreadsheets (BILL-2)"
import datetime as dt
from decimal import Decimal, InvalidOperation

from trytond.i18n import gettext
from trytond.model import Model
from trytond.modules.property_community.sheet import MAX_NAME, SheetMixin
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .fee import FEN, IN_MAX

SHEET = 'property.billing.meter.reading.sheet'


class ReadingSheet(SheetMixin, Model):
    "Meter readings"
    __name__ = SHEET

    @classmethod
    def columns(cls):
        return [
            ('estate', False),
            ('meter', True),
            ('date', True),
            ('reading', True),
            ('note', False),
            ]

    @classmethod
    def header_label(cls, key, language=None):
        if key in {'estate', 'meter', 'date', 'reading', 'note'}:
            args = (language,) if language else ()
            return gettext(
                f'property_billing.msg_sheet_column_{key}', *args)
        return super().header_label(key, language=language)

    @classmethod
    def add_error(cls, errors, number, key, message_id, value='',
            **variables):
        if '.' in message_id:
            if isinstance(value, dt.date):
                value = value.isoformat()
            errors.append({
                    'row': number,
                    'column': cls.header_label(key),
                    'value': str(value)[:MAX_NAME],
                    'message': gettext(message_id, **variables),
                    })
        else:
            super().add_error(
                errors, number, key, message_id, value=value, **variables)

    @classmethod
    def parse_reading(cls, errors, number, row, key='reading'):
        value = row.get(key, '')
        if value == '':
            cls.add_error(errors, number, key, 'msg_sheet_required')
            return None
        try:
            reading = Decimal(str(value).replace(',', '').strip())
            if not reading.is_finite() or reading < 0:
                raise InvalidOperation
        except InvalidOperation:
            cls.add_error(errors, number, key,
                'property_billing.msg_sheet_reading_invalid', value=value)
            return None
        if reading != reading.quantize(FEN):
            cls.add_error(errors, number, key,
                'property_billing.msg_sheet_reading_digits', value=value)
            return None
        return reading

    @classmethod
    def meters_by_code(cls, codes):
        "Return the meters of the company by (estate code, meter code)"
        Meter = Pool().get('property.billing.meter')
        company = Transaction().context.get('company')
        meters = {}
        for sub_codes in grouped_slice(sorted(codes), IN_MAX):
            domain = [('code', 'in', list(sub_codes))]
            if company:
                domain.append(('estate.company', '=', company))
            for meter in Meter.search(domain):
                meters.setdefault(meter.code, []).append(meter)
        return meters

    @classmethod
    def parse_rows(cls, rows, errors):
        codes = {str(r.get('meter', '')).strip() for _, r in rows} - {''}
        meters = cls.meters_by_code(codes)
        parsed = []
        for number, row in rows:
            values = {
                'date': cls.parse_date(errors, number, row, 'date'),
                'value': cls.parse_reading(errors, number, row),
                'note': cls.parse_text(
                    errors, number, row, 'note', required=False),
                }
            estate = cls.parse_text(
                errors, number, row, 'estate', required=False)
            code = cls.parse_text(errors, number, row, 'meter')
            if code:
                candidates = meters.get(code, [])
                if estate:
                    candidates = [m for m in candidates
                        if estate in {m.estate.code, m.estate.name}]
                if not candidates:
                    cls.add_error(errors, number, 'meter',
                        'property_billing.msg_sheet_meter_unknown',
                        value=code)
                elif len(candidates) > 1:
                    cls.add_error(errors, number, 'meter',
                        'property_billing.msg_sheet_meter_ambiguous',
                        value=code)
                else:
                    values['meter'], = candidates
            parsed.append((number, values))
        return parsed

    @classmethod
    def check_rows(cls, rows, errors):
        pool = Pool()
        Reading = pool.get('property.billing.meter.reading')
        first = {}
        for number, values in rows:
            key = (values['meter'], values['date'])
            if key in first:
                cls.add_error(errors, number, 'date',
                    'property_billing.msg_sheet_reading_twice',
                    value=values['date'], row=first[key])
            else:
                first[key] = number
        bad = cls._bad(errors)
        rows = [(n, v) for n, v in rows if n not in bad]

        meters = list({v['meter'] for _, v in rows})
        existing = {}
        for sub_meters in grouped_slice(meters, IN_MAX):
            for reading in Reading.search([
                        ('meter', 'in', [m.id for m in sub_meters]),
                        ]):
                existing[reading.meter, reading.date] = reading
        by_meter = {}
        for number, values in rows:
            reading = existing.get((values['meter'], values['date']))
            values['reading'] = reading
            if reading and reading.value != values['value']:
                if reading.billed:
                    cls.add_error(errors, number, 'reading',
                        'property_billing.msg_sheet_reading_billed',
                        value=values['value'])
                    continue
            by_meter.setdefault(values['meter'], []).append(number)

        numbers = {}
        for meter, meter_numbers in by_meter.items():
            row_values = {n: v for n, v in rows if n in set(meter_numbers)}
            readings = {r.date: r for (m, _), r in existing.items()
                if m == meter}
            for number in meter_numbers:
                values = row_values[number]
                reading = Reading(
                    meter=meter, date=values['date'], value=values['value'])
                numbers[id(reading)] = number
                readings[values['date']] = reading
            for record, message in Reading.sequence_errors(
                    meter, list(readings.values())):
                number = numbers.get(id(record))
                if number is None:
                    # an existing reading after a row read too high
                    number = cls._row_before(
                        record, readings, numbers, meter_numbers)
                if number is not None:
                    errors.append({
                            'row': number,
                            'column': cls.header_label('reading'),
                            'value': str(row_values[number]['value']),
                            'message': message,
                            })
        bad = cls._bad(errors)
        return [(n, v) for n, v in rows if n not in bad]

    @staticmethod
    def _row_before(record, readings, numbers, meter_numbers):
        if record is None or not hasattr(record, 'value'):
            return None
        before = [r for r in readings.values()
            if id(r) in numbers and r.date < record.date]
        if before:
            return numbers[id(max(before, key=lambda r: r.date))]
        return None

    @classmethod
    def save_rows(cls, rows):
        Reading = Pool().get('property.billing.meter.reading')
        outcomes, new, to_write = [], [], []
        for number, values in rows:
            reading = values['reading']
            if not reading:
                new.append(Reading(
                        meter=values['meter'], date=values['date'],
                        value=values['value'], note=values['note']))
                outcomes.append('created')
                continue
            update = {}
            if reading.value != values['value']:
                update['value'] = values['value']
            if values['note'] and reading.note != values['note']:
                update['note'] = values['note']
            if update:
                to_write.extend([[reading], update])
            outcomes.append('updated' if update else 'unchanged')
        if to_write:
            Reading.write(*to_write)
        Reading.save(new)
        return outcomes

    @classmethod
    def export_rows(cls, estate=None):
        Reading = Pool().get('property.billing.meter.reading')
        domain = []
        company = Transaction().context.get('company')
        if company:
            domain.append(('meter.estate.company', '=', company))
        if estate:
            domain.append(('meter.estate', '=', int(estate)))
        return [[r.meter.estate.code, r.meter.code, r.date, r.value, r.note]
            for r in Reading.search(domain, order=[
                    ('meter.estate', 'ASC'), ('meter.code', 'ASC'),
                    ('date', 'ASC')])]


class SheetImportStart(metaclass=PoolMeta):
    __name__ = 'property.sheet.import.start'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        kind = ('meter_reading', "Meter Readings")
        if kind not in cls.kind.selection:
            cls.kind.selection.append(kind)

    @classmethod
    def sheets(cls):
        return {**super().sheets(), 'meter_reading': SHEET}
