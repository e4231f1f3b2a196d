"""The `cases` and `case_events` tables: reads, and the one function that writes.

`write` changes a case: new column values plus one timeline event, in one transaction.
Only the case service calls it; the columns it may change are listed here. With every
change it stores `next_action_at` (handlers/cases/schedule.py), the sweep's index.

Plain SQL through the one connection (this is the intake's hot path): a new case comes
back from its INSERT … RETURNING, a changed one from its UPDATE … RETURNING.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.db import to_db, to_json, transaction
from bot.workdays import Deadlines
from handlers.cases.model import Actor, Case, CaseEvent, EventKind, Status
from handlers.cases.schedule import next_action_at

log = logging.getLogger(__name__)

__all__ = ["CHANGEABLE", "OPEN_SQL", "CaseStore", "track"]

#: the open statuses as a literal SQL condition: the partial indexes of the staff queries
#: (migration m011) carry it, and a query uses them only when its WHERE repeats it word for
#: word (tests/test_schedule.py checks it against the statuses and the plans).
OPEN_SQL = "status in ('accepted', 'in_progress', 'new')"

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
        "follow_up_due_at",
        "follow_up_asked_at",
        "follow_up_expires_at",
        "follow_up_result",
        "follow_up_at",
        "paused_at",
        "pause_until",
        "paused_days",
    }
)


class CaseStore:
    def __init__(self, db: Database, remind_before: timedelta) -> None:
        self.db = db
        self.remind_before = remind_before

    # -- reading -------------------------------------------------------------------------

    def one(self, where: str, params: list[Any]) -> Case | None:
        return _first(self.db.execute(f"select * from cases where {where} limit 1", params))

    def get(self, case_id: int) -> Case:
        case = self.one("id = ?", [case_id])
        if case is None:
            raise KeyError(case_id)
        return case

    def where(
        self,
        where: str,
        params: list[Any],
        order_by: str = "id",
        limit: int | None = None,
        index: str | None = None,
    ) -> list[Case]:
        """Cases matching `where`; `index` names the index to read them by (the planner
        would otherwise take a broader one that fits `where`, and sort every match)."""
        sql = f"select * from {_source(index)} where {where} order by {order_by}"
        if limit is not None:
            sql += f" limit {int(limit)}"
        cursor = self.db.execute(sql, params)
        names = tuple(c[0] for c in cursor.description)
        return [Case.from_tuple(names, r) for r in cursor.fetchall()]

    def count(self, where: str, params: list[Any], index: str | None = None) -> int:
        sql = f"select count(*) from {_source(index)} where {where}"
        return int(self.db.execute(sql, params).fetchone()[0])

    def open_count(self, assignee_id: str | None = None) -> int:
        """Open cases, all or those of one assignee ('' for none): the counter m011's
        triggers keep, not a count of rows."""
        if assignee_id is None:
            row = self.db.execute("select sum(n) from open_cases").fetchone()
        else:
            row = self.db.execute(
                "select n from open_cases where assignee_id = ?", [assignee_id]
            ).fetchone()
        return int(row[0] or 0) if row else 0

    def timeline(self, case: Case) -> list[CaseEvent]:
        rows = self.db.execute(
            "select kind, actor_id, actor_name, at, text, data from case_events"
            " where case_id = ? order by id",
            [case.id],
        ).fetchall()
        return [
            CaseEvent(r[0], r[1], r[2], r[3], r[4] or "", json.loads(r[5] or "{}")) for r in rows
        ]

    # -- writing -------------------------------------------------------------------------

    def insert(self, values: Mapping[str, Any], now: datetime) -> Case:
        """A new case row, numbered YYYY-NNNN in the same statement (the service
        classifies it and gives it its deadlines)."""
        row = {**values, "next_action_at": next_action_at(values, now, self.remind_before)}
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        year = int(values["year"])
        case = _first(
            self.db.execute(
                f"insert into cases (number, seq, {columns})"
                f" select printf('%d-%04d', ?, seq), seq, {marks}"
                " from (select coalesce(max(seq), 0) + 1 as seq from cases where year = ?)"
                " returning *",
                [year, *row.values(), year],
            )
        )
        assert case is not None
        return case

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
        before = case.status
        with transaction(self.db):
            if changes:
                changes["updated_at"] = to_db(now)
                merged = {**case.__dict__, **changes}
                changes["next_action_at"] = next_action_at(merged, now, self.remind_before)
                sets = ", ".join(f"{c} = ?" for c in changes)
                updated = _first(
                    self.db.execute(
                        f"update cases set {sets} where id = ? returning *",
                        [*changes.values(), case.id],
                    )
                )
                assert updated is not None
                case = updated
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
        # One line per change; the text (a description, an answer) only at DEBUG.
        moved = f" {before} -> {changes['status']}" if "status" in changes else ""
        log.info("case %s: %s by %s%s", case.number, kind, actor.id, moved)
        log.debug("case %s %s text: %s", case.number, kind, text)
        return case

    def reschedule(self, case: Case, now: datetime) -> None:
        """A case the sweep looked at and left unchanged: when to look again (a step that
        can no longer happen, such as a reminder whose window passed, stops counting)."""
        when = next_action_at(case.__dict__, now, self.remind_before)
        self.db.execute(
            "update cases set next_action_at = ? where id = ? and next_action_at is not ?",
            [when, case.id, when],
        )


def _source(index: str | None) -> str:
    return f"cases indexed by {index}" if index else "cases"


def _first(cursor: Any) -> Case | None:
    row = cursor.fetchone()
    if row is None:
        return None
    return Case.from_tuple(tuple(c[0] for c in cursor.description), row)


def track(db: Database, case_id: int, plan: Deadlines) -> None:
    """Remember (or forget) that a case's deadlines were counted on the fallback."""
    if not plan.fallback_years:
        db.execute("delete from fallback_deadlines where case_id = ?", [case_id])
        return
    db.execute(
        "insert or replace into fallback_deadlines"
        " (case_id, start_at, limit_days, level2_days, years, computed_at)"
        " values (?, ?, ?, ?, ?, ?)",
        [
            case_id,
            to_db(plan.start),
            plan.limit_days,
            plan.level2_days,
            to_json(sorted(plan.fallback_years)),
            to_db(plan.start),
        ],
    )
