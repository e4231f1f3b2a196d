"""Events and registrations in the bot's SQLite file: the feature's own tables and writes.

An event's number is its row id (1, 2, … — short and speakable). A registration is one row
per (event, contact); cancelling and registering again reuses the row. Seats are counted
from the rows, never kept as a counter: `registered` rows hold a seat, `waiting` rows queue
by (queued_at, id), `cancelled` rows hold nothing, `walk_in` rows came to 签到 without one.

Every write that depends on a count (take a seat, promote the first waiting) runs inside
`write_lock`: `BEGIN IMMEDIATE` when no transaction is open, so a second connection racing
for the last seat waits for the first to commit and then counts again. Inside a transaction
already holding the write lock (the dispatcher's, which starts by inserting the inbound
message) it is a savepoint of that transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.db import from_db, to_db

__all__ = [
    "ANNOUNCED",
    "CANCELLED",
    "DRAFT",
    "HELD",
    "MIGRATIONS",
    "REGISTERED",
    "WAITING",
    "WALK_IN",
    "Activity",
    "EventStore",
    "Registration",
    "write_lock",
]

MIGRATIONS = Migrations("chamberbot.events")

DRAFT, ANNOUNCED, CANCELLED, HELD = "draft", "announced", "cancelled", "held"
REGISTERED, WAITING, WALK_IN = "registered", "waiting", "walk_in"  # and CANCELLED


@MIGRATIONS()
def m001_events(db: Database) -> None:
    db.table("events").create(
        {
            "id": int,
            "title": str,
            "kind": str,
            "starts_at": str,
            "ends_at": str,
            "place": str,
            "capacity": int,  # 0: unlimited
            "deadline_at": str,
            "target": str,  # "all" or a tag expression
            "description": str,
            "checkin_code": str,
            "need_phone": int,
            "status": str,
            "created_at": str,
            "updated_at": str,
            "announced_at": str,
            "cancelled_at": str,
            "remind_day_at": str,  # due times of the two reminders …
            "remind_day_done_at": str,  # … and when each was queued (or skipped)
            "remind_hour_at": str,
            "remind_hour_done_at": str,
        },
        pk="id",
        not_null={"title", "kind", "starts_at", "ends_at", "status", "created_at"},
        defaults={"capacity": 0, "need_phone": 0, "target": "all", "description": ""},
    )
    db.table("events").create_index(["status", "starts_at"])
    db.table("registrations").create(
        {
            "id": int,
            "event_id": int,
            "contact_id": str,
            "name": str,
            "enterprise": str,
            "phone": str,
            "conversation_id": str,  # where they registered: a group or their private chat
            "is_group": int,
            "status": str,
            "registered_at": str,  # first sign-up
            "queued_at": str,  # the latest (re-)registration: the waiting order
            "promoted_at": str,
            "cancelled_at": str,
            "checked_in_at": str,
        },
        pk="id",
        not_null={"event_id", "contact_id", "status", "registered_at", "queued_at"},
        foreign_keys=[("event_id", "events", "id")],
    )
    db.table("registrations").create_index(["event_id", "contact_id"], unique=True)
    db.table("registrations").create_index(["event_id", "status", "queued_at"])


@contextmanager
def write_lock(db: Database) -> Iterator[None]:
    """One transaction that holds SQLite's write lock from its first statement."""
    conn = db.conn
    if conn.in_transaction:
        # A no-op write takes the lock now, before this block reads what it counts.
        conn.execute("update events set id = id where 0")
        with db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()


@dataclass(frozen=True)
class Activity:
    id: int
    title: str
    kind: str
    starts_at: str
    ends_at: str
    place: str | None
    capacity: int
    deadline_at: str | None
    target: str
    description: str
    checkin_code: str | None
    need_phone: int
    status: str
    created_at: str
    updated_at: str | None
    announced_at: str | None
    cancelled_at: str | None
    remind_day_at: str | None
    remind_day_done_at: str | None
    remind_hour_at: str | None
    remind_hour_done_at: str | None

    @property
    def start(self) -> datetime:
        return from_db(self.starts_at)

    @property
    def end(self) -> datetime:
        return from_db(self.ends_at)

    @property
    def deadline(self) -> datetime:
        return from_db(self.deadline_at) if self.deadline_at else self.start


