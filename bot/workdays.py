"""Chinese working days: statutory holidays and 调休 make-up workdays included.

A `WorkCalendar` knows, per year, the set of working days, built once the first time the
year is asked for: from the maintained `chinese-calendar` package, with the chamber's
calendar file (`calendar.file`, bot/calendar_file.py) laid over it date by date — a year
the package does not know yet is then known from the file alone. A year known to neither
counts Monday–Friday (the "fallback"): `add` says which fallback years a deadline crossed,
so that the caller can record it and recompute the deadline once the year's schedule
arrives (bot/calendar_watch.py). Nothing is guessed silently.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import chinese_calendar

__all__ = [
    "FALLBACK",
    "FILE",
    "PACKAGE",
    "PACKAGE_AND_FILE",
    "DayNote",
    "Deadlines",
    "WorkCalendar",
    "YearOverride",
    "YearSchedule",
    "add_workdays",
    "is_workday",
]

log = logging.getLogger(__name__)

PACKAGE, FILE, PACKAGE_AND_FILE, FALLBACK = "package", "file", "package+file", "fallback"

# chinese-calendar names its holidays in English; staff read Chinese.
_PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class DayNote:
    day: date
    name: str


@dataclass(frozen=True)
class YearOverride:
    """One year of the calendar file: days off and 调休 make-up workdays, with names."""

    holidays: tuple[DayNote, ...] = ()
    workdays: tuple[DayNote, ...] = ()


@dataclass(frozen=True)
class YearSchedule:
    """What the calendar knows of one year, as `chamberbot calendar show` lists it."""

    year: int
    source: str  # package | file | package+file | fallback
    holidays: tuple[DayNote, ...]
    workdays: tuple[DayNote, ...]


@dataclass(frozen=True)
class Deadlines:
    """A case's deadlines, what they were counted from, and the years counted Mon–Fri."""

    start: datetime
    limit_days: int
    level2_days: int
    due: datetime
    level2: datetime
    fallback_years: frozenset[int]


def _package_years() -> frozenset[int]:
    return frozenset(d.year for d in chinese_calendar.holidays)


def _package_notes(notes: Mapping[date, str], year: int, suffix: str = "") -> dict[date, str]:
    return {d: _PACKAGE_NAMES.get(n, n) + suffix for d, n in notes.items() if d.year == year}


@dataclass
class WorkCalendar:
    """Per-year working-day sets; `overrides` come from the chamber's calendar file."""

    overrides: Mapping[int, YearOverride] = field(default_factory=dict)
    use_package: bool = True
    _package: frozenset[int] = field(init=False)
    _ordinals: dict[int, frozenset[int]] = field(init=False, default_factory=dict)
    _told: set[int] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        self._package = _package_years() if self.use_package else frozenset()

    @property
    def package_years(self) -> frozenset[int]:
        return self._package

    # -- what is known ---------------------------------------------------------------------

    def source(self, year: int) -> str:
        in_package, in_file = year in self._package, year in self.overrides
        if in_package and in_file:
            return PACKAGE_AND_FILE
        if in_package:
            return PACKAGE
        return FILE if in_file else FALLBACK

    def known(self, year: int) -> bool:
        return self.source(year) != FALLBACK

    def schedule(self, year: int) -> YearSchedule:
        holidays: dict[date, str] = {}
        workdays: dict[date, str] = {}
        if year in self._package:
            holidays = _package_notes(chinese_calendar.holidays, year)
            workdays = _package_notes(chinese_calendar.workdays, year, "调休")
        override = self.overrides.get(year)
        if override:
            for note in override.holidays:
                workdays.pop(note.day, None)
                holidays[note.day] = note.name
            for note in override.workdays:
                holidays.pop(note.day, None)
                workdays[note.day] = note.name
        return YearSchedule(
            year,
            self.source(year),
            tuple(DayNote(d, n) for d, n in sorted(holidays.items())),
            tuple(DayNote(d, n) for d, n in sorted(workdays.items())),
        )

    def _year(self, year: int) -> frozenset[int]:
        """The working days of `year` as ordinals, built once."""
        found = self._ordinals.get(year)
        if found is not None:
            return found
        plan = self.schedule(year)
        off = {n.day.toordinal() for n in plan.holidays}
        extra = {n.day.toordinal() for n in plan.workdays}
        first = date(year, 1, 1).toordinal()
        last = date(year, 12, 31).toordinal()
        weekdays = {o for o in range(first, last + 1) if date.fromordinal(o).weekday() < 5}
        found = frozenset((weekdays - off) | extra)
        self._ordinals[year] = found
        return found

    # -- counting --------------------------------------------------------------------------

    def is_workday(self, day: date) -> bool:
        return day.toordinal() in self._year(day.year)

    def add(self, start: datetime, days: int) -> tuple[datetime, frozenset[int]]:
        """The same local time on the `days`-th working day after `start`'s date, and the
        years counted Monday–Friday on the way (empty when every year was known)."""
        ordinal = start.date().toordinal()
        year = start.year
        year_end = date(year, 12, 31).toordinal()
        work = self._year(year)
        fallback: set[int] = set()
        remaining = days
        while remaining > 0:
            ordinal += 1
            if ordinal > year_end:
                year += 1
                year_end = date(year, 12, 31).toordinal()
                work = self._year(year)
            if ordinal in work:
                remaining -= 1
                if year not in fallback and not self.known(year):
                    fallback.add(year)
        for unknown in fallback - self._told:
            self._told.add(unknown)
            log.info("no holiday schedule for %s: deadlines counted Monday-Friday", unknown)
        return start + timedelta(days=ordinal - start.date().toordinal()), frozenset(fallback)

    def working_time(self, moment: datetime, start: time, end: time) -> datetime:
        """`moment` if it falls in working time (a working day, `start`–`end` local time,
        both ends included), else the next working time's start: the same day's `start`
        before it, else the next working day's. `moment` is in the chamber's time zone."""
        day = moment.date()
        if self.is_workday(day):
            if start <= moment.time() <= end:
                return moment
            if moment.time() < start:
                return datetime.combine(day, start, moment.tzinfo)
        day += timedelta(days=1)
        while not self.is_workday(day):  # ends: a year without calendar counts Mon–Fri
            day += timedelta(days=1)
        return datetime.combine(day, start, moment.tzinfo)

    def deadlines(self, start: datetime, limit_days: int, level2_days: int) -> Deadlines:
        """A case's resolution deadline and the level-2 deadline that follows it."""
        due, first = self.add(start, limit_days)
        level2, second = self.add(due, level2_days)
        return Deadlines(start, limit_days, level2_days, due, level2, first | second)


_DEFAULT = WorkCalendar()


def is_workday(day: date) -> bool:
    """On the package's calendar alone (no calendar file)."""
    return _DEFAULT.is_workday(day)


def add_workdays(start: datetime, days: int) -> datetime:
    """On the package's calendar alone (no calendar file)."""
    return _DEFAULT.add(start, days)[0]
