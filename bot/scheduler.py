"""APScheduler lives here: the time zone set explicitly, jobs stored in the bot's SQLite file.

Jobs are plain functions that tests call directly; this module only registers them.
A job in the persistent store is referenced by name, so it reaches the running app
through `running_app()` rather than through pickled arguments.

Jobs:
- `sweep` every `sweep_interval_seconds` (handlers.deadlines).
- `policy_fetch` every `policies.fetch_interval_minutes`, when feeds or a folder are
  configured (policy_feeds.ingest:ingest_job).
- `broadcast:<id>` per enabled broadcast: a cron trigger in the configured time zone.
  Broadcasts from the config are synced into the `broadcasts` table first (CLI-added ones
  are kept). A stored broadcast job whose schedule did not change keeps its stored
  `next_run_time` — re-adding it with a fresh one would silently drop a run that fell due
  while the bot was down. Such a run fires once on start (coalesce) if it is at most
  `digest.grace_minutes` late (misfire_grace_time), and is skipped otherwise.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import pickle
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from bot.app import App

__all__ = [
    "BROADCAST_JOB",
    "JOBS_TABLE",
    "JobSpec",
    "broadcast_job_id",
    "build_scheduler",
    "cron_trigger",
    "crontab_weekdays",
    "due_time",
    "misfire_grace_seconds",
    "running_app",
    "set_running_app",
    "store_jobs",
]

log = logging.getLogger(__name__)
_running: App | None = None

JOBS_TABLE = "scheduler_jobs"
BROADCAST_JOB = "handlers.broadcasts:broadcast_job"
FETCH_JOB_ID = "policy_fetch"
FETCH_JOB = "policy_feeds.ingest:ingest_job"
_BROADCAST_PREFIX = "broadcast:"
# A firing this late is still "on time", even with digest.grace_minutes = 0.
ON_TIME = timedelta(minutes=1)


def set_running_app(app: App | None) -> None:
    global _running  # the one handle persistent jobs have on the app
    _running = app


def running_app() -> App:
    if _running is None:
        raise RuntimeError("no running app")
    return _running


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", so the job survives a restart in the store
    trigger: Any


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


def broadcast_job_id(broadcast_id: str) -> str:
    return f"{_BROADCAST_PREFIX}{broadcast_id}"


def grace(app: App) -> timedelta:
    return max(timedelta(minutes=app.config.digest.grace_minutes), ON_TIME)


def misfire_grace_seconds(app: App) -> int:
    """What APScheduler gets: a run later than this after its time is skipped."""
    return int(grace(app).total_seconds())


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


def job_specs(app: App) -> list[JobSpec]:
    specs = [
        JobSpec(
            "sweep",
            "handlers.deadlines:sweep_job",
            IntervalTrigger(seconds=app.config.sweep_interval_seconds, timezone=app.config.tz),
        )
    ]
    policies = app.config.policies
    if (policies.feeds or policies.folder) and importlib.util.find_spec("policy_feeds.ingest"):
        specs.append(
            JobSpec(
                FETCH_JOB_ID,
                FETCH_JOB,
                IntervalTrigger(minutes=policies.fetch_interval_minutes, timezone=app.config.tz),
            )
        )
    return specs


def _stored_jobs(app: App) -> dict[str, dict[str, Any]]:
    """The jobs in the store as APScheduler pickled them (our own file, our own jobs)."""
    if JOBS_TABLE not in app.db.table_names():
        return {}
    jobs: dict[str, dict[str, Any]] = {}
    for job_id, state in app.db.execute(f"select id, job_state from {JOBS_TABLE}").fetchall():
        try:
            jobs[str(job_id)] = pickle.loads(state)
        except Exception:  # written by another version: it is simply replaced
            log.warning("stored job %s cannot be read; scheduling it afresh", job_id)
    return jobs


def _forget_jobs(app: App, job_ids: list[str]) -> None:
    if not job_ids:
        return
    marks = ", ".join("?" for _ in job_ids)
    with app.db.atomic():
        app.db.execute(f"delete from {JOBS_TABLE} where id in ({marks})", job_ids)


def _schedule_broadcasts(app: App, scheduler: AsyncIOScheduler, stored: dict[str, Any]) -> None:
    from handlers.broadcast_defs import list_broadcasts

    wanted: set[str] = set()
    for broadcast in list_broadcasts(app, enabled_only=True):
        job_id = broadcast_job_id(broadcast.id)
        trigger = cron_trigger(broadcast.cron, app.config.tz)
        options: dict[str, Any] = {
            "id": job_id,
            "name": f"broadcast {broadcast.id}",
            "args": [broadcast.id],
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": misfire_grace_seconds(app),
            "replace_existing": True,
        }
        old = stored.get(job_id)
        if old is not None and repr(old.get("trigger")) == repr(trigger):
            options["next_run_time"] = old.get("next_run_time")  # keep a run that is due
        scheduler.add_job(BROADCAST_JOB, trigger, **options)
        wanted.add(job_id)
    _forget_jobs(app, [j for j in stored if j.startswith(_BROADCAST_PREFIX) and j not in wanted])


def build_scheduler(app: App, *, resume: bool = True) -> AsyncIOScheduler:
    """The scheduler with every job registered (they reach the store when it starts).

    Also syncs the configured broadcasts into the database and, with `resume`, finishes
    broadcast runs a previous process left half done (within the grace period).
    """
    from handlers.broadcast_defs import sync_broadcasts
    from handlers.broadcasts import resume_runs

    store = SQLAlchemyJobStore(url=f"sqlite:///{app.db_path}", tablename=JOBS_TABLE)
    scheduler = AsyncIOScheduler(
        timezone=app.config.tz,
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    specs = job_specs(app)
    for spec in specs:
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, replace_existing=True)
    stored = _stored_jobs(app)
    if FETCH_JOB_ID in stored and FETCH_JOB_ID not in {s.id for s in specs}:
        _forget_jobs(app, [FETCH_JOB_ID])
    sync_broadcasts(app)
    if resume:
        resume_runs(app)
    _schedule_broadcasts(app, scheduler, stored)
    return scheduler


async def store_jobs(app: App) -> None:
    """Write the jobs into the store without running anything (the CLI after a change).

    A running bot picks the change up at its next wake-up (at the latest after one sweep
    interval), since its scheduler reads due jobs from the store.
    """
    scheduler = build_scheduler(app, resume=False)
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
