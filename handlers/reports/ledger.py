"""The 工作台账 as XLSX (openpyxl, write-only: constant memory, fast): sheets 汇总 (the
figures), 台账 (one row per case opened in the period) and 办理记录 (every timeline event);
台账 and 办理记录 are the cases feature's one ledger (handlers/cases/ledger.py).

Times are real date cells in the chamber's time zone (Excel has no time zones; openpyxl's
default date format, no per-cell style), the header row is frozen and filtered, columns
have fixed widths. Nearly all the time goes to openpyxl's writing of each cell (about
10-25 µs a cell, see bench/reports.py, which measures that floor too). Phone numbers are
written here in full: the ledger is for the secretariat only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlite_utils import Database

from handlers.cases.service import TIMELINE_COLUMNS, created_between, ledger_rows
from handlers.reports.figures import Report
from handlers.reports.text import Render, definitions, labels

__all__ = ["write_ledger"]

_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


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
    period = report.period
    selection = created_between(period.start, period.end)
    ledger = ledger_rows(db, lab, config.tz, report.cutoff, selection)
    ws = _sheet(wb, lab["sheet.ledger"], ledger.header, ledger.widths)
    for row in ledger.rows:
        ws.append(row)
    _filter(ws, f"A1:{get_column_letter(len(ledger.header))}{len(ledger.rows) + 1}")
    tl = _sheet(wb, lab["sheet.timeline"], [lab[f"ev.{k}"] for k in TIMELINE_COLUMNS],
                list(TIMELINE_COLUMNS.values()))  # fmt: skip
    for row in ledger.timeline:
        tl.append(row)
    _filter(tl, f"A1:{get_column_letter(len(TIMELINE_COLUMNS))}{len(ledger.timeline) + 1}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return len(ledger.rows)