@dataclass(frozen=True)
class Registration:
    id: int
    event_id: int
    contact_id: str
    name: str | None
    enterprise: str | None
    phone: str | None
    conversation_id: str
    is_group: int
    status: str
    registered_at: str
    queued_at: str
    promoted_at: str | None
    cancelled_at: str | None
    checked_in_at: str | None


_EVENT_FIELDS = tuple(f.name for f in fields(Activity))
_REG_FIELDS = tuple(f.name for f in fields(Registration))


def _event(row: dict[str, Any]) -> Activity:
    values: dict[str, Any] = {k: row.get(k) for k in _EVENT_FIELDS}
    return Activity(**values)


def _reg(row: dict[str, Any]) -> Registration:
    values: dict[str, Any] = {k: row.get(k) for k in _REG_FIELDS}
    return Registration(**values)


class EventStore:
    """Reads and plain writes; the rules that decide them live in service.py."""

    def __init__(self, db: Database) -> None:
        self.db = db  # the tables come from MIGRATIONS, applied by open_db (the manifest)

    # -- events ---------------------------------------------------------------------------

    def create(self, values: dict[str, Any], now: datetime) -> Activity:
        stamp = to_db(now)
        with write_lock(self.db):
            table = self.db.table("events")
            table.insert({**values, "created_at": stamp, "updated_at": stamp})
            return self.get(int(table.last_pk))  # type: ignore[arg-type]

    def get(self, event_id: int) -> Activity:
        return _event(self.db.table("events").get(event_id))

    def find(self, event_id: int) -> Activity | None:
        rows = list(self.db.table("events").rows_where("id = ?", [event_id]))
        return _event(rows[0]) if rows else None

    def update(self, event: Activity, now: datetime, **values: Any) -> Activity:
        self.db.table("events").update(event.id, {**values, "updated_at": to_db(now)})
        return self.get(event.id)

    def where(self, sql: str | None = None, params: Sequence[Any] = ()) -> list[Activity]:
        rows = self.db.table("events").rows_where(sql, list(params), order_by="starts_at, id")
        return [_event(r) for r in rows]

    # -- registrations --------------------------------------------------------------------

    def registration(self, event_id: int, contact_id: str | Sequence[str]) -> Registration | None:
        """A contact's registration; given the contacts of a person, the one still standing
        (not cancelled), else the latest."""
        ids = [contact_id] if isinstance(contact_id, str) else list(contact_id)
        marks = ", ".join("?" * len(ids))
        rows = list(
            self.db.table("registrations").rows_where(
                f"event_id = ? and contact_id in ({marks})",
                [event_id, *ids],
                order_by="status = 'cancelled', queued_at desc, id desc",
            )
        )
        return _reg(rows[0]) if rows else None

    def registrations(self, event_id: int, *statuses: str) -> list[Registration]:
        sql, params = "event_id = ?", [event_id, *statuses]
        if statuses:
            sql += f" and status in ({', '.join('?' for _ in statuses)})"
        rows = self.db.table("registrations").rows_where(sql, params, order_by="queued_at, id")
        return [_reg(r) for r in rows]

    def seats_taken(self, event_id: int) -> int:
        return self.db.table("registrations").count_where(
            "event_id = ? and status = ?", [event_id, REGISTERED]
        )

    def waiting_position(self, reg: Registration) -> int:
        row = self.db.execute(
            "select count(*) from registrations where event_id = ? and status = ?"
            " and (queued_at < ? or (queued_at = ? and id <= ?))",
            [reg.event_id, WAITING, reg.queued_at, reg.queued_at, reg.id],
        ).fetchone()
        return int(row[0])

    def save_registration(self, values: dict[str, Any]) -> Registration:
        """Insert, or update the one row of (event, contact)."""
        table = self.db.table("registrations")
        old = self.registration(values["event_id"], values["contact_id"])
        if old is None:
            table.insert(values)
        else:
            table.update(old.id, values)
        found = self.registration(values["event_id"], values["contact_id"])
        assert found is not None
        return found

    def set_registration(self, reg: Registration, **values: Any) -> Registration:
        self.db.table("registrations").update(reg.id, values)
        found = self.registration(reg.event_id, reg.contact_id)
        assert found is not None
        return found
