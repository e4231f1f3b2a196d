"""The real APScheduler: the sweep job persists in the bot's SQLite file, once."""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import FrozenClock
from bot.scheduler import build_scheduler
from bot.services import Services
from chamberbot.root import services as build_services
from handlers.cases.deadlines import sweep_job
from tests.conftest import (
    MEMBERS_ROOM,
    STAFF_ROOM,
    TZ,
    demo_config,
    open_case,
    running,
)


@asynccontextmanager
async def started(app: Services) -> AsyncIterator[AsyncIOScheduler]:
    scheduler = build_scheduler(app)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def stored_jobs(app: Services) -> list[dict[str, Any]]:
    """The job rows as APScheduler stored them, with the pickled state unpacked."""
    rows = app.db.execute("select id, job_state from scheduler_jobs order by id").fetchall()
    return [{"id": r[0], **pickle.loads(r[1])} for r in rows]


def queued(app: Services, conversation_id: str) -> list[str]:
    rows = app.db.table("outbox").rows_where("conversation_id = ?", [conversation_id])
    return [str(r["text"]) for r in rows]


async def test_sweep_job_is_stored_with_the_configured_interval_and_time_zone(
    app: Services,
) -> None:
    async with started(app) as scheduler:
        (job,) = [j for j in stored_jobs(app) if j["id"] == "sweep"]
        live = scheduler.get_job("sweep")

    assert job["id"] == "sweep"
    assert job["func"] == "handlers.cases.deadlines:sweep_job"
    assert job["trigger"].interval == timedelta(seconds=app.config.sweep_interval_seconds)
    assert job["trigger"].timezone == TZ
    assert job["next_run_time"].tzinfo is not None
    assert live is not None
    assert live.func is sweep_job


async def test_restart_on_the_same_file_keeps_exactly_one_sweep_job(
    app: Services, clock: FrozenClock
) -> None:
    async with started(app):
        pass
    jobs = [
        "broadcast:weekly",
        "calendar",
        "events_sweep",
        "identity_reroute",
        "policy_fetch",
        "policy_matching",
        "reports_catch_up",
        "reports_monthly",
        "surveys_sweep",
        "sweep",
    ]
    assert [j["id"] for j in stored_jobs(app)] == jobs  # they outlive the scheduler

    # The next start of the bot, with a changed interval, on the same SQLite file.
    again = build_services(
        demo_config(sweep_interval_seconds=300), db_path=app.db_path, clock=clock
    )
    try:
        async with started(again) as scheduler:
            assert sorted(j.id for j in scheduler.get_jobs()) == jobs
            (job,) = [j for j in stored_jobs(again) if j["id"] == "sweep"]
    finally:
        again.db.close()

    assert job["trigger"].interval == timedelta(minutes=5)
    assert job["trigger"].timezone == TZ


async def test_job_function_sweeps_on_the_apps_frozen_clock(
    app: Services, clock: FrozenClock
) -> None:
    open_case(app, clock.now(), "办证审批太慢")
    clock.advance(hours=24)

    with running(app):
        await sweep_job()
        await sweep_job()  # the next tick at the same frozen time queues nothing more

    (flag,) = queued(app, STAFF_ROOM)
    assert flag.startswith("【超时未响应】诉求 2026-0001")
    assert queued(app, MEMBERS_ROOM) == []


async def test_scheduler_runs_the_stored_job_against_the_running_app(
    app: Services, clock: FrozenClock
) -> None:
    open_case(app, clock.now(), "办证审批太慢")
    clock.advance(hours=24)
    done = asyncio.Event()
    events: list[JobExecutionEvent] = []

    def listen(event: JobExecutionEvent) -> None:
        events.append(event)
        done.set()

    with running(app):
        async with started(app) as scheduler:
            scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
            scheduler.modify_job("sweep", next_run_time=datetime.now(TZ))
            await asyncio.wait_for(done.wait(), timeout=10)

    assert [e.exception for e in events] == [None]
    # The sweep's notice (the start also told staff that 2027's holidays are missing).
    assert len([t for t in queued(app, STAFF_ROOM) if "超时未响应" in t]) == 1


async def test_job_without_a_running_app_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match="no running bot"):
        await sweep_job()
