#!/usr/bin/env python3
# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"""Load deterministic Chinese demo data into a Tryton database.

    python -O scripts/demo_data.py -c config/trytond-demo.conf -d demo
    python -O scripts/demo_data.py -c CONF -d bench --units 10000

Runs inside a trytond transaction through the ORM (no RPC).  The same seed
and size always give the same estates, units, parties, occupancies and
accounts.  Running it again on a database that has the data only refreshes
the back-office set-up (language, admin groups, staff users, configuration
wizards) and creates nothing twice.  Run it with `python -O`: trytond checks
record id lists with asserts that cost quadratic time on large batches.
"""
import argparse
import datetime as dt
import json
import pathlib
import random
import sys
import time
from decimal import Decimal
from itertools import zip_longest

VOCABULARY = pathlib.Path(__file__).with_name('demo_vocabulary.json')
LANGUAGE = 'zh_CN'
BATCH = 500


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-c', '--config', help="trytond configuration file")
    parser.add_argument('-d', '--database', required=True)
    parser.add_argument('--units', type=int, default=2000,
        help="number of units over all estates (default 2000)")
    parser.add_argument('--estates', type=int, default=2,
        help="number of estates, alternately office park and residential")
    parser.add_argument('--accounts', type=int, default=24,
        help="number of mini-program accounts of all roles (default 24)")
    parser.add_argument('--seed', default='2024',
        help="seed of the generator (same seed, same data)")
    args = parser.parse_args(argv)
    if args.units < 10 * args.estates:
        parser.error("give at least 10 units per estate")
    return args


def batched(values, size=BATCH):
    for i in range(0, len(values), size):
        yield values[i:i + size]


class Names:
    "Chinese names, mobile numbers and company names, unique per run"

    def __init__(self, words, rng, used_phones=()):
        self.words = words
        self.rng = rng
        self.phones = set(used_phones)
        self.companies = set()

    def person(self):
        return (self.rng.choice(self.words['surnames'])
            + self.rng.choice(self.words['given_names']))

    def mobile(self):
        while True:
            phone = (self.rng.choice(self.words['mobile_prefixes'])
                + f'{self.rng.randrange(10 ** 8):08d}')
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def company(self):
        words = self.words
        for _ in range(1000):
            name = (self.rng.choice(words['company_prefixes'])
                + self.rng.choice(words['company_trades'])
                + words['company_suffix'])
            if name not in self.companies:
                break
        else:
            name = f'{name}{len(self.companies)}'
        self.companies.add(name)
        return name

    def shop(self):
        words = self.words
        name = words['shop_style'].format(
            surname=self.rng.choice(words['surnames']),
            kind=self.rng.choice(words['shop_kinds']))
        if name in self.companies:
            name = self.rng.choice(words['company_prefixes']) + name
        self.companies.add(name)
        return name


def area(rng, low, high):
    return Decimal(str(rng.uniform(low, high))).quantize(Decimal('0.01'))


def estate_layout(spec, size, words, rng):
    """Return the buildings of an estate as dicts with their units.

    An office park has towers of shops (floors 1-2) and offices, a
    residential compound has buildings of apartments with shops on the
    ground floor of every other building; both have an underground garage
    and public areas.
    """
    kind = spec['kind']
    public_names = words['public_areas'][kind][:max(1, min(6, size // 100))]
    parking = max(2, size * 15 // 100)
    rest = size - parking - len(public_names)
    buildings = []
    number = 0
    while rest > 0:
        number += 1
        if kind == 'office_park':
            names = words['office_buildings']
            name = (names[number - 1] if number <= len(names)
                else words['tower_style'].format(n=number))
            code = (name[0] if number <= len(names) else f'T{number}')
            floors, per_floor = 20, 10
        else:
            name = words['residential_style'].format(n=number)
            code = f'{number:02d}'
            floors, per_floor = 18, 4
        units = []
        for floor in range(1, floors + 1):
            for n in range(1, per_floor + 1):
                if len(units) >= rest:
                    break
                if kind == 'office_park':
                    type_ = 'shop' if floor <= 2 else 'office'
                    surface = (area(rng, 30, 180) if type_ == 'shop'
                        else area(rng, 80, 320))
                    code_ = f'{floor}{n:02d}'
                elif floor == 1 and number % 2 and n <= 2:
                    type_, surface = 'shop', area(rng, 40, 150)
                    code_ = f'S{n:02d}'
                else:
                    type_ = 'apartment'
                    surface = (rng.choice(
                            [59.8, 75.6, 89.3, 98.5, 118.2, 143.7])
                        + rng.choice([0, 0.4, 1.1, 2.3]))
                    surface = Decimal(str(surface)).quantize(Decimal('0.01'))
                    code_ = f'{floor}{n:02d}'
                units.append({
                        'code': code_, 'type': type_, 'floor': floor,
                        'area': surface})
        rest -= len(units)
        buildings.append({
                'code': code, 'name': name, 'floors': floors,
                'units': units})
    buildings[0]['units'].extend({
            'code': name, 'type': 'public', 'floor': 1,
            'area': area(rng, 60, 600),
            } for name in public_names)
    buildings.append({
            'code': 'PK', 'name': words['garage'], 'floors': None,
            'units': [{
                    'code': f'B{1 + i // 500}-{1 + i % 500:03d}',
                    'type': 'parking', 'floor': -1 - i // 500,
                    'area': Decimal('12.50'),
                    } for i in range(parking)],
            })
    return buildings


class Loader:
    def __init__(self, pool, words, seed):
        self.pool = pool
        self.words = words
        self.seed = seed
        self.today = dt.date.today()
        self.counts = dict.fromkeys([
                'estates', 'buildings', 'units', 'parties', 'occupancies',
                'accounts'], 0)
        self.payers = []  # (party id, role) of current merchants and tenants

    def rng(self, name):
        return random.Random(f'{self.seed}:{name}')

    # Back-office set-up: cheap, run every time.

    def setup_language(self):
        pool = self.pool
        Lang = pool.get('ir.lang')
        Configuration = pool.get('ir.configuration')
        lang, = Lang.search([('code', '=', LANGUAGE)])
        if not lang.translatable:
            Lang.write([lang], {'translatable': True})
        configuration = Configuration(1)
        if configuration.language != LANGUAGE:
            configuration.language = LANGUAGE
            configuration.save()
        return lang

    def setup_company(self):
        pool = self.pool
        Company = pool.get('company.company')
        Currency = pool.get('currency.currency')
        Party = pool.get('party.party')
        companies = Company.search([], order=[('id', 'ASC')], limit=1)
        if companies:
            return companies[0]
        currencies = Currency.search([('code', '=', 'CNY')])
        if currencies:
            currency, = currencies
        else:
            currency, = Currency.create([{
                        'name': self.words['currency']['name'],
                        'code': 'CNY', 'numeric_code': '156',
                        'symbol': self.words['currency']['symbol'],
                        'rounding': Decimal('0.01'), 'digits': 2,
                        }])
        spec = self.words['company']
        party, = Party.create([{
                    'name': spec['name'],
                    'contact_mechanisms': [('create', [{
                                    'type': 'phone', 'value': spec['phone'],
                                    }])],
                    }])
        company, = Company.create([{
                    'party': party.id, 'currency': currency.id,
                    'timezone': 'Asia/Shanghai',
                    }])
        return company

    def property_groups(self):
        ModelData = self.pool.get('ir.model.data')
        return [d.db_id for d in ModelData.search([
                    ('module', 'like', 'property_%'),
                    ('model', '=', 'res.group'),
                    ])]

    def setup_users(self, company, lang):
        pool = self.pool
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        admin, = User.search([('login', '=', 'admin')])
        User.write([admin], {
                'language': lang.id,
                'companies': [('add', [company.id])],
                'company': company.id,
                'groups': [('add', self.property_groups())],
                })
        for spec in self.words['staff']:
            if User.search([('login', '=', spec['login'])]):
                continue
            groups = [ModelData.get_id(*g.split('.', 1))
                for g in spec['groups']]
            User.create([{
                        'login': spec['login'], 'name': spec['name'],
                        'password': spec['password'], 'language': lang.id,
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        'groups': [('add', groups)],
                        }])

    def close_config_wizards(self):
        Item = self.pool.get('ir.module.config_wizard.item')
        Item.write(Item.search([('state', '!=', 'done')]), {'state': 'done'})

    # Estates, parties, occupancies and accounts: created once.

    def load_estates(self, company, count, units):
        pool = self.pool
        Estate = pool.get('property.estate')
        ContactMechanism = pool.get('party.contact_mechanism')
        specs = [self.words['estates'][i % len(self.words['estates'])]
            for i in range(count)]
        for i, spec in enumerate(specs):
            if i >= len(self.words['estates']):
                round_ = i // len(self.words['estates']) + 1
                specs[i] = dict(spec, code=f"{spec['code']}{round_}",
                    name=self.words['phase_style'].format(
                        name=spec['name'], n=round_))
        existing = {e.code for e in Estate.search([
                    ('code', 'in', [s['code'] for s in specs]),
                    ('company', '=', company.id),
                    ])}
        used_phones = {c.value for c in ContactMechanism.search([
                    ('type', '=', 'mobile')])}
        names = Names(self.words, self.rng('names'), used_phones)
        created = []
        for i, spec in enumerate(specs):
            size = units // count + (1 if i < units % count else 0)
            if spec['code'] in existing:
                continue
            created.append(self.load_estate(company, spec, size, names))
        return created, names

    def load_estate(self, company, spec, size, names):
        pool = self.pool
        Estate = pool.get('property.estate')
        Building = pool.get('property.building')
        Unit = pool.get('property.unit')
        rng = self.rng(spec['code'])
        estate, = Estate.create([{
                    'code': spec['code'], 'name': spec['name'],
                    'kind': spec['kind'], 'company': company.id,
                    'address': spec['address'], 'phone': spec['phone'],
                    }])
        layout = estate_layout(spec, size, self.words, rng)
        buildings = Building.create([{
                    'estate': estate.id, 'code': b['code'],
                    'name': b['name'], 'floors': b['floors'],
                    } for b in layout])
        units = []
        for building, plan in zip(buildings, layout):
            values = [dict(u, building=building.id,
                    full_code=f"{spec['code']}-{plan['code']}-{u['code']}")
                for u in plan['units']]
            for batch in batched(values):
                units.extend(Unit.create(batch))
        self.counts['estates'] += 1
        self.counts['buildings'] += len(buildings)
        self.counts['units'] += len(units)
        self.occupy(spec['kind'], units, names, rng)
        return estate

    def occupy(self, kind, units, names, rng):
        "Create the parties and their occupancies of the units"
        pool = self.pool
        Party = pool.get('party.party')
        Occupancy = pool.get('property.occupancy')
        today = self.today
        parties = []     # party values
        occupancies = []  # (party index, unit, role, start, end)

        def new_party(name, mobile=None):
            parties.append({
                    'name': name,
                    'contact_mechanisms': [('create', [{
                                    'type': 'mobile',
                                    'value': mobile or names.mobile(),
                                    }])],
                    })
            return len(parties) - 1

        def since(years):
            return today - dt.timedelta(days=rng.randrange(30, 365 * years))

        def lease(start):
            "A lease of whole years that runs past today"
            years = max(1, (today - start).days // 365 + rng.choice([1, 2]))
            return start + dt.timedelta(days=365 * years - 1)

        by_type = {}
        for unit in units:
            by_type.setdefault(unit.type, []).append(unit)
        payers = []
        if kind == 'office_park':
            offices = by_type.get('office', [])
            i = 0
            while i < len(offices):
                take = rng.choice([1, 1, 1, 2, 2, 3, 4])
                if rng.random() < 0.75:
                    party = new_party(names.company())
                    start = since(5)
                    for unit in offices[i:i + take]:
                        occupancies.append(
                            (party, unit, 'merchant', start, lease(start)))
                    payers.append((party, 'merchant'))
                i += take
            for unit in by_type.get('shop', []):
                if rng.random() < 0.85:
                    party = new_party(names.shop())
                    start = since(4)
                    occupancies.append(
                        (party, unit, 'merchant', start, lease(start)))
                    payers.append((party, 'merchant'))
            spaces = by_type.get('parking', [])
            for unit in spaces[:int(len(spaces) * 0.4)]:
                if payers:
                    party, role = rng.choice(payers)
                    start = since(3)
                    occupancies.append(
                        (party, unit, role, start, lease(start)))
        else:
            owners = []
            for unit in by_type.get('apartment', []):
                if rng.random() >= 0.85:
                    continue
                owner = new_party(names.person())
                owners.append(owner)
                occupancies.append((owner, unit, 'owner', since(12), None))
                if rng.random() < 0.2:
                    start = since(2)
                    if rng.random() < 0.25:
                        # An earlier tenant who left: history is kept.
                        left = today - dt.timedelta(days=rng.randrange(
                                1100, 1500))
                        occupancies.append((new_party(names.person()), unit,
                                'tenant', left,
                                left + dt.timedelta(days=364)))
                        start = since(1)
                    tenant = new_party(names.person())
                    occupancies.append(
                        (tenant, unit, 'tenant', start, lease(start)))
                    payers.append((tenant, 'tenant'))
            for unit in by_type.get('shop', []):
                if rng.random() < 0.8:
                    party = new_party(names.shop())
                    start = since(4)
                    occupancies.append(
                        (party, unit, 'merchant', start, lease(start)))
                    payers.append((party, 'merchant'))
            spaces = by_type.get('parking', [])
            for unit in spaces[:int(len(spaces) * 0.5)]:
                if owners:
                    occupancies.append(
                        (rng.choice(owners), unit, 'owner', since(8), None))
        party_ids = []
        for batch in batched(parties):
            party_ids.extend(p.id for p in Party.create(batch))
        values = [{
                'party': party_ids[p], 'unit': unit.id, 'role': role,
                'start_date': start, 'end_date': end,
                } for p, unit, role, start, end in occupancies]
        for batch in batched(values):
            Occupancy.create(batch)
        self.counts['parties'] += len(party_ids)
        self.counts['occupancies'] += len(values)
        self.payers.extend((party_ids[p], role) for p, role in payers)

    def load_accounts(self, total, names):
        "Mini-program accounts of every role, for the dev sign-in picker"
        pool = self.pool
        User = pool.get('web.user')
        Party = pool.get('party.party')
        rng = self.rng('accounts')
        staff = max(2, total // 8)
        values = []
        for role in ['guest', 'technician']:
            for _ in range(staff):
                values.append({
                        'display_name': names.person(), 'front_role': role,
                        'phone': names.mobile(),
                        })
        payers = {role: [p for p, r in self.payers if r == role]
            for role in ['merchant', 'tenant']}
        for role in payers:
            rng.shuffle(payers[role])
        while len(values) < total and any(payers.values()):
            for role, parties in payers.items():
                if not parties or len(values) >= total:
                    continue
                party = Party(parties.pop())
                mobile = next((c.value for c in party.contact_mechanisms
                        if c.type == 'mobile'), None) or names.mobile()
                values.append({
                        'display_name': party.name, 'front_role': role,
                        'party': party.id, 'phone': mobile,
                        })
        # One account of each role after the other, so that the first
        # entries of the dev sign-in picker cover every role.
        by_role = {}
        for value in values:
            by_role.setdefault(value['front_role'], []).append(value)
        values = [v for group in zip_longest(*by_role.values())
            for v in group if v]
        for batch in batched(values):
            User.create(batch)
        self.counts['accounts'] += len(values)


def load(pool, units=2000, estates=2, accounts=24, seed='2024'):
    "Load the demo data in the current transaction and return the counts"
    from trytond.transaction import Transaction
    words = json.loads(VOCABULARY.read_text(encoding='utf-8'))
    loader = Loader(pool, words, seed)
    with Transaction().set_context(language=LANGUAGE, active_test=False):
        lang = loader.setup_language()
        company = loader.setup_company()
        loader.setup_users(company, lang)
        loader.close_config_wizards()
    with Transaction().set_context(
            language=LANGUAGE, company=company.id, companies=[company.id]):
        created, names = loader.load_estates(company, estates, units)
        if created:
            loader.load_accounts(accounts, names)
    return loader.counts


def load_billing(pool, database, seed='2024'):
    "The billing demo data when property_billing is activated (own transaction)"
    import demo_billing
    return demo_billing.load_database(
        pool, database, seed=seed, language=LANGUAGE)


def main(argv=None):
    args = parse_args(argv)
    from trytond import config
    if args.config:
        config.update_etc(args.config)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    started = time.monotonic()
    Pool.start()
    pool = Pool(args.database)
    with Transaction().start(args.database, 0, readonly=True):
        pool.init()
    with Transaction().start(args.database, 0, context={
                'language': LANGUAGE}):
        counts = load(pool, units=args.units,
            estates=args.estates, accounts=args.accounts, seed=args.seed)
    counts.update(load_billing(pool, args.database, seed=args.seed))
    print("demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items())
        + f" in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
