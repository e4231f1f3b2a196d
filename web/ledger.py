"""The case ledger (诉求台账): filters from the query string, one page of rows, XLSX.

Filters become one parameterised WHERE clause; unknown or malformed values are ignored
with the filter shown as empty, never an error page. Pages are fetched with one extra
row to know whether a next page exists (no count over a million rows per request).

A page reads only the columns its table shows (`ROW_COLUMNS`, the description cut in
SQL) into `Row`s whose words are already made (status label, day, overdue) and whose
text is already HTML-escaped (`html.escape`, once per field, here and only here): the
table template (_case_table.html) prints them with autoescape off, so 50 rows cost a
few hundred microseconds instead of a millisecond of markupsafe calls.
The open statuses are written as `OPEN_SQL`, word for word, so the partial indexes of
the staff queries (bot/db.py m011) serve the overdue filter and the 工作台.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from openpyxl import Workbook
from sqlite_utils import Database

from bot.db import to_db
from bot.templates import clip
from handlers.cases.service import Case
from handlers.cases.store import OPEN_SQL

__all__ = [
    "ROW_COLUMNS",
    "STATUSES",
    "Filters",
    "Row",
    "Words",
    "ledger_page",
    "ledger_rows",
    "ledger_xlsx",
    "read_rows",
]

STATUSES = ("new", "accepted", "in_progress", "resolved", "closed", "withdrawn")
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class Filters:
    status: str = ""
    category: str = ""
    department: str = ""
    assignee: str = ""
    group: str = ""
    escalation: str = ""
    overdue: bool = False
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Filters:
        def text(key: str, limit: int = 100) -> str:
            return str(params.get(key, "")).strip()[:limit]

        page = text("page")
        escalation = text("escalation")
        status = text("status")
        return cls(
            status=status if status in STATUSES or status == "open" else "",
            category=text("category"),
            department=text("department"),
            assignee=text("assignee"),
            group=text("group"),
            escalation=escalation if escalation in ("0", "1", "2") else "",
            overdue=text("overdue") in ("1", "on", "true"),
            q=text("q"),
            page=max(1, min(int(page), 100_000)) if page.isdigit() else 1,
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters (with changes), for links and the export."""
        values = {f: getattr(self, f) for f in _FIELDS} | changes
        values["overdue"] = "1" if values["overdue"] else ""
        if values["page"] == 1:
            values["page"] = ""
        return urlencode({k: v for k, v in values.items() if v != ""})

    def links(self) -> dict[str, str]:
        """The pager's and the export's query strings."""
        return {
            "previous": self.query(page=self.page - 1),
            "next": self.query(page=self.page + 1),
            "export": self.query(page=1),
        }

    def where(self, now: datetime) -> tuple[str, list[Any]]:
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


_DESCRIPTION = 45  # characters of the description a table shows (clipped with "…")
ROW_COLUMNS = (
    "number, coalesce(nullif(enterprise, ''), reporter_name),"
    f" substr(description, 1, {_DESCRIPTION + 1}), category,"
    " coalesce(nullif(assignee_name, ''), department), status, escalation, due_at,"
    f" {OPEN_SQL} and due_at <= ?"
)


class Row(NamedTuple):
    """One line of a case table, in words, every text field HTML-escaped (`read_rows`)."""

    number: str
    who: str
    description: str
    category: str
    handler: str
    status: str
    status_label: str
    escalation: int
    due: str
    overdue: bool


@dataclass(frozen=True)
class Words:
    """How stored codes read: the console's status labels (HTML-escaped) and days (digits)."""

    status: Callable[[str], str]
    day: Callable[[str | None], str]


_html = html.escape  # quotes too: fields also go into attributes
_KNOWN = frozenset(STATUSES)


def _cut(text: str) -> str:
    """As the chat's 待办 clips: never a phone number cut in two (bot.templates.clip)."""
    return clip(text, _DESCRIPTION)


def read_rows(
    db: Database, where: str, params: list[Any], order: str, limit: int, offset: int,
    now: datetime, words: Words,
) -> list[Row]:  # fmt: skip
    """`select ROW_COLUMNS from cases where … order by … limit … offset …` as Rows."""
    cursor = db.execute(
        f"select {ROW_COLUMNS} from cases where {where} order by {order} limit ? offset ?",
        [to_db(now), *params, limit, offset],
    )
    status, day = words.status, words.day
    out = []
    for n, who, desc, cat, handler, st, esc, due, late in cursor.fetchall():
        out.append(
            Row(_html(n), _html(who or ""), _html(_cut(desc or "")), _html(cat or ""),
                _html(handler or ""), st if st in _KNOWN else "", status(st), int(esc or 0),
                day(due), bool(late))
        )  # fmt: skip
    return out


_FIELDS = tuple(f.name for f in fields(Filters))


def ledger_page(
    db: Database, filters: Filters, now: datetime, size: int, words: Words
) -> tuple[list[Row], bool]:
    """One page of the ledger, newest first, and whether another page follows."""
    where, params = filters.where(now)
    offset = (filters.page - 1) * size
    rows = read_rows(db, where, params, "id desc", size + 1, offset, now, words)
    return rows[:size], len(rows) > size


def ledger_rows(db: Database, filters: Filters, now: datetime) -> Iterator[Case]:
    where, params = filters.where(now)
    cursor = db.execute(
        f"select * from cases where {where} order by id limit ?", [*params, EXPORT_LIMIT]
    )
    columns = [d[0] for d in cursor.description]
    for row in cursor:
        yield Case.from_row(dict(zip(columns, row, strict=True)))


def ledger_xlsx(headers: list[str], rows: Iterator[list[Any]], sheet_title: str) -> bytes:
    """A write-only workbook: one header row, then the rows as given."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title)
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
