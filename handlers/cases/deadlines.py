"""The deadline sweep as a feature: a periodic job runs the case service's time limits.

The rules (what is due, what happens) are the case service's (handlers/cases/deadline_intents.py);
this module only runs a pass, queues what it says, and schedules itself.
"""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.feature import ConsoleHook, JobSpec
from bot.messages import Outgoing
from bot.scheduler import running_services
from bot.services import Services
from handlers.cases.service import CaseService

__all__ = ["CONSOLE", "JOBS", "sweep", "sweep_job"]

log = logging.getLogger(__name__)


def sweep(services: Services) -> list[Outgoing]:
    """One pass at the current time; returns what it queued (in one transaction)."""
    now = services.clock.now()
    outs: list[Outgoing] = []
    with services.db.atomic():
        for case in services.service(CaseService).due_cases(now):
            outs += services.service(CaseService).advance(case, now)
        purged = services.sessions.purge(now)
        services.outbox.enqueue(outs, scheduled=True)
    if outs or purged:
        log.info("sweep at %s: %d messages, %d stale prompts purged", now, len(outs), purged)
    return outs


async def sweep_job() -> None:
    """What APScheduler runs every `sweep_interval_seconds`."""
    sweep(running_services())


def _jobs(services: Services) -> list[JobSpec]:
    seconds = services.config.sweep_interval_seconds
    trigger = IntervalTrigger(seconds=seconds, timezone=services.config.tz)
    return [JobSpec("sweep", "handlers.cases.deadlines:sweep_job", trigger)]


def _console_sweep(services: Services, _args: str) -> str:
    sweep(services)
    return ""


JOBS = _jobs

CONSOLE = [ConsoleHook("sweep", "/sweep", _console_sweep)]
