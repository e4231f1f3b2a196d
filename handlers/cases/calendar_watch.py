"""Keeping the working-day calendar current while the bot runs.

- `track` records a case whose deadlines were counted Monday–Friday through a year no
  calendar knew (table fallback_deadlines); `recompute` counts them again once such a
  year is known, writing a `deadline_recomputed` event on the case's timeline and sending
  nothing to the enterprise.
- `warn` tells the staff room, once a week, that this year's or — from
  `calendar.warn_from` — next year's schedule is missing.
- `calendar_job` (hourly in working hours, and once at start) does all three.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import CalendarSettings
from bot.db import from_db
from bot.workdays import WorkCalendar
from handlers.cases.service import CaseService

if TYPE_CHECKING:
    from bot.services import Services

__all__ = [
    "calendar_job",
    "check_calendar",
    "missing_years",
    "recompute",
    "warn",
]

log = logging.getLogger(__name__)


def recompute(services: Services, now: datetime) -> int:
    """Recount the deadlines of open cases counted through a year that is now known."""
    cases = services.service(CaseService)
    rows = services.db.execute(
        "select case_id, start_at, limit_days, level2_days, years from fallback_deadlines"
    ).fetchall()
    changed = 0
    for case_id, start_at, limit_days, level2_days, years in rows:
        if all(not cases.calendar.known(y) for y in json.loads(years)):
            continue
        case = cases.get(int(case_id))
        with services.db.atomic():
            updated = cases.recount_deadlines(
                case, from_db(start_at), int(limit_days), int(level2_days), now
            )
        if updated is not None:
            changed += 1
            log.info(
                "case %s: deadline recomputed, %s -> %s", case.number, case.due_at, updated.due_at
            )
    return changed


def missing_years(calendar: WorkCalendar, settings: CalendarSettings, now: datetime) -> list[int]:
    """This year if unknown; next year too once warn_from has passed."""
    today = now.date()
    years = [] if calendar.known(today.year) else [today.year]
    if settings.warns_on(today) and not calendar.known(today.year + 1):
        years.append(today.year + 1)
    return years


def warn(services: Services, now: datetime) -> int:
    """Tell the staff room about missing years, once per ISO week; returns rows queued."""
    settings = services.config.calendar
    years = missing_years(services.service(CaseService).calendar, settings, now)
    if not years:
        return 0
    week = now.isocalendar()
    key = f"calendar_missing:{'+'.join(map(str, years))}:{week.year}-W{week.week:02d}"
    outs = services.notices.to_staff("calendar_missing", years=years, file=settings.file)
    with services.db.atomic():
        added = services.outbox.enqueue(outs, dedupe_key=key, scheduled=True)
    if added:
        log.info("no holiday schedule for %s: staff told", ", ".join(map(str, years)))
    return added


def check_calendar(services: Services, now: datetime | None = None) -> None:
    """Reload the file if it changed, recount what the fallback counted, warn staff."""
    now = now or services.clock.now()
    services.calendar_file.refresh()  # the case service reads the file's calendar as it is
    recompute(services, now)
    warn(services, now)


def calendar_job() -> None:
    from bot.scheduler import running_services

    check_calendar(running_services())
