"""The `cases` and `case_events` tables: reads, and the one function that writes.

`write` changes a case: new column values plus one timeline event, in one transaction.
Only the case service calls it; the columns it may change are listed here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.cases.model import Actor, Case, Event, EventKind, Status
from bot.db import to_db, to_json

__all__ = ["CHANGEABLE", "CaseStore"]

#: the columns an event may change (never the number, the reporter or the origin)
CHANGEABLE = frozenset(
    {
        "category",
        "aspect",
        "department",
        "assignee_id",
        "assignee_name",
        "status",
        "escalation",
        "reopen_count",
        "rating",
        "rating_reason",
        "first_response_at",
        "response_due_at",
        "response_flagged_at",
        "due_at",
        "reminded_at",
        "level2_due_at",
        "resolved_at",
        "rate_due_at",
        "closed_at",
        "close_reason",
    }
)


class CaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- reading -------------------------------------------------------------------------

    def one(self, where: str, params: list[Any]) -> Case | None:
        cursor = self.db.execute(f"select * from cases where {where} limit 1", params)
        row = cursor.fetchone()
        if row is None:
            return None
        return Case.from_row(dict(zip([c[0] for c in cursor.description], row, strict=True)))

    def get(self, case_id: int) -> Case:
        case = self.one("id = ?", [case_id])
        if case is None:
            raise KeyError(case_id)
        return case

    def where(
        self, where: str, params: list[Any], order_by: str = "id", limit: int | None = None
    ) -> list[Case]:
        sql = f"select * from cases where {where} order by {order_by}"
        if limit is not None:
            sql += f" limit {int(limit)}"
        cursor = self.db.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [Case.from_row(dict(zip(names, r, strict=True))) for r in cursor.fetchall()]

    def count(self, where: str, params: list[Any]) -> int:
        return int(
            self.db.execute(f"select count(*) from cases where {where}", params).fetchone()[0]
        )

    def timeline(self, case: Case) -> list[Event]:
        rows = self.db.execute(
            "select kind, actor_id, actor_name, at, text, data from case_events"
            " where case_id = ? order by id",
            [case.id],
        ).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4] or "", json.loads(r[5] or "{}")) for r in rows]

    # -- writing -------------------------------------------------------------------------

    def insert(self, values: Mapping[str, Any]) -> int:
        """A new case row (the service numbers and classifies it)."""
        columns = list(values)
        cursor = self.db.execute(
            f"insert into cases ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
            list(values.values()),
        )
        return int(cursor.lastrowid or 0)

    def write(
        self,
        case: Case,
        kind: EventKind,
        actor: Actor,
        now: datetime,
        text: str = "",
        data: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
    ) -> Case:
        changes = dict(changes or {})
        unknown = set(changes) - CHANGEABLE
        if unknown:
            raise ValueError(f"not a changeable case column: {sorted(unknown)}")
        if "status" in changes:
            changes["status"] = str(Status(changes["status"]))
        with self.db.atomic():
            if changes:
                changes["updated_at"] = to_db(now)
                sets = ", ".join(f"{c} = ?" for c in changes)
                self.db.execute(
                    f"update cases set {sets} where id = ?", [*changes.values(), case.id]
                )
            self.db.execute(
                "insert into case_events (case_id, kind, actor_id, actor_name, at, text, data)"
                " values (?, ?, ?, ?, ?, ?, ?)",
                [
                    case.id,
                    str(kind),
                    actor.id,
                    actor.name,
                    to_db(now),
                    text,
                    to_json(dict(data or {})),
                ],
            )
        return self.get(case.id)
