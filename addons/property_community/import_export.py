# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Merchants, tenants and technicians to and from spreadsheets (ACC-3, ACC-6)"
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Model
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .estate import PAYER_ROLES
from .sheet import BATCH, SheetMixin, languages, normalize_word, save, write

# Words people type in Chinese sheets, accepted whatever the language of the
# back-office user (the translated labels are accepted as well).
ROLE_WORDS = {
    '\u5546\u5bb6': 'merchant',
    '\u5546\u6237': 'merchant',
    '\u79df\u5ba2': 'tenant',
    '\u79df\u6237': 'tenant',
    }


class AccountSheetMixin(SheetMixin):
    "Rows of mini-program accounts, found by phone"
    __slots__ = ()

    @classmethod
    def accounts_by_phone(cls, phones):
        "Return the active accounts with a role (not guests) by phone"
        User = Pool().get('web.user')
        accounts = {}
        for sub_phones in grouped_slice(sorted(phones), BATCH):
            for account in User.search([
                        ('phone', 'in', list(sub_phones)),
                        ('front_role', '!=', 'guest'),
                        ], order=[('id', 'ASC')]):
                accounts.setdefault(account.phone, []).append(account)
        return accounts

    @classmethod
    def role_label(cls, role):
        User = Pool().get('web.user')
        return dict(User.fields_get(
                ['front_role'])['front_role']['selection'])[role]


