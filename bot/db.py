"""The one SQLite file (WAL) and its schema, changed only through migrations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = [
    "MIGRATIONS",
    "PRAGMAS",
    "from_db",
    "open_db",
    "to_db",
    "to_json",
    "transaction",
]

MIGRATIONS = Migrations("chamberbot")

#: m011's open statuses, frozen with the migration (the live condition, which must repeat
#: it word for word to use m011's partial indexes, is handlers/cases/store.py's OPEN_SQL)
_M011_OPEN = "status in ('accepted', 'in_progress', 'new')"


@lru_cache(maxsize=1024)  # a message stamps the same few instants many times
def to_db(when: datetime) -> str:
    """Times are stored in UTC ISO form, so text comparison orders them."""
    if when.tzinfo is None:
        raise ValueError("naive datetime")
    return when.astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text)


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # dumps() would build one per call


def to_json(value: Any) -> str:
    return _ENCODE(value)


#: Every connection's settings: WAL with synchronous=NORMAL (durable across a crash of the
#: process, one transaction per message), 16 MB of cache (the hot index pages of a million
#: cases), foreign keys enforced.
PRAGMAS = (
    "journal_mode=WAL",
    "synchronous=NORMAL",
    "busy_timeout=5000",
    "cache_size=-16000",
    "foreign_keys=ON",
)


class transaction:
    """One transaction for a multi-row write: the caller's, if one is open (an error then
    rolls back with the caller's transaction), else BEGIN … COMMIT (ROLLBACK on an error).
    Plain statements on the connection: no savepoint on the hot path.
    """

    __slots__ = ("conn", "owner")

    def __init__(self, db: Database) -> None:
        self.conn = db.conn
        self.owner = False

    def __enter__(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN")
            self.owner = True

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if not self.owner:
            return
        if kind is None:
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


def open_db(path: Path | str, features: Sequence[Migrations] = ()) -> Database:
    """Open (creating if needed) the database in WAL mode and apply pending migrations:
    the core's first, then each feature's own set."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = Database(path)
    for pragma in PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    MIGRATIONS.apply(db)
    for migrations in features:
        migrations.apply(db)
    return db


@MIGRATIONS()
def m001_messages(db: Database) -> None:
    db.table("inbound").create(
        {
            "message_id": str,
            "conversation_id": str,
            "sender_id": str,
            "received_at": str,
            "status": str,
        },
        pk="message_id",
    )
    db.table("outbox").create(
        {
            "id": int,
            "conversation_id": str,
            "text": str,
            "mention_ids": str,
            "created_at": str,
            "not_before": str,
            "status": str,
            "attempts": int,
            "sent_at": str,
            "error": str,
            "dedupe_key": str,
        },
        pk="id",
        not_null={"conversation_id", "text", "created_at", "not_before", "status"},
        defaults={"status": "pending", "attempts": 0, "mention_ids": "[]"},
    )
    db.table("outbox").create_index(["status", "not_before"])
    db.table("outbox").create_index(["dedupe_key"], unique=True)


@MIGRATIONS()
def m002_people_and_places(db: Database) -> None:
    db.table("conversations").create(
        {
            "id": str,
            "is_group": int,
            "topic": str,
            "kind": str,
            "tags": str,
            "first_seen": str,
            "updated_at": str,
        },
        pk="id",
        defaults={"kind": "member", "tags": "[]"},
    )
    db.table("contacts").create(
        {"id": str, "name": str, "enterprise": str, "phone": str, "updated_at": str},
        pk="id",
    )
    db.table("sessions").create(
        {
            "conversation_id": str,
            "user_id": str,
            "state": str,
            "data": str,
            "expires_at": str,
        },
        pk=("conversation_id", "user_id"),
    )


