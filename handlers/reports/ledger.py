"""The 工作台账 as XLSX (openpyxl, write-only: constant memory, fast): sheets 汇总 (the
figures), 台账 (one row per case opened in the period) and 办理记录 (every timeline event).

Times are real date cells in the chamber's time zone (Excel has no time zones; openpyxl's
default date format, no per-cell style), the header row is frozen and filtered, columns
have fixed widths. Nearly all the time goes to openpyxl's writing of each cell (about
10-25 µs a cell, see bench/reports.py, which measures that floor too); the rows are built
here from plain tuples, with the labels looked up once. Phone numbers are written here in
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

__all__ = ["LEDGER_COLUMNS", "ledger_rows", "write_ledger"]

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

_OPEN = ("new", "accepted", "in_progress")
_CASES = """
select c.id, c.number, c.created_at, c.enterprise, c.reporter_name, p.phone, v.topic,
  c.conversation_is_group, c.category, c.aspect, c.department, c.assignee_name, c.status,
  c.escalation, c.first_response_at, c.due_at, c.resolved_at, c.rating, c.reopen_count,
  c.description
from cases c
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
    lab = labels(render)
    wb = Workbook(write_only=True)
    _summary(wb, report, lab, definitions(render, config))
    cases, timeline = ledger_rows(db, lab, report, config.tz)
    ws = _sheet(wb, lab["sheet.ledger"], [lab[f"col.{k}"] for k in LEDGER_COLUMNS],
                list(LEDGER_COLUMNS.values()))  # fmt: skip
    for row in cases:
        ws.append(row)
    _filter(ws, f"A1:{get_column_letter(len(LEDGER_COLUMNS))}{len(cases) + 1}")
    tl = _sheet(wb, lab["sheet.timeline"], [lab[f"ev.{k}"] for k in TIMELINE_COLUMNS],
                list(TIMELINE_COLUMNS.values()))  # fmt: skip
    for row in timeline:
        tl.append(row)
    _filter(tl, f"A1:{get_column_letter(len(TIMELINE_COLUMNS))}{len(timeline) + 1}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return len(cases)


def ledger_rows(
    db: Database, lab: dict[str, str], report: Report, tz: tzinfo
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The cell values of 台账 (one row per case opened in the period) and 办理记录 (every
    event of those cases), in order, as openpyxl takes them."""
    period = report.period
    rows = db.execute(_CASES, [to_db(period.start), to_db(period.end)]).fetchall()
    events = _events(db, [r[0] for r in rows])
    cut = to_db(report.cutoff)
    status = {k[7:]: v for k, v in lab.items() if k.startswith("status.")}
    rating = {k[7:]: v for k, v in lab.items() if k.startswith("rating.")}
    kinds = {k[5:]: v for k, v in lab.items() if k.startswith("kind.")}
    level = {i: lab[f"level.{i}"] for i in range(3)}
    yes, no, private = lab["yes"], lab["no"], lab["private"]
    cases: list[list[Any]] = []
    timeline: list[list[Any]] = []
    for (case_id, number, created_at, enterprise, reporter, phone, topic, is_group, category,
         aspect, department, assignee, state, escalation, first_at, due_at, resolved_at, rated,
         reopened, description) in rows:  # fmt: skip
        answer = summary = None
        for kind, at, actor, text in events.get(case_id, ()):
            if kind == "answered":
                answer = text
            elif kind == "resolved":
                summary = text
            timeline.append([number, _local(at, tz), kinds.get(kind, kind), actor, text])
        overdue = state in _OPEN and due_at and due_at < cut
        cases.append([
            number, _local(created_at, tz), enterprise, reporter, phone,
            topic if is_group else private, category, aspect, department, assignee,
            status.get(state, state), level[min(escalation or 0, 2)],
            _local(first_at, tz), _local(due_at, tz), _local(resolved_at, tz),
            rating.get(rated), reopened or 0,
            yes if overdue else no, description, answer, summary,
        ])  # fmt: skip
    return cases, timeline


def _events(db: Database, case_ids: list[int]) -> dict[int, list[tuple[str, str, str, str]]]:
    """Each case's timeline in order: (kind, at, actor name, text)."""
    out: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    if not case_ids:
        return out
    rows = db.execute(
        "select case_id, kind, at, actor_name, text from case_events"
        " where case_id between ? and ? order by case_id, id",
        [min(case_ids), max(case_ids)],
    ).fetchall()
    wanted = set(case_ids)
    for case_id, *event in rows:
        if case_id in wanted:
            out[case_id].append(tuple(event))
    return out
