"""Cases (诉求): the store, the lifecycle, and the one function that changes a case.

Every change is an event on the case's timeline (actor, time, text), written by
`CaseStore.record` together with the new column values, in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.config import Config
from bot.db import from_db, to_db, to_json
from bot.normalize import normalize, parse_case_ref
from bot.workdays import add_workdays

__all__ = [
    "ACCEPTED",
    "CLOSED",
    "IN_PROGRESS",
    "NEW",
    "OPEN",
    "RESOLVED",
    "WITHDRAWN",
    "Ambiguous",
    "Case",
    "CaseStore",
    "Classification",
    "Event",
    "classify",
]

NEW, ACCEPTED, IN_PROGRESS = "new", "accepted", "in_progress"
RESOLVED, CLOSED, WITHDRAWN = "resolved", "closed", "withdrawn"
OPEN = (NEW, ACCEPTED, IN_PROGRESS)


@dataclass(frozen=True)
class Classification:
    category: str
    aspect: str
    department: str
    limit_days: int


def classify(description: str, config: Config) -> Classification:
    """Keyword rules from config: the category (and sub-aspect) with the most hits wins."""
    text = normalize(description)
    best: tuple[int, Classification] | None = None
    for cat in config.categories:
        candidates = [("", cat.keywords)] + [(a.name, a.keywords) for a in cat.aspects]
        for aspect, words in candidates:
            hits = sum(1 for w in words if normalize(w) in text)
            if hits and (best is None or hits > best[0]):
                best = (hits, Classification(cat.name, aspect, cat.department, cat.limit_days))
    if best:
        return best[1]
    c = config.cases
    return Classification(c.default_category, "", c.default_department, c.default_limit_days)


@dataclass(frozen=True)
class Case:
    id: int
    number: str
    year: int
    seq: int
    reporter_id: str
    reporter_name: str
    enterprise: str | None
    conversation_id: str
    conversation_is_group: int
    description: str
    category: str
    aspect: str | None
    department: str
    assignee_id: str | None
    assignee_name: str | None
    status: str
    escalation: int
    reopen_count: int
    rating: str | None
    rating_reason: str | None
    created_at: str
    updated_at: str
    first_response_at: str | None
    response_due_at: str
    response_flagged_at: str | None
    due_at: str
    reminded_at: str | None
    level2_due_at: str
    resolved_at: str | None
    rate_due_at: str | None
    closed_at: str | None
    close_reason: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Case:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def overdue(self, now: datetime) -> bool:
        return self.is_open and from_db(self.due_at) <= now


@dataclass(frozen=True)
class Event:
    kind: str
    actor_id: str
    actor_name: str
    at: str
    text: str
    data: dict[str, Any]


class Ambiguous(Exception):
    """A short case number that matches cases of several years."""

    def __init__(self, numbers: list[str]) -> None:
        super().__init__(", ".join(numbers))
        self.numbers = numbers


class CaseStore:
    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config

    # -- reading -------------------------------------------------------------------------

    def _one(self, where: str, params: list[Any]) -> Case | None:
        rows = list(self.db.table("cases").rows_where(where, params, limit=1))
        return Case.from_row(rows[0]) if rows else None

    def get(self, case_id: int) -> Case:
        case = self._one("id = ?", [case_id])
        if case is None:
            raise KeyError(case_id)
        return case

    def find(self, ref: str, now: datetime) -> Case | None:
        """`2025-0042`, `0042`, `42`, `#42`. Raises Ambiguous when several years match."""
        parsed = parse_case_ref(ref)
        if parsed is None:
            return None
        year, seq = parsed
        if year is not None:
            return self._one("year = ? and seq = ?", [year, seq])
        rows = [
            Case.from_row(r)
            for r in self.db.table("cases").rows_where("seq = ?", [seq], order_by="year desc")
        ]
        if len(rows) <= 1:
            return rows[0] if rows else None
        this_year = [c for c in rows if c.year == now.year]
        open_ = [c for c in rows if c.is_open]
        if len(open_) == 1:
            return open_[0]
        if len(this_year) == 1 and not open_:
            return this_year[0]
        raise Ambiguous([c.number for c in rows])

    def where(self, where: str, params: list[Any], order_by: str = "id") -> list[Case]:
        rows = self.db.table("cases").rows_where(where, params, order_by=order_by)
        return [Case.from_row(r) for r in rows]

    def timeline(self, case: Case) -> list[Event]:
        return [
            Event(
                r["kind"],
                r["actor_id"],
                r["actor_name"],
                r["at"],
                r["text"] or "",
                json.loads(r["data"] or "{}"),
            )
            for r in self.db.table("case_events").rows_where(
                "case_id = ?", [case.id], order_by="id"
            )
        ]

    # -- writing -------------------------------------------------------------------------

    def record(
        self,
        case: Case,
        kind: str,
        actor_id: str,
        actor_name: str,
        now: datetime,
        text: str = "",
        data: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Case:
        """The one way a case changes: new column values plus an event, atomically."""
        with self.db.atomic():
            if changes:
                changes["updated_at"] = to_db(now)
                self.db.table("cases").update(case.id, changes)
            self.db.table("case_events").insert(
                {
                    "case_id": case.id,
                    "kind": kind,
                    "actor_id": actor_id,
                    "actor_name": actor_name,
                    "at": to_db(now),
                    "text": text,
                    "data": to_json(data or {}),
                }
            )
        return self.get(case.id)

    def open(
        self,
        *,
        reporter_id: str,
        reporter_name: str,
        enterprise: str | None,
        conversation_id: str,
        is_group: bool,
        description: str,
        now: datetime,
    ) -> Case:
        """A new case, numbered YYYY-NNNN, classified, with its deadlines."""
        found = classify(description, self.config)
        limits = self.config.cases
        due = add_workdays(now, found.limit_days)
        with self.db.atomic():
            row = self.db.execute(
                "select coalesce(max(seq), 0) + 1 from cases where year = ?", [now.year]
            ).fetchone()
            seq = int(row[0])
            case_id = (
                self.db.table("cases")
                .insert(
                    {
                        "number": f"{now.year}-{seq:04d}",
                        "year": now.year,
                        "seq": seq,
                        "reporter_id": reporter_id,
                        "reporter_name": reporter_name,
                        "enterprise": enterprise,
                        "conversation_id": conversation_id,
                        "conversation_is_group": int(is_group),
                        "description": description,
                        "category": found.category,
                        "aspect": found.aspect,
                        "department": found.department,
                        "status": NEW,
                        "escalation": 0,
                        "reopen_count": 0,
                        "created_at": to_db(now),
                        "updated_at": to_db(now),
                        "response_due_at": to_db(
                            now + timedelta(hours=limits.first_response_hours)
                        ),
                        "due_at": to_db(due),
                        "level2_due_at": to_db(add_workdays(due, limits.level2_after_days)),
                    }
                )
                .last_pk
            )
            case = self.get(int(str(case_id)))
            return self.record(
                case,
                "opened",
                reporter_id,
                reporter_name,
                now,
                description,
                {"category": found.category, "department": found.department},
            )

    def limit_days(self, case: Case) -> int:
        for cat in self.config.categories:
            if cat.name == case.category:
                return cat.limit_days
        return self.config.cases.default_limit_days

    def new_deadlines(self, now: datetime, case: Case) -> dict[str, str | None]:
        """Fresh resolution deadlines, for a reopened case."""
        due = add_workdays(now, self.limit_days(case))
        return {
            "due_at": to_db(due),
            "level2_due_at": to_db(add_workdays(due, self.config.cases.level2_after_days)),
            "reminded_at": None,
        }