@MIGRATIONS()
def m003_cases(db: Database) -> None:
    db.table("cases").create(
        {
            "id": int,
            "number": str,
            "year": int,
            "seq": int,
            "reporter_id": str,
            "reporter_name": str,
            "enterprise": str,
            "conversation_id": str,
            "conversation_is_group": int,
            "description": str,
            "category": str,
            "aspect": str,
            "department": str,
            "assignee_id": str,
            "assignee_name": str,
            "status": str,
            "escalation": int,
            "reopen_count": int,
            "rating": str,
            "rating_reason": str,
            "created_at": str,
            "updated_at": str,
            "first_response_at": str,
            "response_due_at": str,
            "response_flagged_at": str,
            "due_at": str,
            "reminded_at": str,
            "level2_due_at": str,
            "resolved_at": str,
            "rate_due_at": str,
            "closed_at": str,
            "close_reason": str,
        },
        pk="id",
        not_null={"number", "year", "seq", "reporter_id", "status", "created_at"},
        defaults={"escalation": 0, "reopen_count": 0},
    )
    db.table("cases").create_index(["number"], unique=True)
    db.table("cases").create_index(["year", "seq"], unique=True)
    db.table("cases").create_index(["seq"])
    db.table("cases").create_index(["reporter_id"])
    db.table("cases").create_index(["status", "due_at"])
    db.table("case_events").create(
        {
            "id": int,
            "case_id": int,
            "kind": str,
            "actor_id": str,
            "actor_name": str,
            "at": str,
            "text": str,
            "data": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db.table("case_events").create_index(["case_id"])


@MIGRATIONS()
def m007_channels(db: Database) -> None:
    """Every stored conversation id carries its channel; what was stored is WeChat's."""
    for table in ("inbound", "outbox", "cases", "sessions", "conversations"):
        db.execute(f"alter table {table} add column channel text not null default 'wechat'")


@MIGRATIONS()
def m010_inbound_journal(db: Database) -> None:
    """Every message read off a stream, before handling (bot/journal.py); outbox rows whose
    delivery is unknown (cut off mid-send) get the status `unknown`."""
    db.table("journal").create(
        {
            "seq": int,
            "channel": str,
            "message_id": str,
            "status": str,
            "incoming": str,
            "read_at": float,
            "committed_at": float,
        },
        pk="seq",
        not_null={"channel", "message_id", "status"},
    )
    db.table("journal").create_index(["channel", "message_id"], unique=True)
    db.table("journal").create_index(["channel", "status", "seq"])


@MIGRATIONS()
def m011_staff_query_indexes(db: Database) -> None:
    """Indexes that fit 待办 and each of its filters, and `next_action_at`: when the sweep
    next has something to do for a case (NULL: never), so a pass reads the due cases only.

    Rows already stored get their creation time (the earliest a step could be due): the
    first pass after the upgrade looks at each once and stores the exact time.
    """
    db.execute("alter table cases add column next_action_at text")
    db.execute(
        f"update cases set next_action_at = created_at where {_M011_OPEN} or status = 'resolved'"
    )
    db.execute(
        "create index cases_next_action on cases (next_action_at) where next_action_at is not null"
    )
    # (status, due_at) is superseded by the partial indexes below: left in place, the planner
    # took it for 待办 未分配 and 超期 and read every open row (0.1 s at a million cases)
    db.execute("drop index idx_cases_status_due_at")
    db.execute(f"create index cases_open_due on cases (due_at) where {_M011_OPEN}")
    db.execute(
        "create index cases_open_unassigned on cases (due_at)"
        f" where {_M011_OPEN} and ifnull(assignee_id, '') = ''"
    )
    db.execute(
        f"create index cases_open_assignee on cases (assignee_id, due_at) where {_M011_OPEN}"
    )
    db.execute(
        "create index cases_open_unanswered on cases (response_due_at)"
        f" where {_M011_OPEN} and ifnull(first_response_at, '') = ''"
    )
    # How many cases are open, per assignee ('' for none), kept by triggers: 待办's count
    # without counting 100,000 index entries.
    db.execute("create table open_cases (assignee_id text primary key, n integer not null)")
    db.execute(
        "insert into open_cases select ifnull(assignee_id, ''), count(*) from cases"
        f" where {_M011_OPEN} group by 1"
    )
    for event, row, step in (("insert", "new", 1), ("delete", "old", -1)):
        db.execute(_count_trigger(f"open_cases_{event}", f"after {event}", row, step))
    update = "after update of status, assignee_id"
    db.execute(_count_trigger("open_cases_update_old", update, "old", -1))
    db.execute(_count_trigger("open_cases_update_new", update, "new", 1))


def _count_trigger(name: str, when: str, row: str, step: int) -> str:
    is_open = _M011_OPEN.replace("status", f"{row}.status")
    return (
        f"create trigger {name} {when} on cases for each row when {is_open} begin"
        f" insert into open_cases values (ifnull({row}.assignee_id, ''), {step})"
        f" on conflict (assignee_id) do update set n = n + {step}; end"
    )


@MIGRATIONS()
def m012_fallback_deadlines(db: Database) -> None:
    # Deadlines counted Monday-Friday through a year no calendar knew yet, with what they
    # were counted from, so they are recomputed when the year's schedule arrives
    # (bot/calendar_watch.py). years: JSON list of the years counted on the fallback.
    db.table("fallback_deadlines").create(
        {
            "case_id": int,
            "start_at": str,
            "limit_days": int,
            "level2_days": int,
            "years": str,
            "computed_at": str,
        },
        pk="case_id",
        foreign_keys=[("case_id", "cases", "id")],
    )


@MIGRATIONS()
def m013_reply_to_and_contact_channel(db: Database) -> None:
    """An outbox row may answer an inbound message (`reply_to`: its id), which a channel
    that threads replies uses; a contact remembers the channel it was last seen on, where a
    notice to it goes."""
    db.execute("alter table outbox add column reply_to text")
    db.execute("alter table contacts add column channel text")


@MIGRATIONS()
def m014_outbox_choices(db: Database) -> None:
    """A queued message keeps the choices it offers (buttons where the channel has them):
    a JSON list of [label, command], or null."""
    db.table("outbox").add_column("choices", str)
