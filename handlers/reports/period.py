"""Report periods: a calendar month in the chamber's time zone, or any from–to range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

__all__ = ["Period", "month_of", "parse_month", "previous_month"]

_MONTH = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})月?$")


@dataclass(frozen=True)
class Period:
    """[start, end) in local time; `month` is set for a calendar month."""

    start: datetime
    end: datetime
    month: tuple[int, int] | None = None

    @classmethod
    def of_month(cls, year: int, month: int, tz: tzinfo) -> Period:
        first = datetime.combine(date(year, month, 1), time(), tzinfo=tz)
        nxt = date(year + month // 12, month % 12 + 1, 1)
        return cls(first, datetime.combine(nxt, time(), tzinfo=tz), (year, month))

    @classmethod
    def of_days(cls, first: date, last: date, tz: tzinfo) -> Period:
        """From the first day to the last day, both included."""
        if last < first:
            raise ValueError("the range ends before it starts")
        start = datetime.combine(first, time(), tzinfo=tz)
        return cls(start, datetime.combine(last + timedelta(days=1), time(), tzinfo=tz))

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(days=1)).date()

    @property
    def key(self) -> str:
        """`2026-11` for a month, `2026-11-01..2026-11-30` for a range."""
        if self.month:
            return f"{self.month[0]}-{self.month[1]:02d}"
        return f"{self.start.date().isoformat()}..{self.last_day.isoformat()}"

    def year_start(self) -> datetime:
        """1 January of the year the period ends in (for the year-to-date figures)."""
        return self.start.replace(year=self.last_day.year, month=1, day=1)

    def months_back(self, count: int) -> list[Period]:
        """The `count` calendar months ending with the one the period ends in, oldest first."""
        year, month = self.last_day.year, self.last_day.month
        out: list[Period] = []
        for _ in range(count):
            out.append(Period.of_month(year, month, self.start.tzinfo or self.end.tzinfo))  # type: ignore[arg-type]
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return out[::-1]


def month_of(when: datetime) -> Period:
    assert when.tzinfo is not None
    return Period.of_month(when.year, when.month, when.tzinfo)


def previous_month(when: datetime) -> Period:
    assert when.tzinfo is not None
    year, month = (when.year, when.month - 1) if when.month > 1 else (when.year - 1, 12)
    return Period.of_month(year, month, when.tzinfo)


def parse_month(text: str, now: datetime) -> Period | None:
    """`` / 本月 → this month, 上月 → last month, `2026-11` / `2026年11月` → that month."""
    text = text.strip()
    if text in ("", "本月", "这个月"):
        return month_of(now)
    if text in ("上月", "上个月"):
        return previous_month(now)
    found = _MONTH.match(text)
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or year < 2000:
        return None
    assert now.tzinfo is not None
    return Period.of_month(year, month, now.tzinfo)
