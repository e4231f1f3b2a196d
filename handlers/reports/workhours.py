"""Elapsed working time, in SQL: only the hours of Chinese working days count.

A working day (bot.workdays: statutory holidays skipped, 调休 make-up days counted) counts
all of its 24 hours. `days_table` writes one row per local date of the report's range —
is it a working day, and how many working days precede it — so the elapsed working hours
of 100 k cases and their median are one query, asking the calendar once per day.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from itertools import count

from sqlite_utils import Database

from bot.workdays import is_workday

__all__ = ["days_table", "local", "median_sql", "offset_minutes", "working_hours_sql"]

_ids = count()


@contextmanager
def days_table(db: Database, first: date, last: date) -> Iterator[str]:
    """A temp table `(d, w, cum)` from `first` to `last` (local dates, ISO text)."""
    name = f"report_days_{next(_ids)}"
    rows: list[tuple[str, int, int]] = []
    before, day = 0, first - timedelta(days=1)
    while day <= last + timedelta(days=1):
        work = int(is_workday(day))
        rows.append((day.isoformat(), work, before))
        before += work
        day += timedelta(days=1)
    db.execute(f"create temp table {name} (d text primary key, w integer, cum integer)")
    db.conn.executemany(f"insert into temp.{name} values (?, ?, ?)", rows)
    try:
        yield name
    finally:
        db.execute(f"drop table if exists temp.{name}")


def working_hours_sql(start: str, end: str, x: str, y: str) -> str:
    """Working hours from local datetime `start` to `end` (SQL expressions), where `x` and
    `y` are the days-table rows of their dates."""
    return (
        f"max(0, case when {x}.d = {y}.d then {x}.w * (julianday({end}) - julianday({start}))"
        f" else {x}.w * (julianday({x}.d, '+1 day') - julianday({start}))"
        f" + {y}.w * (julianday({end}) - julianday({y}.d))"
        f" + ({y}.cum - {x}.cum - {x}.w) end * 24)"
    )


def median_sql(values: str) -> str:
    """The median of the column `v` of the subquery `values` (NULL when it has no rows)."""
    return (
        f"with v as ({values}) select avg(v) from (select v from v order by v"
        " limit 2 - (select count(*) from v) % 2"
        " offset (select (count(*) - 1) / 2 from v))"
    )


def local(column: str, offset_minutes: int) -> str:
    return f"datetime({column}, '{offset_minutes:+d} minutes')"


def offset_minutes(when: datetime) -> int:
    offset = when.utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0