class OccupancySheet(AccountSheetMixin, Model):
    "Merchants and tenants with the units they occupy"
    __name__ = 'property.occupancy.sheet'

    @classmethod
    def columns(cls):
        return [
            ('name', True),
            ('phone', True),
            ('role', True),
            ('unit', True),
            ('start_date', True),
            ('end_date', False),
            ]

    @classmethod
    def role_words(cls):
        Occupancy = Pool().get('property.occupancy')
        words = dict(ROLE_WORDS)
        for role in PAYER_ROLES:
            words[role] = role
        for language in languages():
            with Transaction().set_context(language=language):
                selection = Occupancy.fields_get(['role'])['role']['selection']
            for role, label in selection:
                if role in PAYER_ROLES:
                    words[normalize_word(label)] = role
        return words

    @classmethod
    def units_by_code(cls, codes):
        Unit = Pool().get('property.unit')
        company = Transaction().context.get('company')
        units = {}
        for sub_codes in grouped_slice(sorted(codes), BATCH):
            domain = [('full_code', 'in', list(sub_codes))]
            if company:
                domain.append(('building.estate.company', '=', company))
            for unit in Unit.search(domain):
                units[unit.full_code] = unit
        return units

    @classmethod
    def parse_rows(cls, rows, errors):
        words = cls.role_words()
        codes = {str(r.get('unit', '')).strip() for _, r in rows} - {''}
        units = cls.units_by_code(codes | {c.upper() for c in codes})
        parsed = []
        for number, row in rows:
            values = {
                'name': cls.parse_text(errors, number, row, 'name'),
                'phone': cls.parse_phone(errors, number, row),
                'start_date': cls.parse_date(
                    errors, number, row, 'start_date'),
                'end_date': cls.parse_date(
                    errors, number, row, 'end_date', required=False),
                }
            role = row.get('role', '')
            if role == '':
                cls.add_error(errors, number, 'role', 'msg_sheet_required')
            elif normalize_word(role) not in words:
                cls.add_error(errors, number, 'role', 'msg_sheet_role_invalid',
                    value=role, roles=', '.join(
                        cls.role_label(r) for r in sorted(PAYER_ROLES)))
            else:
                values['role'] = words[normalize_word(role)]
            code = cls.parse_text(errors, number, row, 'unit')
            if code:
                unit = units.get(code) or units.get(code.upper())
                if not unit:
                    cls.add_error(errors, number, 'unit',
                        'msg_sheet_unit_unknown', value=code)
                elif not unit.leasable:
                    cls.add_error(errors, number, 'unit',
                        'msg_sheet_unit_not_leasable', value=code)
                else:
                    values['unit'] = unit
            if (values['start_date'] and values['end_date']
                    and values['end_date'] < values['start_date']):
                cls.add_error(errors, number, 'end_date',
                    'msg_sheet_end_before_start', value=values['end_date'])
            parsed.append((number, values))
        return parsed

    @staticmethod
    def _overlap(a, b):
        far = dt.date.max
        return (a['start_date'] <= (b['end_date'] or far)
            and b['start_date'] <= (a['end_date'] or far))

    @classmethod
    def check_rows(cls, rows, errors):
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        first = {}
        by_unit = {}
        for number, values in rows:
            phone = values['phone']
            if phone in first:
                other_number, other = first[phone]
                if other['name'] != values['name']:
                    cls.add_error(errors, number, 'name',
                        'msg_sheet_phone_other_name', value=values['name'],
                        phone=phone, row=other_number)
                    continue
            else:
                first[phone] = number, values
            for other_number, other in by_unit.get(values['unit'], []):
                if cls._overlap(values, other):
                    cls.add_error(errors, number, 'unit',
                        'msg_sheet_overlap_row', value=values['unit'].rec_name,
                        row=other_number)
                    break
            else:
                by_unit.setdefault(values['unit'], []).append(
                    (number, values))

        bad = cls._bad(errors)
        rows = [(n, v) for n, v in rows if n not in bad]
        accounts = cls.accounts_by_phone({v['phone'] for _, v in rows})
        parties = cls.parties_by_phone(
            {v['phone'] for _, v in rows}, accounts)
        occupancies = {}
        for sub_units in grouped_slice(
                list({v['unit'] for _, v in rows}), BATCH):
            for occupancy in Occupancy.search([
                        ('unit', 'in', [u.id for u in sub_units]),
                        ('role', 'in', list(PAYER_ROLES)),
                        ]):
                occupancies.setdefault(occupancy.unit, []).append(occupancy)
        for number, values in rows:
            phone = values['phone']
            others = [a for a in accounts.get(phone, [])
                if a.front_role not in PAYER_ROLES]
            if others:
                cls.add_error(errors, number, 'phone',
                    'msg_sheet_phone_other_role', value=phone, phone=phone,
                    role=cls.role_label(others[0].front_role))
                continue
            values['account'] = next(iter(accounts.get(phone, [])), None)
            values['party'] = parties.get(phone)
            overlapping = [o for o in occupancies.get(values['unit'], [])
                if cls._overlap(values, {
                        'start_date': o.start_date, 'end_date': o.end_date})]
            own = [o for o in overlapping if o.party == values['party']]
            others = [o for o in overlapping if o.party != values['party']]
            if others:
                cls.add_error(errors, number, 'unit',
                    'msg_occupancy_overlap', value=values['unit'].rec_name,
                    unit=values['unit'].rec_name,
                    other=others[0].party.rec_name)
            elif len(own) > 1:
                cls.add_error(errors, number, 'unit',
                    'msg_sheet_lease_ambiguous',
                    value=values['unit'].rec_name)
            else:
                values['occupancy'] = next(iter(own), None)
        return rows

    @classmethod
    def parties_by_phone(cls, phones, accounts):
        "Return the party of the account or the contact of each phone"
        Party = Pool().get('party.party')
        parties = {}
        for phone in phones:
            for account in accounts.get(phone, []):
                if account.party and account.front_role in PAYER_ROLES:
                    parties.setdefault(phone, account.party)
        for phone, party in Party.find_by_phones(
                set(phones) - set(parties)).items():
            parties.setdefault(phone, party)
        return parties

    @classmethod
    def save_rows(cls, rows):
        pool = Pool()
        Party = pool.get('party.party')
        User = pool.get('web.user')
        Occupancy = pool.get('property.occupancy')

        people = {}
        for number, values in rows:
            people.setdefault(values['phone'], values)
        new_parties = {phone: Party(name=v['name'], contact_mechanisms=[{
                        'type': 'mobile', 'value': phone}])
            for phone, v in people.items() if not v['party']}
        save(Party, list(new_parties.values()))

        changed = set()
        new_accounts, to_write = [], []
        for phone, values in people.items():
            party = values['party'] or new_parties[phone]
            account = values['account']
            if not account:
                new_accounts.append(User(
                        phone=phone, display_name=values['name'],
                        front_role=values['role'], party=party))
                changed.add(phone)
                continue
            update = {}
            if account.display_name != values['name']:
                update['display_name'] = values['name']
            if account.front_role != values['role']:
                update['front_role'] = values['role']
            if not account.party:
                update['party'] = party.id
            if update:
                to_write.extend([[account], update])
                changed.add(phone)
        save(User, new_accounts)
        write(User, to_write)

        outcomes, new_occupancies, to_write = [], [], []
        for number, values in rows:
            occupancy = values['occupancy']
            party = values['party'] or new_parties[values['phone']]
            update = {k: values[k] for k in ['role', 'start_date', 'end_date']}
            if not occupancy:
                new_occupancies.append(Occupancy(
                        unit=values['unit'], party=party, **update))
                outcomes.append('created')
                continue
            update = {k: v for k, v in update.items()
                if getattr(occupancy, k) != v}
            if update:
                to_write.extend([[occupancy], update])
            outcomes.append('updated' if update or values['phone'] in changed
                else 'unchanged')
        write(Occupancy, to_write)
        save(Occupancy, new_occupancies)
        return outcomes

    @classmethod
    def export_rows(cls, estate=None):
        pool = Pool()
        Occupancy = pool.get('property.occupancy')
        User = pool.get('web.user')
        domain = [
            ('current', '=', True),
            ('role', 'in', list(PAYER_ROLES)),
            ]
        company = Transaction().context.get('company')
        if company:
            domain.append(('unit.building.estate.company', '=', company))
        if estate:
            domain.append(('unit.building.estate', '=', int(estate)))
        occupancies = Occupancy.search(domain,
            order=[('unit.full_code', 'ASC'), ('start_date', 'ASC')])
        labels = dict(Occupancy.fields_get(['role'])['role']['selection'])
        rows = []
        for sub_occupancies in grouped_slice(occupancies, BATCH):
            sub_occupancies = Occupancy.browse(sub_occupancies)
            accounts = {}
            for account in User.search([
                        ('party', 'in', [o.party.id for o in sub_occupancies]),
                        ('front_role', 'in', list(PAYER_ROLES)),
                        ], order=[('id', 'DESC')]):
                accounts[account.party] = account
            for occupancy in sub_occupancies:
                party = occupancy.party
                account = accounts.get(party)
                phone = ((account.phone if account else None)
                    or cls._party_phone(party))
                rows.append([
                        (account.display_name if account else None)
                        or party.name,
                        phone,
                        labels[occupancy.role],
                        occupancy.unit.full_code,
                        occupancy.start_date,
                        occupancy.end_date,
                        ])
        return rows

    @staticmethod
    def _party_phone(party):
        for mechanism in party.contact_mechanisms:
            if mechanism.type in {'mobile', 'phone'}:
                phone = (mechanism.value_compact or mechanism.value or '')
                return phone.removeprefix('+86')


