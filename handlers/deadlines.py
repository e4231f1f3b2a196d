"""Time limits of the case loop: one periodic sweep acts on the stored deadlines.

There is no timer per case. Every case carries its deadlines as columns
(`response_due_at`, `due_at`, `level2_due_at`, `rate_due_at`) and a marker for each
step already taken (`response_flagged_at`, `reminded_at`, `escalation`, `status`), so a
pass is idempotent: running it twice at the same time queues nothing the second time.
A case that crossed several thresholds while the bot was down gets each step once, in
order, in a single pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.app import App
from bot.cases import ACCEPTED, CLOSED, NEW, OPEN, RESOLVED, Case
from bot.db import from_db, to_db
from bot.messages import Outgoing
from bot.scheduler import running_app

__all__ = ["sweep", "sweep_job"]

log = logging.getLogger(__name__)

SYSTEM_ID, SYSTEM_NAME = "system", "系统"

Step = Callable[[App, Case, datetime], tuple[Case, list[Outgoing]]]


def _at(value: str | None) -> datetime | None:
    return from_db(value) if value else None


def _is_due(value: str | None, now: datetime) -> bool:
    when = _at(value)
    return when is not None and when <= now


def _event_text(app: App, kind: str, case: Case, **context: object) -> str:
    return app.render("deadline_event", kind=kind, case=case, **context)


# -- the steps, in the order a case meets them --------------------------------------------


def _response_overdue(app: App, case: Case, now: datetime) -> tuple[Case, list[Outgoing]]:
    """件件有回应: nobody has answered a new case within the first-response limit."""
    if not (
        case.status in (NEW, ACCEPTED)
        and not case.first_response_at
        and not case.response_flagged_at
        and _is_due(case.response_due_at, now)
    ):
        return case, []
    hours = int((now - from_db(case.created_at)) / timedelta(hours=1))
    case = app.cases.record(
        case,
        "response_overdue",
        SYSTEM_ID,
        SYSTEM_NAME,
        now,
        _event_text(app, "response_overdue", case, hours=hours),
        {"hours": hours},
        response_flagged_at=to_db(now),
    )
    outs = app.to_staff(
        "deadline_response_overdue",
        case=case,
        hours=hours,
        limit=app.config.cases.first_response_hours,
        claim=app.router.keyword("claim"),
    )
    return case, outs


def _remind(app: App, case: Case, now: datetime) -> tuple[Case, list[Outgoing]]:
    """Before the resolution deadline: the assignee privately, else the staff rooms."""
    due = _at(case.due_at)
    before = timedelta(hours=app.config.cases.remind_before_hours)
    if not (case.is_open and not case.reminded_at and due and due - before <= now < due):
        return case, []
    to = case.assignee_id
    case = app.cases.record(
        case,
        "reminded",
        SYSTEM_ID,
        SYSTEM_NAME,
        now,
        _event_text(app, "reminded", case, to_name=app.staff_name(to) if to else None),
        {"to": to or "staff_rooms"},
        reminded_at=to_db(now),
    )
    resolve = app.router.keyword("resolve")
    if to:
        return case, [app.to_contact(to, "deadline_reminder", case=case, resolve=resolve)]
    return case, app.to_staff("deadline_reminder", case=case, resolve=resolve)


def _escalate(level: int) -> Step:
    def step(app: App, case: Case, now: datetime) -> tuple[Case, list[Outgoing]]:
        deadline = case.due_at if level == 1 else case.level2_due_at
        if not (case.is_open and (case.escalation or 0) < level and _is_due(deadline, now)):
            return case, []
        days = app.config.cases.level2_after_days
        case = app.cases.record(
            case,
            "escalated",
            SYSTEM_ID,
            SYSTEM_NAME,
            now,
            _event_text(app, "escalated", case, level=level, days=days),
            {"level": level, "from": case.escalation or 0, "reason": "overdue"},
            escalation=level,
        )
        outs = app.to_staff("deadline_escalated", case=case, days=days)
        outs.append(app.to_reporter(case, "case_escalated"))
        return case, outs

    return step


def _auto_close(app: App, case: Case, now: datetime) -> tuple[Case, list[Outgoing]]:
    """No rating within the limit: closed as 未评价, never counted as satisfied."""
    if not (case.status == RESOLVED and _is_due(case.rate_due_at, now)):
        return case, []
    days = app.config.cases.auto_close_days
    case = app.cases.record(
        case,
        "closed",
        SYSTEM_ID,
        SYSTEM_NAME,
        now,
        _event_text(app, "closed", case, days=days),
        {"reason": "unrated"},
        status=CLOSED,
        rating="unrated",
        close_reason="unrated",
        closed_at=to_db(now),
    )
    return case, [app.to_reporter(case, "case_closed", days=days)]


STEPS: tuple[Step, ...] = (
    _response_overdue,
    _remind,
    _escalate(1),
    _escalate(2),
    _auto_close,
)


# -- the pass -------------------------------------------------------------------------------


def _candidates(app: App, now: datetime) -> list[Case]:
    """Cases with something due; each step re-checks its own rule on the current row."""
    stamp = to_db(now)
    remind_from = to_db(now + timedelta(hours=app.config.cases.remind_before_hours))
    marks = ", ".join("?" * len(OPEN))
    sql = (
        f"(status in ({marks}) and ("
        " (status in (?, ?) and ifnull(first_response_at, '') = ''"
        "  and ifnull(response_flagged_at, '') = '' and response_due_at <= ?)"
        " or (ifnull(reminded_at, '') = '' and due_at <= ? and due_at > ?)"
        " or (ifnull(escalation, 0) < 1 and due_at <= ?)"
        " or (ifnull(escalation, 0) < 2 and level2_due_at <= ?)"
        ")) or (status = ? and rate_due_at <= ?)"
    )
    params = [*OPEN, NEW, ACCEPTED, stamp, remind_from, stamp, stamp, stamp, RESOLVED, stamp]
    return app.cases.where(sql, params)


def sweep(app: App) -> list[Outgoing]:
    """One pass at the app's current time; returns what it queued (in one transaction)."""
    now = app.clock.now()
    outs: list[Outgoing] = []
    with app.db.atomic():
        for case in _candidates(app, now):
            for step in STEPS:
                case, said = step(app, case, now)
                outs += said
        purged = app.sessions.purge(now)
        app.outbox.enqueue(outs, scheduled=True)
    if outs or purged:
        log.info("sweep at %s: %d messages, %d stale prompts purged", now, len(outs), purged)
    return outs


async def sweep_job() -> None:
    """What APScheduler runs every `sweep_interval_seconds` (see bot/scheduler.py)."""
    sweep(running_app())
