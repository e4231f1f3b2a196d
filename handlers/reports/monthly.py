"""The monthly 通报: on the 1st at `reports.monthly_at`, last month's summary to the staff
rooms — exactly once.

`report_months` has one row per month sent (primary key the month). The row, the report
and the outbox rows (dedupe key `report:<month>`) are written in one transaction, so a
second firing — a restart, the catch-up check, a retry — finds the row and queues nothing.
A run missed while the bot was down is made up when it is back within
`reports.grace_hours` of the due time; later than that the month is skipped (and logged),
as broadcasts are.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.db import to_db
from bot.scheduler import running_services
from bot.services import Services
from handlers.reports.figures import compute
from handlers.reports.period import Period, previous_month
from handlers.reports.settings import ReportSettings, report_settings
from handlers.reports.text import summary_context

__all__ = ["due_month", "monthly_job", "send_monthly"]

log = logging.getLogger(__name__)


def _due_at(now: datetime, settings: ReportSettings) -> datetime:
    return datetime.combine(now.date().replace(day=1), settings.monthly_at, tzinfo=now.tzinfo)


def due_month(now: datetime, settings: ReportSettings) -> Period | None:
    """Last month, when its summary is due at `now` (on time or within the grace period)."""
    due = _due_at(now, settings)
    if now < due:
        return None
    if now - due > timedelta(hours=settings.grace_hours) + timedelta(minutes=1):
        return None
    return previous_month(now)


def send_monthly(app: Services) -> int:
    """Queue last month's summary to the staff rooms if it is due and not yet sent."""
    now = app.clock.now()
    period = due_month(now, report_settings(app.config))
    if period is None:
        return 0
    with app.db.atomic():
        added = app.db.execute(
            "insert or ignore into report_months (month, queued_at, messages) values (?, ?, 0)",
            [period.key, to_db(now)],
        ).rowcount
        if not added:
            return 0
        # The month as it ended: the cut-off is the end of the month, not this morning.
        report = compute(app.db, app.config, period, period.end)
        context = summary_context(app.templates.render, app.config, report)
        outs = app.notices.to_staff("reports_summary", **context)
        queued = app.outbox.enqueue(outs, scheduled=True, dedupe_key=f"report:{period.key}")
        app.db.execute(
            "update report_months set messages = ? where month = ?", [queued, period.key]
        )
    log.info("monthly report %s queued to %d staff places", period.key, queued)
    return queued


async def monthly_job() -> None:
    """What APScheduler runs (the cron on the 1st, and the hourly catch-up check)."""
    send_monthly(running_services())