class TechnicianSheet(AccountSheetMixin, Model):
    "Technician accounts"
    __name__ = 'property.technician.sheet'

    @classmethod
    def columns(cls):
        return [
            ('name', True),
            ('phone', True),
            ('active', False),
            ]

    @classmethod
    def parse_rows(cls, rows, errors):
        words = cls.boolean_words()
        return [(number, {
                    'name': cls.parse_text(errors, number, row, 'name'),
                    'phone': cls.parse_phone(errors, number, row),
                    'active': cls.parse_boolean(
                        errors, number, row, 'active', words),
                    })
            for number, row in rows]

    @classmethod
    def check_rows(cls, rows, errors):
        first = {}
        for number, values in rows:
            phone = values['phone']
            if phone in first:
                cls.add_error(errors, number, 'phone',
                    'msg_sheet_phone_duplicate', value=phone, phone=phone,
                    row=first[phone])
            else:
                first[phone] = number
        accounts = cls.accounts_by_phone(set(first))
        for number, values in rows:
            others = [a for a in accounts.get(values['phone'], [])
                if a.front_role != 'technician']
            if others:
                phone = values['phone']
                cls.add_error(errors, number, 'phone',
                    'msg_sheet_phone_other_role', value=phone, phone=phone,
                    role=cls.role_label(others[0].front_role))
        return rows

    @classmethod
    def save_rows(cls, rows):
        User = Pool().get('web.user')
        technicians = {}
        with Transaction().set_context(active_test=False):
            for sub_rows in grouped_slice(rows, BATCH):
                for account in User.search([
                            ('phone', 'in', [v['phone'] for _, v in sub_rows]),
                            ('front_role', '=', 'technician'),
                            ], order=[('active', 'ASC'), ('id', 'DESC')]):
                    # the active and oldest account wins
                    technicians[account.phone] = account
        outcomes, new, to_write = [], [], []
        for number, values in rows:
            account = technicians.get(values['phone'])
            if not account:
                new.append(User(
                        phone=values['phone'], display_name=values['name'],
                        active=values['active'], front_role='technician'))
                outcomes.append('created')
                continue
            update = {}
            if account.display_name != values['name']:
                update['display_name'] = values['name']
            if account.active != values['active']:
                update['active'] = values['active']
            if update:
                to_write.extend([[account], update])
            outcomes.append('updated' if update else 'unchanged')
        save(User, new)
        write(User, to_write)
        return outcomes

    @classmethod
    def export_rows(cls):
        User = Pool().get('web.user')
        yes = gettext('property_community.msg_sheet_yes')
        no = gettext('property_community.msg_sheet_no')
        with Transaction().set_context(active_test=False):
            technicians = User.search([
                    ('front_role', '=', 'technician'),
                    ], order=[('display_name', 'ASC'), ('id', 'ASC')])
        rows = []
        for sub_technicians in grouped_slice(technicians, BATCH):
            rows.extend([t.display_name, t.phone, yes if t.active else no]
                for t in User.browse(sub_technicians))
        return rows
