"""The case ledger (诉求台账): filters from the query string, one page of rows, XLSX.

Filters are the cases feature's `CaseFilter` (one parameterised WHERE, a named query of
handlers/cases/listing.py); unknown or malformed values are ignored with the filter shown
as empty, never an error page. Pages are fetched with one extra row to know whether a
next page exists (no count over a million rows per request).

A page reads only the columns its table shows (listing.py's `ROW_COLUMNS`, the
description cut in SQL) into `Row`s whose words are already made (status label, day,
overdue) and whose text is already HTML-escaped (`html.escape`, once per field, here and
only here): the table template (_case_table.html) prints them with autoescape off, so 50
rows cost a few hundred microseconds instead of a millisecond of markupsafe calls.
The XLSX export is the cases feature's ledger (handlers/cases/ledger.py), built and written
in the console's worker thread on its own connection (web/offload.py; handlers/cases/web.py).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlencode

from sqlite_utils import Database

from bot.templates import clip
from handlers.cases.listing import DESCRIPTION, STATUSES, CaseFilter, Selection, table_rows
from handlers.cases.service import Ledger
from sheets import Sheet, write_xlsx

__all__ = ["EXPORT_LIMIT", "STATUSES", "Filters", "Row", "Words", "ledger_page", "ledger_xlsx",
           "read_rows"]  # fmt: skip

EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class Filters(CaseFilter):
    """The ledger's filters as the query string gives them, and the page."""

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
    paused: bool  # 待补充: the clock stands still until the enterprise's 补充


@dataclass(frozen=True)
class Words:
    """How stored codes read: the console's status labels (HTML-escaped) and days (digits)."""

    status: Callable[[str], str]
    day: Callable[[str | None], str]


_html = html.escape  # quotes too: fields also go into attributes
_KNOWN = frozenset(STATUSES)


def _cut(text: str) -> str:
    """As the chat's 待办 clips: never a phone number cut in two (bot.templates.clip)."""
    return clip(text, DESCRIPTION)


def read_rows(
    db: Database, selection: Selection, order: str, limit: int, offset: int, now: datetime,
    words: Words,
) -> list[Row]:  # fmt: skip
    """One page of a case table (the cases' named query `table_rows`) as Rows."""
    status, day = words.status, words.day
    out = []
    for n, who, desc, cat, handler, st, esc, due, late, paused in table_rows(
        db, selection, order, limit, offset, now
    ):
        out.append(
            Row(_html(n), _html(who or ""), _html(_cut(desc or "")), _html(cat or ""),
                _html(handler or ""), st if st in _KNOWN else "", status(st), int(esc or 0),
                day(due), bool(late) and not paused, bool(paused))
        )  # fmt: skip
    return out


_FIELDS = tuple(f.name for f in fields(Filters))


def ledger_page(
    db: Database, filters: Filters, now: datetime, size: int, words: Words
) -> tuple[list[Row], bool]:
    """One page of the ledger, newest first, and whether another page follows."""
    offset = (filters.page - 1) * size
    rows = read_rows(db, filters.where(now), "id desc", size + 1, offset, now, words)
    return rows[:size], len(rows) > size


def ledger_xlsx(ledger: Ledger, sheet_title: str) -> bytes:
    """The ledger as one sheet (sheets/: header frozen and filtered, the ledger's
    widths, times as dates)."""
    out = io.BytesIO()
    write_xlsx([Sheet(sheet_title, ledger.header, ledger.rows, ledger.widths)], out)
    return out.getvalue()
