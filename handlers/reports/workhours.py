"""Elapsed working time: only the hours of Chinese working days count (bot.workdays).

A working day counts all of its 24 hours; weekends, statutory holidays are skipped and
调休 make-up days count. Computed with a cumulative count of working days per year, so a
median over 100 k cases asks the calendar once per day, not once per case and day.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache

from bot.workdays import is_workday

__all__ = ["median", "working_days", "working_hours"]

_DAY = timedelta(days=1)


@cache
def _year_table(year: int) -> tuple[tuple[bool, ...], tuple[int, ...]]:
    """Per day of the year: is it a working day, and how many working days precede it."""
    first = date(year, 1, 1)
    flags = tuple(
        is_workday(first + timedelta(days=i)) for i in range((date(year + 1, 1, 1) - first).days)
    )
    before, count = [], 0
    for flag in flags:
        before.append(count)
        count += flag
    return flags, tuple(before)


def _workday(day: date) -> bool:
    return _year_table(day.year)[0][day.timetuple().tm_yday - 1]


def _workdays_before(day: date) -> int:
    """Working days from an arbitrary epoch (1 Jan 2000) up to, not including, `day`."""
    total = sum(_year_table(y)[0].count(True) for y in range(2000, day.year))
    return total + _year_table(day.year)[1][day.timetuple().tm_yday - 1]


@cache
def _before_cached(day: date) -> int:
    return _workdays_before(day)


def working_hours(start: datetime, end: datetime, tz: tzinfo) -> float:
    """Hours between `start` and `end` that fall on working days (local dates in `tz`)."""
    if end <= start:
        return 0.0
    a, b = start.astimezone(tz), end.astimezone(tz)
    if a.date() == b.date():
        return (b - a) / timedelta(hours=1) if _workday(a.date()) else 0.0
    a_next = datetime.combine(a.date() + _DAY, time(), tzinfo=tz)
    b_midnight = datetime.combine(b.date(), time(), tzinfo=tz)
    hours = (a_next - a) / timedelta(hours=1) if _workday(a.date()) else 0.0
    hours += (b - b_midnight) / timedelta(hours=1) if _workday(b.date()) else 0.0
    whole = _before_cached(b.date()) - _before_cached(a.date() + _DAY)
    return hours + 24.0 * whole


def working_days(start: datetime, end: datetime, tz: tzinfo) -> float:
    return working_hours(start, end, tz) / 24.0


def median(values: Iterable[float]) -> float | None:
    data = list(values)
    return statistics.median(data) if data else None
