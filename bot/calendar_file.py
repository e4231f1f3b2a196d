"""The chamber's calendar file (`calendar.file`): holidays and 调休 days per year.

    2027:
      holidays:                  # days off (weekends inside a holiday may be listed too)
        - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
        - {name: 清明节, date: 2027-04-05}
      workdays:                  # 调休: weekend days that are worked
        - {name: 春节调休, date: 2027-02-20}

A year in the file is laid over what chinese-calendar knows of it, date by date; a year
the package does not know is known from the file alone. A date must lie in its year.
Problems are ConfigErrors naming the file and the key, like the config's.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.config import CalendarSettings, ConfigError, config_key, config_reason, read_yaml
from bot.workdays import DayNote, WorkCalendar, YearOverride

__all__ = ["CalendarFile", "calendar_path", "load_calendar", "parse_calendar"]

MAX_SPAN_DAYS = 31

log = logging.getLogger(__name__)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    day: date | None = Field(None, alias="date")
    start: date | None = Field(None, alias="from")
    end: date | None = Field(None, alias="to")

    @model_validator(mode="after")
    def _one_day_or_a_range(self) -> _Entry:
        if self.day is not None and (self.start or self.end):
            raise ValueError("give either date or from/to, not both")
        if self.day is None and (self.start is None or self.end is None):
            raise ValueError("give date, or both from and to")
        if self.start and self.end:
            if self.end < self.start:
                raise ValueError("to is before from")
            if (self.end - self.start).days >= MAX_SPAN_DAYS:
                raise ValueError(f"a holiday longer than {MAX_SPAN_DAYS} days")
        return self

    def days(self) -> list[date]:
        if self.day is not None:
            return [self.day]
        assert self.start is not None
        assert self.end is not None
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


class _Year(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    holidays: list[_Entry] = Field(default_factory=list)
    workdays: list[_Entry] = Field(default_factory=list)


def _year_of(key: Any, file: str) -> int:
    text = str(key)
    if not (text.isdigit() and len(text) == 4 and 1900 < int(text) < 2200):
        raise ConfigError(file, text, "expected a year such as 2027")
    return int(text)


def _notes(entries: list[_Entry], year: int, file: str, key: str) -> tuple[DayNote, ...]:
    notes: list[DayNote] = []
    for i, entry in enumerate(entries):
        for day in entry.days():
            if day.year != year:
                raise ConfigError(file, f"{key}[{i}]", f"{day} is not in {year}")
            notes.append(DayNote(day, entry.name))
    return tuple(notes)


def parse_calendar(data: Any, file: str) -> dict[int, YearOverride]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(file, "(top level)", "expected years, e.g. 2027: {holidays: [...]}")
    years: dict[int, YearOverride] = {}
    for key, body in data.items():
        year = _year_of(key, file)
        try:
            parsed = _Year.model_validate(body or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = config_key((str(year), *first["loc"]))
            raise ConfigError(file, where, config_reason(first)) from None
        holidays = _notes(parsed.holidays, year, file, f"{year}.holidays")
        workdays = _notes(parsed.workdays, year, file, f"{year}.workdays")
        both = {n.day for n in holidays} & {n.day for n in workdays}
        if both:
            raise ConfigError(file, str(year), f"{min(both)} is both a holiday and a workday")
        years[year] = YearOverride(holidays, workdays)
    return years


def calendar_path(file: str | None, base: Path) -> Path | None:
    if not file:
        return None
    path = Path(file)
    return path if path.is_absolute() else base / path


def load_calendar(path: Path | None) -> WorkCalendar:
    """The package's calendar with the file laid over it (no file: the package alone)."""
    if path is None:
        return WorkCalendar()
    return WorkCalendar(parse_calendar(read_yaml(path), str(path)))


class CalendarFile:
    """The calendar of `calendar.file` (or of the package alone), reloaded when it changes."""

    def __init__(self, settings: CalendarSettings, base: Path) -> None:
        self.path = calendar_path(settings.file, base)
        self.calendar: WorkCalendar = load_calendar(self.path)  # ConfigError at start
        self._stamp = self._stat()

    def _stat(self) -> tuple[float, int] | None:
        if self.path is None:
            return None
        try:
            info = self.path.stat()
        except OSError:
            return None
        return (info.st_mtime, info.st_size)

    def refresh(self) -> bool:
        """Re-read the file if it changed; True when the calendar was replaced."""
        stamp = self._stat()
        if self.path is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            self.calendar = load_calendar(self.path)
        except ConfigError as exc:
            log.error("calendar file not reloaded, keeping the previous one: %s", exc)
            return False
        log.info("calendar file %s reloaded", self.path)
        return True
