"""APScheduler lives here: the time zone set explicitly, jobs stored in the bot's SQLite file.

Jobs are plain functions that tests call directly; features declare them in their
manifests (`Feature.jobs`) and this module only registers them. A job in the persistent
store is referenced by name, so it reaches the running bot through `running_services()`
rather than through pickled arguments.

A stored job whose trigger did not change keeps its stored `next_run_time` when its spec
says `keep_next_run` — re-adding it with a fresh one would silently drop a run that fell
due while the bot was down. Such a run fires once on start (coalesce) if it is at most
its `misfire_grace_time` late, and is skipped otherwise. Stored jobs no feature declares
any more are removed.

The job store (bot/jobstore.py) is imported only when a scheduler is built, so commands
that never schedule (check, policy list …) start without it.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.cron import CronTrigger

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.services import Services

__all__ = [
    "JOBS_TABLE",
    "build_scheduler",
    "cron_trigger",
    "crontab_weekdays",
    "due_time",
    "running_services",
    "set_running_services",
    "store_jobs",
]

log = logging.getLogger(__name__)
_running: Services | None = None

JOBS_TABLE = "scheduler_jobs"


def set_running_services(services: Services | None) -> None:
    global _running  # the one handle persistent jobs have on the bot
    _running = services


def running_services() -> Services:
    if _running is None:
        raise RuntimeError("no running bot")
    return _running


# -- cron ---------------------------------------------------------------------------------


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # crontab numbering: 0 (and 7) = Sunday


def _day(token: str) -> int:
    if token in _DAYS:
        return _DAYS.index(token)
    if token.isdigit() and int(token) <= 7:
        return int(token)
    raise ValueError(f"unknown day of week {token!r}")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field in APScheduler's terms (day names, no numbers).

    APScheduler 3 counts 0 as Monday while crontab counts 0 (and 7) as Sunday, so
    `0 9 * * 1` handed over as is would run on Tuesdays. Days are expanded to names.
    """
    if field == "*":
        return field
    days: set[int] = set()
    for item in field.lower().split(","):
        spec, slash, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() else 0
        if slash and step < 1:
            raise ValueError(f"bad step in day of week {item!r}")
        if spec == "*":
            first, last = 0, 6
        else:
            low, dash, high = spec.partition("-")
            first = _day(low)
            last = _day(high) if dash else (7 if slash else first)
        if first > last:
            raise ValueError(f"backwards range in day of week {item!r}")
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(expr: str, tz: tzinfo) -> CronTrigger:
    """Five crontab fields (minute hour day month weekday) in `tz`; raises ValueError.

    The weekday is read as crontab reads it: 0 or 7 is Sunday, 1 is Monday.
    """
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected five crontab fields, got {expr!r}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=tz,
    )


def due_time(cron: str, tz: tzinfo, now: datetime, window: timedelta) -> datetime | None:
    """The scheduled time a firing at `now` stands for, or None.

    That is the latest time of the cron schedule at or before `now`, provided it is no
    more than `window` ago. A broadcast missed while the bot was down therefore runs (once,
    under this one time) when the bot is back within the window, and not at all later.
    """
    trigger = cron_trigger(cron, tz)
    latest: datetime | None = None
    when = trigger.get_next_fire_time(None, now - window)
    while when is not None and when <= now:
        latest = when
        when = trigger.get_next_fire_time(when, when + timedelta(microseconds=1))
    return latest


# -- building ---------------------------------------------------------------------------


def _stored_jobs(services: Services) -> dict[str, dict[str, Any]]:
    """The jobs in the store as APScheduler pickled them (our own file, our own jobs)."""
    if not services.db.execute(
        "select 1 from sqlite_master where type = 'table' and name = ?", [JOBS_TABLE]
    ).fetchone():
        return {}
    jobs: dict[str, dict[str, Any]] = {}
    rows = services.db.execute(f"select id, job_state from {JOBS_TABLE}").fetchall()
    for job_id, state in rows:
        try:
            jobs[str(job_id)] = pickle.loads(state)
        except Exception:  # written by another version: it is simply replaced
            log.warning("stored job %s cannot be read; scheduling it afresh", job_id)
    return jobs


def _forget_jobs(services: Services, job_ids: list[str]) -> None:
    if not job_ids:
        return
    marks = ", ".join("?" for _ in job_ids)
    with services.db.atomic():
        services.db.execute(f"delete from {JOBS_TABLE} where id in ({marks})", job_ids)


def build_scheduler(services: Services, *, resume: bool = True) -> AsyncIOScheduler:
    """The scheduler with every feature's jobs registered (they reach the store when it
    starts). With `resume`, each feature's `on_start` runs first (e.g. finishing a
    broadcast run a previous process left half done)."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.jobstore import SQLiteJobStore

    store = SQLiteJobStore(services.db_path, JOBS_TABLE)
    scheduler = AsyncIOScheduler(
        timezone=services.config.tz,
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for feature in services.features:
        if resume and feature.on_start:
            feature.on_start(services)
    stored = _stored_jobs(services)
    wanted: set[str] = set()
    for feature in services.features:
        for spec in feature.jobs(services) if feature.jobs else ():
            options: dict[str, Any] = {"id": spec.id, "replace_existing": True}
            if spec.name:
                options["name"] = spec.name
            if spec.args:
                options["args"] = list(spec.args)
            if spec.misfire_grace_time is not None:
                options["misfire_grace_time"] = spec.misfire_grace_time
            old = stored.get(spec.id)
            if spec.keep_next_run and old and repr(old.get("trigger")) == repr(spec.trigger):
                options["next_run_time"] = old.get("next_run_time")  # keep a run that is due
            scheduler.add_job(spec.func, spec.trigger, **options)
            wanted.add(spec.id)
    _forget_jobs(services, [job_id for job_id in stored if job_id not in wanted])
    return scheduler


async def store_jobs(services: Services) -> None:
    """Write the jobs into the store without running anything (the CLI after a change).

    A running bot picks the change up at its next wake-up (at the latest after one sweep
    interval), since its scheduler reads due jobs from the store.
    """
    scheduler = build_scheduler(services, resume=False)
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
