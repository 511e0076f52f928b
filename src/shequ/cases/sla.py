"""Time limits (时限): working-day arithmetic honouring weekends, public holidays and 调休 working days.

A day is a working day when it is Monday–Friday, unless a ``Holiday`` row says otherwise: a holiday
(``working`` = False) is a day off even on a weekday, a 调休 row (``working`` = True) makes a Saturday
or Sunday a working day. Deadlines keep the local time of day of their start: Friday 17:00 plus one
working day is Monday 17:00; a start on a day off counts from the next working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from shequ.cases.models import Holiday

Calendar = Mapping[dt.date, bool]


def load_holidays(*, start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """The ``Holiday`` rows between two dates as {date: working}."""
    return dict(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "working"))


def is_working_day(day: dt.date, *, holidays: Calendar) -> bool:
    if day in holidays:
        return bool(holidays[day])
    return day.weekday() < 5


def _calendar(start: dt.date, days: float, holidays: Calendar | None) -> Calendar:
    if holidays is not None:
        return holidays
    # Long enough for any run of holidays (the Spring Festival is 9 days) between the working days.
    return load_holidays(start=start, end=start + dt.timedelta(days=int(days * 3) + 40))


def add_working_days(start: dt.datetime, days: int, *, holidays: Calendar | None = None) -> dt.datetime:
    """``start`` moved forward by ``days`` working days, keeping its local time of day."""
    local = timezone.localtime(start) if timezone.is_aware(start) else start
    calendar = _calendar(local.date(), days, holidays)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays=calendar):
            remaining -= 1
    result = dt.datetime.combine(day, local.timetz()).replace(tzinfo=local.tzinfo)
    if timezone.is_aware(local):
        # Recompute the offset for the new date (no DST in China, but stay correct elsewhere).
        result = timezone.make_aware(dt.datetime.combine(day, local.time()), local.tzinfo)
    return result


def add_working_hours(start: dt.datetime, hours: float, *, holidays: Calendar | None = None) -> dt.datetime:
    """``start`` moved forward by ``hours`` that fall on working days (days off do not count)."""
    local = timezone.localtime(start) if timezone.is_aware(start) else start
    calendar = _calendar(local.date(), hours / 24 + 1, holidays)
    remaining = dt.timedelta(hours=hours)
    current = local
    while remaining > dt.timedelta(0):
        next_midnight = dt.datetime.combine(current.date() + dt.timedelta(days=1), dt.time())
        if timezone.is_aware(current):
            next_midnight = timezone.make_aware(next_midnight, current.tzinfo)
        if is_working_day(current.date(), holidays=calendar):
            span = next_midnight - current
            if span >= remaining:
                return current + remaining
            remaining -= span
        current = next_midnight
    return current
