"""What `chamberbot calendar show YEAR` and `chamberbot check` print about the working-day
calendar (through the feature's templates/calendar_cli.j2); the command is wired in
chamberbot/ops_cli.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.templates import Templates
from bot.workdays import DayNote, WorkCalendar
from handlers.cases.calendar_watch import missing_years

__all__ = ["show", "summary"]


@dataclass(frozen=True)
class _Run:
    name: str
    first: date
    last: date
    days: int


def _runs(notes: tuple[DayNote, ...]) -> list[_Run]:
    """Consecutive days of one name as one line: 春节 2月5日至2月13日."""
    runs: list[_Run] = []
    for note in notes:
        last = runs[-1] if runs else None
        if last and last.name == note.name and (note.day - last.last).days == 1:
            runs[-1] = _Run(last.name, last.first, note.day, last.days + 1)
        else:
            runs.append(_Run(note.name, note.day, note.day, 1))
    return runs


def _render(config: Config, kind: str, **context: Any) -> str:
    here = Path(__file__).resolve().parent / "templates"
    templates = Templates(config.tz, None, [here], bot_name=config.bot_name)
    return templates.render("calendar_cli", kind=kind, file=config.calendar.file, **context)


def summary(config: Config, calendar: WorkCalendar, now: datetime) -> str:
    """Known years grouped by source, and the missing ones (this year, next year)."""
    years = sorted({*calendar.package_years, *calendar.overrides, now.year, now.year + 1})
    known: list[dict[str, Any]] = []
    for year in years:
        source = calendar.source(year)
        if source == "fallback":
            continue
        if known and known[-1]["source"] == source and known[-1]["last"] == year - 1:
            known[-1]["last"] = year
        else:
            known.append({"first": year, "last": year, "source": source})
    missing = missing_years(calendar, config.calendar, now)
    return _render(config, "summary", known=known, missing=missing)


def show(config: Config, calendar: WorkCalendar, year: int) -> tuple[str, bool]:
    """What `chamberbot calendar show YEAR` prints, and whether the year is known."""
    plan = calendar.schedule(year)
    text = _render(
        config, "show", plan=plan, holidays=_runs(plan.holidays), workdays=_runs(plan.workdays)
    )
    return text, plan.source != "fallback"
