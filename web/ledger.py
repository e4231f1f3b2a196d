"""The case ledger (诉求台账): filters from the query string, one page of rows, XLSX.

Filters become one parameterised WHERE clause; unknown or malformed values are ignored
with the filter shown as empty, never an error page. Pages are fetched with one extra
row to know whether a next page exists (no count over a million rows per request).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from sqlite_utils import Database

from bot.cases import OPEN, Case
from bot.db import to_db

__all__ = ["STATUSES", "Filters", "ledger_page", "ledger_rows", "ledger_xlsx"]

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
        from urllib.parse import urlencode

        values = {**asdict(self), **changes}
        values["overdue"] = "1" if values["overdue"] else ""
        if values["page"] == 1:
            values["page"] = ""
        return urlencode({k: v for k, v in values.items() if v != ""})

    def where(self, now: datetime) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.status == "open":
            clauses.append(f"status in ({', '.join('?' for _ in OPEN)})")
            params += [str(s) for s in OPEN]
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
            clauses.append(f"status in ({', '.join('?' for _ in OPEN)}) and due_at <= ?")
            params += [*(str(s) for s in OPEN), to_db(now)]
        if self.q:
            like = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append(
                "(number like ? escape '\\' or description like ? escape '\\'"
                " or enterprise like ? escape '\\' or reporter_name like ? escape '\\')"
            )
            params += [like] * 4
        return (" and ".join(clauses) or "1 = 1"), params


def ledger_page(
    db: Database, filters: Filters, now: datetime, size: int
) -> tuple[list[Case], bool]:
    where, params = filters.where(now)
    offset = (filters.page - 1) * size
    rows = db.execute(
        f"select * from cases where {where} order by id desc limit ? offset ?",
        [*params, size + 1, offset],
    )
    columns = [d[0] for d in rows.description]
    cases = [Case.from_row(dict(zip(columns, r, strict=True))) for r in rows.fetchall()]
    return cases[:size], len(cases) > size


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
