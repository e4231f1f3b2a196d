"""The 工作台账 as XLSX (openpyxl, write-only: constant memory, fast): sheets 汇总 (the
figures), 台账 (one row per case opened in the period) and 办理记录 (every timeline event).

Times are real date cells in the chamber's time zone (Excel has no time zones; openpyxl's
default date format, no per-cell style, which keeps 10 k rows fast), the header row is
frozen and filtered, columns have fixed widths. Phone numbers are written here in
full: the ledger is for the secretariat only.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlite_utils import Database

from bot.db import from_db, to_db
from handlers.reports.figures import Report
from handlers.reports.text import Render, definitions, labels

__all__ = ["LEDGER_COLUMNS", "write_ledger"]

# Column key → width; the headers are col.<key> in reports_labels.j2.
LEDGER_COLUMNS: dict[str, int] = {
    "number": 11, "created_at": 17, "enterprise": 22, "reporter": 10, "phone": 14,
    "group": 14, "category": 10, "aspect": 10, "department": 10, "assignee": 10,
    "status": 12, "level": 10, "first_response_at": 17, "due_at": 17, "resolved_at": 17,
    "rating": 9, "reopen_count": 9, "overdue": 9, "description": 40, "answer": 30,
    "summary": 30,
}  # fmt: skip
TIMELINE_COLUMNS: dict[str, int] = {"number": 11, "at": 17, "kind": 12, "actor": 10, "text": 60}
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")

_CASES = """
select c.*, v.topic, p.phone from cases c
left join conversations v on v.id = c.conversation_id
left join contacts p on p.id = c.reporter_id
where c.created_at >= ? and c.created_at < ? order by c.year, c.seq
"""


def _local(value: str | None, tz: tzinfo) -> datetime | None:
    return from_db(value).astimezone(tz).replace(tzinfo=None) if value else None


def _sheet(wb: Workbook, title: str, heads: list[str], widths: list[int]) -> WriteOnlyWorksheet:
    ws = wb.create_sheet(title)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    cells = []
    for head in heads:
        cell = WriteOnlyCell(ws, value=head)
        cell.font, cell.fill = _HEAD_FONT, _HEAD_FILL
        cells.append(cell)
    ws.append(cells)
    return ws


def _filter(ws: WriteOnlyWorksheet, ref: str) -> None:
    """Filters on the header row (write-only sheets have them; the stubs do not say so)."""
    ws.auto_filter.ref = ref  # type: ignore[attr-defined]


def _summary(wb: Workbook, report: Report, lab: dict[str, str], notes: str) -> None:
    ws = _sheet(
        wb,
        lab["sheet.summary"],
        [lab["head.figure"], lab["head.value"], lab["head.num"], lab["head.den"]],
        [28, 14, 10, 10],
    )
    t, y = report.totals, report.year
    counts: list[tuple[str, Any]] = [
        ("fig.opened", t.opened), ("fig.withdrawn", t.withdrawn), ("fig.received", t.received),
    ]  # fmt: skip
    for key, value in counts:
        ws.append([lab[key], value])
    rates = [
        ("fig.responded", t.responded), ("fig.on_time", t.on_time), ("fig.resolved", t.resolved),
        ("fig.closed", t.closed), ("fig.year_resolved", y.resolved),
        ("fig.year_closed", y.closed), ("fig.satisfaction", t.satisfaction),
        ("fig.rating_rate", t.rating_rate),
    ]  # fmt: skip
    for key, rate in rates:
        cell = WriteOnlyCell(ws, value=None if rate.pct is None else rate.pct / 100)
        cell.number_format = "0.0%"
        ws.append([lab[key], cell, rate.num, rate.den])
    more: list[tuple[str, Any]] = [
        ("fig.year_received", y.received),
        ("fig.satisfied", t.ratings["satisfied"]), ("fig.basic", t.ratings["basic"]),
        ("fig.unsatisfied", t.ratings["unsatisfied"]),
        ("fig.median_response", report.median_response_hours),
        ("fig.median_resolution", report.median_resolution_days),
        ("fig.overdue", len(report.overdue)),
    ]  # fmt: skip
    if report.policies:
        p = report.policies
        more += [
            ("fig.digests", p.digests),
            ("fig.groups", p.groups),
            ("fig.policies", p.policies),
        ]
    if report.events:
        e = report.events
        more += [("fig.events_held", e.held), ("fig.registered", e.registered),
                 ("fig.checked_in", e.checked_in)]  # fmt: skip
    for key, value in more:
        ws.append([lab[key], value])
    sections = [
        ("sec.route", report.by_route), ("sec.category", report.by_category),
        ("sec.department", report.by_department), ("sec.group", report.by_group),
    ]  # fmt: skip
    for key, rows in sections:
        ws.append([])
        ws.append([lab[key], lab["head.received"], lab["head.resolved"], lab["head.closed"]])
        for b in rows:
            ws.append([b.name, b.received, b.resolved, b.closed])
    ws.append([])
    for line in notes.splitlines():
        ws.append([line])
    _filter(ws, "A1:D1")


def write_ledger(db: Database, render: Render, config: Any, report: Report, path: Path) -> int:
    """Write the workbook; returns the number of cases in 台账."""
    tz = config.tz
    lab = labels(render)
    wb = Workbook(write_only=True)
    _summary(wb, report, lab, definitions(render, config))
    period = report.period
    rows = _rows(db, to_db(period.start), to_db(period.end))
    events = _events(db, [r["id"] for r in rows], lab)
    cut = to_db(report.cutoff)
    ws = _sheet(wb, lab["sheet.ledger"], [lab[f"col.{k}"] for k in LEDGER_COLUMNS],
                list(LEDGER_COLUMNS.values()))  # fmt: skip
    for r in rows:
        mine = events.get(r["id"], [])
        answers = [e["text"] for e in mine if e["kind"] == "answered"]
        summaries = [e["text"] for e in mine if e["kind"] == "resolved"]
        is_open = r["status"] in ("new", "accepted", "in_progress")
        values = [
            r["number"], _local(r["created_at"], tz), r["enterprise"], r["reporter_name"],
            r["phone"], r["topic"] if r["conversation_is_group"] else lab["private"],
            r["category"], r["aspect"], r["department"], r["assignee_name"],
            lab.get(f"status.{r['status']}", r["status"]),
            lab[f"level.{min(r['escalation'] or 0, 2)}"],
            _local(r["first_response_at"], tz), _local(r["due_at"], tz),
            _local(r["resolved_at"], tz), lab.get(f"rating.{r['rating']}"),
            r["reopen_count"] or 0,
            lab["yes"] if is_open and r["due_at"] and r["due_at"] < cut else lab["no"],
            r["description"], answers[-1] if answers else None,
            summaries[-1] if summaries else None,
        ]  # fmt: skip
        ws.append(values)
    _filter(ws, f"A1:{get_column_letter(len(LEDGER_COLUMNS))}{len(rows) + 1}")
    tl = _sheet(wb, lab["sheet.timeline"], [lab[f"ev.{k}"] for k in TIMELINE_COLUMNS],
                list(TIMELINE_COLUMNS.values()))  # fmt: skip
    count = 0
    for r in rows:
        for e in events.get(r["id"], []):
            tl.append([r["number"], _local(e["at"], tz), e["label"],
                        e["actor_name"], e["text"]])  # fmt: skip
            count += 1
    _filter(tl, f"A1:{get_column_letter(len(TIMELINE_COLUMNS))}{count + 1}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return len(rows)


def _rows(db: Database, start: str, end: str) -> list[Any]:
    cursor = db.execute(_CASES, [start, end])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _events(
    db: Database, case_ids: list[int], lab: dict[str, str]
) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not case_ids:
        return out
    rows = db.execute(
        "select case_id, kind, actor_name, at, text from case_events"
        " where case_id between ? and ? order by case_id, id",
        [min(case_ids), max(case_ids)],
    ).fetchall()
    wanted = set(case_ids)
    for case_id, kind, actor, at, text in rows:
        if case_id in wanted:
            out[case_id].append({"kind": kind, "label": lab.get(f"kind.{kind}", kind),
                                 "actor_name": actor, "at": at, "text": text})  # fmt: skip
    return out
