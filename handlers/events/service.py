"""The rules of 活动: who gets a seat, who waits, who is promoted, when check-in is open.

Chat handlers, the CLI and the reminder sweep are thin callers of these methods; none of
them writes registrations itself. Each method that reads a count and writes on it does so
in one `write_lock` transaction (see store.py). Methods return outcomes, never text.

Seats: `capacity` 0 is unlimited. A sign-up gets a seat while fewer than `capacity` hold
one, else it waits. Lowering the capacity below the seats taken drops nobody — new sign-ups
wait, and promotion starts again only once the count is below the new capacity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.db import from_db, to_db
from bot.messages import Outgoing
from bot.normalize import normalize
from handlers.events.settings import EventsSettings as Settings
from handlers.events.store import (
    ANNOUNCED,
    CANCELLED,
    DRAFT,
    HELD,
    REGISTERED,
    WAITING,
    WALK_IN,
    Activity,
    EventStore,
    Registration,
    write_lock,
)

__all__ = ["CheckIn", "EventService", "Signup", "export_status"]


@dataclass(frozen=True)
class Signup:
    """What 报名 came to: registered | waiting | already | cancelled | past | deadline."""

    outcome: str
    event: Activity
    reg: Registration | None = None
    position: int = 0  # on the waiting list, 1 = next


@dataclass(frozen=True)
class Withdrawal:
    """What 取消报名 came to: cancelled | not_registered | started, and who moved up."""

    outcome: str
    event: Activity
    reg: Registration | None = None
    promoted: list[Registration] = field(default_factory=list)


@dataclass(frozen=True)
class CheckIn:
    """checked_in | walk_in | already | wrong_code | no_code | not_yet | closed | cancelled"""

    outcome: str
    event: Activity
    reg: Registration | None = None
    opens_at: datetime | None = None


def export_status(reg: Registration, event: Activity, now: datetime) -> str:
    """registered | waiting | promoted | cancelled | checked_in | walk_in | no_show"""
    if reg.status == CANCELLED:
        return "cancelled"
    if reg.status == WALK_IN:
        return "walk_in"
    if reg.checked_in_at:
        return "checked_in"
    if reg.status == WAITING:
        return "waiting"
    if now >= event.end and event.status != CANCELLED:
        return "no_show"
    return "promoted" if reg.promoted_at else "registered"


class EventService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        same_person: Callable[[str], list[str]] | None = None,
        promotion_notices: Callable[[Activity, list[Registration]], list[Outgoing]] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        #: a contact's registrations are its person's (every linked channel's)
        self.same_person = same_person or (lambda contact_id: [contact_id])
        #: the feature's notices to those a withdrawal moved up (handlers/events/notices.py)
        self._promotion_notices = promotion_notices or (lambda event, promoted: [])
        self.store = EventStore(db)

    # -- events ---------------------------------------------------------------------------

    def _reminder_times(self, start: datetime, now: datetime) -> dict[str, str | None]:
        """Due times of the two reminders; one already past (or pointless) is marked done."""
        hour_at = start - timedelta(minutes=self.settings.remind_before_minutes)
        local = start.astimezone(now.tzinfo)
        day_at = datetime.combine(
            local.date() - timedelta(days=1), self.settings.remind_day_before_at, now.tzinfo
        )
        skip_day = day_at <= now or day_at >= hour_at
        return {
            "remind_day_at": to_db(day_at),
            "remind_day_done_at": to_db(now) if skip_day else None,
            "remind_hour_at": to_db(hour_at),
            "remind_hour_done_at": to_db(now) if hour_at <= now else None,
        }

    def create(self, values: dict[str, Any], now: datetime) -> Activity:
        start = values["starts_at"]
        row = {
            **values,
            "starts_at": to_db(start),
            "ends_at": to_db(values["ends_at"]),
            "deadline_at": to_db(values.get("deadline_at") or start),
            "status": values.get("status", DRAFT),
            **self._reminder_times(start, now),
        }
        return self.store.create(row, now)

    def edit(
        self, event: Activity, now: datetime, **values: Any
    ) -> tuple[Activity, list[Registration]]:
        """Change fields; a new start moves the reminders, more seats promote the waiting."""
        row = {k: to_db(v) if isinstance(v, datetime) else v for k, v in values.items()}
        with write_lock(self.db):
            if "starts_at" in values and row["starts_at"] != event.starts_at:
                row.update(self._reminder_times(values["starts_at"], now))
                if "deadline_at" not in values and event.deadline_at == event.starts_at:
                    row["deadline_at"] = row["starts_at"]  # the default deadline follows
            event = self.store.update(event, now, **row)
            promoted = self._promote(event, now)
        return event, promoted

    def announce(self, event: Activity, now: datetime) -> Activity:
        if event.status != DRAFT:
            return event
        with write_lock(self.db):
            return self.store.update(event, now, status=ANNOUNCED, announced_at=to_db(now))

    def cancel_event(self, event: Activity, now: datetime) -> tuple[Activity, list[Registration]]:
        """Cancelled, and everyone holding a seat or waiting (to tell them); once only."""
        with write_lock(self.db):
            current = self.store.get(event.id)
            if current.status == CANCELLED:
                return current, []
            told = self.store.registrations(event.id, REGISTERED, WAITING)
            current = self.store.update(current, now, status=CANCELLED, cancelled_at=to_db(now))
        return current, told

    def mark_held(self, now: datetime) -> int:
        """Announced events that have ended are `held`."""
        with write_lock(self.db):
            return self.db.execute(
                "update events set status = ?, updated_at = ? where status = ? and ends_at <= ?",
                [HELD, to_db(now), ANNOUNCED, to_db(now)],
            ).rowcount

    def upcoming(self, now: datetime) -> list[Activity]:
        return self.store.where("status = ? and ends_at > ?", [ANNOUNCED, to_db(now)])

    def seats_left(self, event: Activity) -> int | None:
        if not event.capacity:
            return None
        return max(event.capacity - self.store.seats_taken(event.id), 0)

    # -- registering ----------------------------------------------------------------------

    def refusal(self, event: Activity, now: datetime) -> str | None:
        if event.status == CANCELLED:
            return "cancelled"
        if event.status == HELD or now >= event.start:
            return "past"
        if now > event.deadline:
            return "deadline"
        return None

    def register(
        self,
        event_id: int,
        now: datetime,
        *,
        contact_id: str,
        name: str | None,
        enterprise: str | None,
        phone: str | None,
        conversation_id: str,
        is_group: bool,
    ) -> Signup:
        with write_lock(self.db):
            event = self.store.get(event_id)
            old = self.store.registration(event_id, self.same_person(contact_id))
            if old is not None and old.status in (REGISTERED, WAITING, WALK_IN):
                return self._standing("already", event, old)
            refused = self.refusal(event, now)
            if refused:
                return Signup(refused, event, old)
            full = bool(event.capacity) and self.store.seats_taken(event_id) >= event.capacity
            stamp = to_db(now)
            reg = self.store.save_registration(
                {
                    "event_id": event_id,
                    "contact_id": contact_id,
                    "name": name,
                    "enterprise": enterprise,
                    "phone": phone,
                    "conversation_id": conversation_id,
                    "is_group": int(is_group),
                    "status": WAITING if full else REGISTERED,
                    "registered_at": old.registered_at if old else stamp,
                    "queued_at": stamp,
                    "promoted_at": None,
                    "cancelled_at": None,
                    "checked_in_at": None,
                }
            )
            return self._standing(reg.status, event, reg)

    def _standing(self, outcome: str, event: Activity, reg: Registration) -> Signup:
        position = self.store.waiting_position(reg) if reg.status == WAITING else 0
        return Signup(outcome, event, reg, position)

    def standing(self, event: Activity, contact_id: str) -> Signup | None:
        reg = self.store.registration(event.id, self.same_person(contact_id))
        if reg is None or reg.status == CANCELLED:
            return None
        return self._standing("already", event, reg)

    def withdraw(self, event_id: int, contact_id: str, now: datetime) -> Withdrawal:
        """取消报名: the seat is freed and the first waiting takes it, in one transaction."""
        with write_lock(self.db):
            event = self.store.get(event_id)
            reg = self.store.registration(event_id, self.same_person(contact_id))
            if reg is None or reg.status not in (REGISTERED, WAITING):
                return Withdrawal("not_registered", event, reg)
            if now >= event.start or event.status in (CANCELLED, HELD):
                return Withdrawal("started", event, reg)
            reg = self.store.set_registration(reg, status=CANCELLED, cancelled_at=to_db(now))
            promoted = self._promote(event, now)
        return Withdrawal("cancelled", event, reg, promoted)

    def promotion_notices(self, done: Withdrawal) -> list[Outgoing]:
        """What tells the members a withdrawal moved up from the waiting list, and the staff
        rooms (the events feature's own notices), for every caller to queue: chat after its
        reply, the member page at once."""
        return self._promotion_notices(done.event, done.promoted) if done.promoted else []

    def _promote(self, event: Activity, now: datetime) -> list[Registration]:
        """Fill free seats from the head of the waiting list (inside the caller's lock)."""
        if event.status in (CANCELLED, HELD) or now >= event.start:
            return []
        free = None if not event.capacity else event.capacity - self.store.seats_taken(event.id)
        waiting = self.store.registrations(event.id, WAITING)
        moved = waiting if free is None else waiting[: max(free, 0)]
        return [
            self.store.set_registration(r, status=REGISTERED, promoted_at=to_db(now))
            for r in moved
        ]

    # -- check-in -------------------------------------------------------------------------

    def window(self, event: Activity) -> tuple[datetime, datetime]:
        return event.start - timedelta(minutes=self.settings.checkin_opens_minutes), event.end

    def check_in(
        self,
        event_id: int,
        code: str,
        now: datetime,
        *,
        contact_id: str,
        name: str | None,
        enterprise: str | None,
        conversation_id: str,
        is_group: bool,
    ) -> CheckIn:
        with write_lock(self.db):
            event = self.store.get(event_id)
            opens, closes = self.window(event)
            if event.status == CANCELLED:
                return CheckIn("cancelled", event)
            if now < opens:
                return CheckIn("not_yet", event, opens_at=opens)
            if now >= closes:
                return CheckIn("closed", event)
            reg = self.store.registration(event_id, self.same_person(contact_id))
            if reg is not None and reg.checked_in_at:
                return CheckIn("already", event, reg)
            if event.checkin_code and normalize(code) != normalize(event.checkin_code):
                return CheckIn("wrong_code" if code else "no_code", event, reg)
            stamp = to_db(now)
            if reg is not None and reg.status == REGISTERED:
                reg = self.store.set_registration(reg, checked_in_at=stamp)
                return CheckIn("checked_in", event, reg)
            walk_in = self.store.save_registration(
                {
                    "event_id": event_id,
                    "contact_id": reg.contact_id if reg else contact_id,
                    "name": (reg.name if reg else None) or name,
                    "enterprise": (reg.enterprise if reg else None) or enterprise,
                    "conversation_id": reg.conversation_id if reg else conversation_id,
                    "is_group": reg.is_group if reg else int(is_group),
                    "status": WALK_IN,
                    "registered_at": reg.registered_at if reg else stamp,
                    "queued_at": reg.queued_at if reg else stamp,
                    "checked_in_at": stamp,
                }
            )
            return CheckIn("walk_in", event, walk_in)

    def checked_in_at(self, reg: Registration) -> datetime | None:
        return from_db(reg.checked_in_at) if reg.checked_in_at else None
