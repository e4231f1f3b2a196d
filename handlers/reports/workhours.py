"""Elapsed working time, in SQL: only the hours of Chinese working days count.

A working day (bot.workdays: statutory holidays skipped, 调休 make-up days counted) counts
all of its 24 hours. `days_table` writes one row per local day of the report's range, keyed
by the day's number (days since 1970-01-01) — is it a working day, and how many working
days precede it — so the elapsed working hours of 100 k cases are one query joining two
integer keys, asking the calendar once per day.

Times come in as whole Unix seconds (report_facts). The arithmetic is SQLite's
`julianday()` written out — a time's Julian day is its milliseconds since the Julian epoch
÷ 86,400,000 — so the hours are, to the last bit, what `julianday()` of the local times
gives, without formatting and parsing two date strings per case.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import count

from sqlite_utils import Database

from bot.workdays import is_workday

__all__ = ["day_number", "days_table", "median", "offset_seconds", "working_hours_sql"]

_ids = count()
_EPOCH = date(1970, 1, 1).toordinal()
_JULIAN_MS = 210_866_760_000_000  # 1970-01-01 00:00 (Julian day 2440587.5) in milliseconds


def day_number(day: date) -> int:
    return day.toordinal() - _EPOCH


@contextmanager
def days_table(db: Database, first: date, last: date) -> Iterator[str]:
    """A temp table `(n, w, cum)` of the local days from `first` to `last`, one day more on
    each side: `n` the day number, `w` 1 on a working day, `cum` working days before it."""
    name = f"report_days_{next(_ids)}"
    rows: list[tuple[int, int, int]] = []
    before, day = 0, first - timedelta(days=1)
    while day <= last + timedelta(days=1):
        work = int(is_workday(day))
        rows.append((day_number(day), work, before))
        before += work
        day += timedelta(days=1)
    db.execute(f"create temp table {name} (n integer primary key, w integer, cum integer)")
    db.conn.executemany(f"insert into temp.{name} values (?, ?, ?)", rows)
    try:
        yield name
    finally:
        db.execute(f"drop table if exists temp.{name}")


def _julian(seconds: str) -> str:
    """julianday() of a local time given in whole seconds since 1970-01-01 00:00."""
    return f"(({seconds}) * 1000 + {_JULIAN_MS}) / 86400000.0"


def working_hours_sql(start: str, end: str, x: str, y: str) -> str:
    """Working hours from local time `start` to `end` (SQL expressions, whole seconds since
    1970-01-01 00:00 local), where `x` and `y` are the days-table rows of their days
    (`n = start / 86400`, `n = end / 86400`)."""
    return (
        f"max(0, case when {x}.n = {y}.n then {x}.w * ({_julian(end)} - {_julian(start)})"
        f" else {x}.w * ({_julian(f'({x}.n + 1) * 86400')} - {_julian(start)})"
        f" + {y}.w * ({_julian(end)} - {_julian(f'{y}.n * 86400')})"
        f" + ({y}.cum - {x}.cum - {x}.w) end * 24)"
    )


def median(values: list[float]) -> float | None:
    """The median (the mean of the middle two for an even count); None when empty."""
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    if len(values) % 2:
        return float(values[mid])
    return (values[mid - 1] + values[mid]) / 2


def offset_seconds(when: datetime) -> int:
    """The UTC offset of `when` in whole minutes, as seconds."""
    offset = when.utcoffset()
    return int(offset.total_seconds() // 60) * 60 if offset else 0
