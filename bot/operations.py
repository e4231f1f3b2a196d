"""The operations feature's manifest: the hourly calendar check and its run at start.

(`chamberbot calendar|backup|restore` are wired in chamberbot/ops_cli.py: they must not
open the services, which a manifest's commands do.)
"""

from __future__ import annotations

from bot.calendar_watch import check_calendar
from bot.feature import Feature, JobSpec
from bot.services import Services

__all__ = ["FEATURE"]

CALENDAR_JOB = "bot.calendar_watch:calendar_job"


def _jobs(services: Services) -> list[JobSpec]:
    from apscheduler.triggers.cron import CronTrigger

    # Hourly at :05: calendar.file re-read, fallback deadlines recounted, weekly notice.
    return [JobSpec("calendar", CALENDAR_JOB, CronTrigger(minute=5, timezone=services.config.tz))]


FEATURE = Feature(name="operations", jobs=_jobs, on_start=check_calendar)
