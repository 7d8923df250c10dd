# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
from trytond import backend
from trytond.pool import Pool, PoolMeta
from trytond.tools import grouped_slice


class Party(metaclass=PoolMeta):
    __name__ = 'party.party'

    @classmethod
    def find_by_phones(cls, phones):
        "Return the active party of each mainland mobile phone, if any"
        ContactMechanism = Pool().get('party.contact_mechanism')
        parties = {}
        for sub_phones in grouped_slice(
                sorted(set(phones)), backend.MAX_QUERY_PARAMS):
            sub_phones = list(sub_phones)
            for mechanism in ContactMechanism.search([
                        ('type', 'in', ['mobile', 'phone']),
                        ['OR',
                            ('value', 'in', sub_phones),
                            ('value_compact', 'in', sub_phones),
                            ('value_compact', 'in',
                                ['+86' + p for p in sub_phones]),
                            ],
                        ('party.active', '=', True),
                        ], order=[('party', 'ASC')]):
                phone = mechanism.value_compact or mechanism.value
                parties.setdefault(phone.removeprefix('+86'), mechanism.party)
        return parties

    @classmethod
    def create_with_phone(cls, name, phone):
        party = cls(name=name, contact_mechanisms=[{
                    'type': 'mobile', 'value': phone}])
        party.save()
        return party
