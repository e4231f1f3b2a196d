"""Reminders the day before and an hour before, from stored due times, by a periodic sweep.

Each event carries `remind_day_at` / `remind_hour_at` (computed when it is created or its
start moves) and a `…_done_at` marker. A pass queues every reminder that is due, not done
and whose event has not started, and sets the marker in the same transaction; the outbox
rows carry a dedupe key as well. So a pass is idempotent, and a reminder that fell due while
the bot was down goes out once when it is back — if both fell due, only the later one (the
hour-before) goes. Only seats are reminded, never the waiting list. Reminders are scheduled
messages: quiet hours and pacing apply.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.db import to_db
from bot.messages import Outgoing
from bot.scheduler import running_services
from bot.services import Services
from handlers.events.notices import to_attendees
from handlers.events.service import EventService
from handlers.events.store import ANNOUNCED, REGISTERED, Activity, write_lock

__all__ = ["console_sweep", "remind", "sweep_job"]

log = logging.getLogger(__name__)

_KINDS = ("day", "hour")  # in the order they fall due


def _due(event: Activity, kind: str, now: datetime) -> bool:
    at, done = getattr(event, f"remind_{kind}_at"), getattr(event, f"remind_{kind}_done_at")
    return bool(at) and not done and at <= to_db(now)


def remind(app: Services, now: datetime | None = None) -> list[Outgoing]:
    """One pass: queue the due reminders; returns what was queued."""
    now = now or app.clock.now()
    svc = app.service(EventService)
    stamp = to_db(now)
    outs: list[Outgoing] = []
    with write_lock(app.db):
        events = svc.store.where(
            "status = ? and starts_at > ? and ((remind_day_done_at is null and remind_day_at <= ?)"
            " or (remind_hour_done_at is null and remind_hour_at <= ?))",
            [ANNOUNCED, stamp, stamp, stamp],
        )
        for event in events:
            due = [k for k in _KINDS if _due(event, k, now)]
            kind = due[-1]  # both overdue (the bot was down): the later one only
            attendees = svc.store.registrations(event.id, REGISTERED)
            days = (event.start.astimezone(now.tzinfo).date() - now.date()).days
            said = to_attendees(
                app, attendees, "events_reminder", event=event, kind=kind, days=days,
                checkin=app.router.keyword("event_checkin"),
            )  # fmt: skip
            app.outbox.enqueue(said, dedupe_key=f"event:{event.id}:remind:{kind}", scheduled=True)
            svc.store.update(event, now, **{f"remind_{k}_done_at": stamp for k in due})
            outs += said
        svc.mark_held(now)
    if outs:
        log.info("event reminders at %s: %d messages", now, len(outs))
    return outs


def console_sweep(services: Services, _args: str) -> str:
    """The demo's /sweep and /advance: reminders due at the demo clock."""
    remind(services)
    return ""


async def sweep_job() -> None:
    """What APScheduler runs every `sweep_interval_seconds`."""
    remind(running_services())
