"""What the bot tells people about an event: announcements, promotions, cancellations.

Messages to many attendees go one per group, @-mentioning them in chunks of at most
`events.mentions_per_message`, and privately to those who registered in a private chat.
Anything queued outside a member's own message (announce, cancel, reminders) carries an
outbox dedupe key, so running it again — after a restart, from the CLI twice — queues
nothing more.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.messages import Outgoing
from bot.places import Group
from bot.services import Services
from bot.targeting import parse_target
from handlers.events.service import EventService
from handlers.events.settings import settings
from handlers.events.store import (
    ANNOUNCED,
    REGISTERED,
    WAITING,
    Activity,
    Registration,
    write_lock,
)

__all__ = [
    "announce",
    "cancel_event",
    "edit_event",
    "event_view",
    "promoted_notices",
    "target_groups",
    "to_attendees",
]


def event_view(app: Services, event: Activity) -> dict[str, Any]:
    """The event and its seat count as the templates show them."""
    return {"event": event, "left": app.service(EventService).seats_left(event)}


def target_groups(app: Services, event: Activity) -> list[Group]:
    target = parse_target(event.target)
    return [g for g in app.places.member_groups() if target.matches(g.tags)]


def to_attendees(
    app: Services, regs: Sequence[Registration], template: str, **context: Any
) -> list[Outgoing]:
    """One message per group (mentions chunked), one private message per private sign-up."""
    size = settings(app.config).mentions_per_message
    by_group: dict[str, list[str]] = {}
    private: list[str] = []
    for reg in regs:
        if reg.is_group:
            by_group.setdefault(reg.conversation_id, []).append(reg.contact_id)
        else:
            private.append(reg.contact_id)
    outs: list[Outgoing] = []
    for group, ids in sorted(by_group.items()):
        for start in range(0, len(ids), size):
            outs.append(app.notices.to(group, template, ids[start : start + size], **context))
    outs += [app.notices.to_contact(contact, template, **context) for contact in private]
    return outs


def announce(app: Services, event: Activity, now: datetime) -> tuple[Activity, dict[str, int]]:
    """Post the event to each target group once (ever); returns group id → rows queued."""
    queued: dict[str, int] = {}
    with write_lock(app.db):
        event = app.service(EventService).announce(event, now)
        view = event_view(app, event)
        for group in target_groups(app, event):
            out = app.notices.to(group.id, "events_announce", **view)
            queued[group.id] = app.outbox.enqueue(
                [out], dedupe_key=f"event:{event.id}:announce:{group.id}", scheduled=True
            )
    return event, queued


def cancel_event(app: Services, event: Activity, now: datetime) -> tuple[Activity, int]:
    """Cancel and tell every registrant (seat or waiting list) once; rows queued."""
    with write_lock(app.db):
        event, told = app.service(EventService).cancel_event(event, now)
        outs = to_attendees(app, told, "events_cancelled", event=event)
        queued = app.outbox.enqueue(outs, dedupe_key=f"event:{event.id}:cancelled", scheduled=True)
    return event, queued


def edit_event(
    app: Services, event: Activity, now: datetime, **values: Any
) -> tuple[Activity, list[Registration]]:
    """Change an event (CLI and web alike). The promoted are told (with the time and place);
    when an announced event's time or place moves, so is everyone else holding a seat or
    waiting."""
    svc = app.service(EventService)
    with write_lock(app.db):
        changed, promoted = svc.edit(event, now, **values)
        outs = promoted_notices(app, changed, promoted)
        moved = (changed.starts_at, changed.place) != (event.starts_at, event.place)
        if moved and changed.status == ANNOUNCED:
            just = {r.id for r in promoted}
            regs = svc.store.registrations(changed.id, REGISTERED, WAITING)
            told = [r for r in regs if r.id not in just]
            cancel = app.router.keyword("event_cancel")
            outs += to_attendees(
                app, told, "events_changed", event=changed, before=event, cancel=cancel
            )
        app.outbox.enqueue(outs)
    return changed, promoted


def promoted_notices(
    app: Services, event: Activity, promoted: Sequence[Registration]
) -> list[Outgoing]:
    """Each promoted member (@ where they registered, or privately) and the staff rooms."""
    outs: list[Outgoing] = []
    for reg in promoted:
        mentions = (reg.contact_id,) if reg.is_group else ()
        outs.append(app.notices.to(reg.conversation_id, "events_promoted", mentions, event=event))
    if promoted:
        names = [r.name or app.people.name(r.contact_id) for r in promoted]
        outs += app.notices.to_staff("events_staff_promoted", event=event, names=names)
    return outs
