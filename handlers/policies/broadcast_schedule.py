"""When broadcasts run: one cron job per enabled broadcast, and what a firing does.

Broadcasts from the config are synced into the `broadcasts` table at start (CLI-added
ones are kept), and a run a previous process left half done is finished. A stored
broadcast job whose schedule did not change keeps its stored `next_run_time`, so a run
due while the bot was down fires once on start if it is at most `digest.grace_minutes`
late, and is skipped otherwise.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.feature import JobSpec
from bot.scheduler import cron_trigger, due_time, running_services
from bot.services import Services
from handlers.policies.broadcast_defs import get_broadcast, list_broadcasts, sync_broadcasts
from handlers.policies.broadcasts import resume_runs, run_broadcast
from handlers.policies.settings import settings

__all__ = ["broadcast_job", "broadcast_job_id", "grace", "jobs", "on_start"]

log = logging.getLogger(__name__)

BROADCAST_JOB = "handlers.policies.broadcast_schedule:broadcast_job"
_PREFIX = "broadcast:"
# A firing this late is still "on time", even with digest.grace_minutes = 0.
ON_TIME = timedelta(minutes=1)


def broadcast_job_id(broadcast_id: str) -> str:
    return f"{_PREFIX}{broadcast_id}"


def grace(services: Services) -> timedelta:
    return max(timedelta(minutes=settings(services.config).digest.grace_minutes), ON_TIME)


def jobs(services: Services) -> list[JobSpec]:
    seconds = int(grace(services).total_seconds())
    return [
        JobSpec(
            broadcast_job_id(b.id),
            BROADCAST_JOB,
            cron_trigger(b.cron, services.config.tz),
            args=(b.id,),
            name=f"broadcast {b.id}",
            misfire_grace_time=seconds,
            keep_next_run=True,
        )
        for b in list_broadcasts(services, enabled_only=True)
    ]


def on_start(services: Services) -> None:
    sync_broadcasts(services)
    resume_runs(services, grace(services))


async def broadcast_job(broadcast_id: str) -> None:
    """One firing of a broadcast's cron trigger: run it for the time it stands for."""
    services = running_services()
    broadcast = get_broadcast(services, broadcast_id)
    if broadcast is None or not broadcast.enabled:
        log.warning("broadcast %s fired but is no longer configured", broadcast_id)
        return
    now = services.clock.now()
    when = due_time(broadcast.cron, services.config.tz, now, grace(services))
    if when is None:
        log.warning("broadcast %s fired at %s, past its grace period; skipped", broadcast_id, now)
        return
    run_broadcast(services, broadcast.id, when)
