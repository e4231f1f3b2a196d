"""Named queries of case listings: the console's ledger filter, the 工作台's cards, the
ledger's selections. Each returns a WHERE over `cases` and its parameters (or rows), so an
adapter never writes SQL; the open statuses appear as `OPEN_SQL`, word for word, so the
partial indexes of the staff queries (bot/db.py m011) serve them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.db import to_db
from handlers.cases.model import Status
from handlers.cases.store import OPEN_SQL

__all__ = [
    "SECTIONS",
    "STATUSES",
    "CaseFilter",
    "Selection",
    "created_between",
    "section",
    "table_rows",
]

Selection = tuple[str, list[Any]]

STATUSES = tuple(str(s) for s in Status)


def created_between(start: datetime, end: datetime) -> Selection:
    """The cases opened in [start, end)."""
    return "created_at >= ? and created_at < ?", [to_db(start), to_db(end)]


@dataclass(frozen=True)
class CaseFilter:
    """The ledger's filters; '' (or False) for "any". `status` may be "open"."""

    status: str = ""
    category: str = ""
    department: str = ""
    assignee: str = ""
    group: str = ""
    escalation: str = ""
    overdue: bool = False
    q: str = ""

    def where(self, now: datetime) -> Selection:
        clauses: list[str] = []
        params: list[Any] = []
        if self.status == "open":
            clauses.append(OPEN_SQL)
        elif self.status:
            clauses.append("status = ?")
            params.append(self.status)
        for column, value in (
            ("category", self.category),
            ("department", self.department),
            ("assignee_id", self.assignee),
            ("conversation_id", self.group),
        ):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.escalation:
            clauses.append("escalation = ?")
            params.append(int(self.escalation))
        if self.overdue:
            clauses.append(f"{OPEN_SQL} and due_at <= ?")
            params.append(to_db(now))
        if self.q:
            like = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(
                "(number like ? escape '\\' or description like ? escape '\\'"
                " or enterprise like ? escape '\\' or reporter_name like ? escape '\\')"
            )
            params += [like] * 4
        return (" and ".join(clauses) or "1 = 1"), params


# The 工作台's cards: each one's cases, in the order of the index its WHERE fits (m011).
SECTIONS = {
    "today": ("created_at >= ?", "created_at desc, id desc"),
    "waiting": (f"{OPEN_SQL} and ifnull(first_response_at, '') = ''", "response_due_at, id"),
    "overdue": (f"{OPEN_SQL} and due_at <= ?", "due_at, id"),
    "rating": ("status = 'resolved'", "id desc"),
}

DESCRIPTION = 45  # characters of the description a table shows (clipped with "…")
#: a case table's columns: number, who, the start of the description, category, handler,
#: status, escalation, due date, overdue now
ROW_COLUMNS = (
    "number, coalesce(nullif(enterprise, ''), reporter_name),"
    f" substr(description, 1, {DESCRIPTION + 1}), category,"
    " coalesce(nullif(assignee_name, ''), department), status, escalation, due_at,"
    f" {OPEN_SQL} and due_at <= ?, paused_at is not null"
)


def table_rows(
    db: Database, selection: Selection, order: str, limit: int, offset: int, now: datetime
) -> list[Any]:
    """`ROW_COLUMNS` of the cases `selection` picks, in `order`, one page."""
    where, params = selection
    return db.execute(
        f"select {ROW_COLUMNS} from cases where {where} order by {order} limit ? offset ?",
        [to_db(now), *params, limit, offset],
    ).fetchall()


def section(db: Database, key: str, params: list[Any], cap: int) -> tuple[Selection, str, int]:
    """A 工作台 card: its selection, its order and its count up to `cap` + 1."""
    where, order = SECTIONS[key]
    count = int(
        db.execute(
            f"select count(*) from (select 1 from cases where {where} order by {order} limit ?)",
            [*params, cap + 1],
        ).fetchone()[0]
    )
    return (where, params), order, count
