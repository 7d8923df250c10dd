# This file is part of the property platform.  The COPYRIGHT file at the top
# level of this repository contains the full copyright notices and license terms.
"Billing rules that do not depend on records: periods, payers and days"
import calendar
import datetime as dt
import re
from decimal import Decimal

from trytond.modules.property_community.estate import PAYER_ROLES

from .fee import round_fen

PERIOD = re.compile(r'(\d{4})-(0[1-9]|1[0-2])')


def period_dates(period):
    "Return the first and last day of the period 'YYYY-MM'"
    match = PERIOD.fullmatch(period or '')
    if not match:
        raise ValueError(period)
    year, month = map(int, match.groups())
    return (dt.date(year, month, 1),
        dt.date(year, month, calendar.monthrange(year, month)[1]))


def payer_segments(occupancies, start, end):
    """Return who pays each day from start to end as [(party, first, last)]

    The merchant or tenant occupying the unit pays; the owner pays the days
    without one; days without either are not billed.
    """
    def covers(occupancy, day):
        return (occupancy.start_date <= day
            and (not occupancy.end_date or occupancy.end_date >= day))

    payers = [o for o in occupancies if o.role in PAYER_ROLES]
    owners = sorted((o for o in occupancies if o.role == 'owner'),
        key=lambda o: (o.start_date, o.id or 0))
    segments = []
    day = start
    while day <= end:
        party = next((o.party for o in payers if covers(o, day)), None)
        if party is None:
            party = next((o.party for o in owners if covers(o, day)), None)
        if party is not None:
            if (segments and segments[-1][0] == party
                    and segments[-1][2] == day - dt.timedelta(days=1)):
                segments[-1][2] = day
            else:
                segments.append([party, day, day])
        day += dt.timedelta(days=1)
    return [tuple(s) for s in segments]


def segment_days(segment):
    _, first, last = segment
    return (last - first).days + 1


def split_by_days(amount, days, total_days):
    """Split amount over parts of days out of total_days

    Each part is rounded half up to the fen; when the parts cover all the
    days, the last part takes the rest so that they add up to the rounded
    amount.
    """
    amount = Decimal(amount)
    if sum(days) >= total_days:
        parts = [round_fen(amount * d / total_days) for d in days[:-1]]
        return parts + [round_fen(amount) - sum(parts)]
    return [round_fen(amount * d / total_days) for d in days]
