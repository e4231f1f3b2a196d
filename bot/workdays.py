"""Chinese working days: statutory holidays and 调休 make-up workdays included.

The calendar comes from the maintained `chinese-calendar` package. For a year it does
not know yet (the State Council publishes each year's arrangement in the autumn) we fall
back to Monday–Friday and log it once, so a deadline is never refused.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import cache

import chinese_calendar

__all__ = ["add_workdays", "is_workday"]

log = logging.getLogger(__name__)


@cache
def _warn_unknown_year(year: int) -> None:
    log.warning("no official holiday data for %s: counting Monday to Friday", year)


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _warn_unknown_year(day.year)
        return day.weekday() < 5


def add_workdays(start: datetime, days: int) -> datetime:
    """The same local time on the `days`-th working day after `start`'s date."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_workday(current.date()):
            remaining -= 1
    return current
