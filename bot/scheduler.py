"""APScheduler lives here: the time zone set explicitly, jobs stored in the bot's SQLite file.

Jobs are plain functions that tests call directly; this module only registers them.
A job in the persistent store is referenced by name, so it reaches the running app
through `running_app()` rather than through pickled arguments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from bot.app import App

__all__ = ["JobSpec", "build_scheduler", "running_app", "set_running_app"]

log = logging.getLogger(__name__)
_running: App | None = None


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


def job_specs(app: App) -> list[JobSpec]:
    return [
        JobSpec(
            "sweep",
            "handlers.deadlines:sweep_job",
            IntervalTrigger(seconds=app.config.sweep_interval_seconds, timezone=app.config.tz),
        )
    ]


def build_scheduler(app: App) -> AsyncIOScheduler:
    store = SQLAlchemyJobStore(url=f"sqlite:///{app.db_path}", tablename="scheduler_jobs")
    scheduler = AsyncIOScheduler(
        timezone=app.config.tz,
        jobstores={"default": store},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    for spec in job_specs(app):
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, replace_existing=True)
    return scheduler
