"""The 工作台账 as XLSX (sheets/: its own XML, shared strings): sheets 汇总 (the
figures), 按来源 (the table by route), 台账 (one row per case opened in the period) and
办理记录 (every timeline event); 台账 and 办理记录 are the cases feature's one ledger
(handlers/cases/ledger.py).

Times are real date cells in the chamber's time zone (Excel has no time zones), the header
row is frozen and filtered, columns have fixed widths, rates are percentage cells. Nearly
all the time goes to writing each cell (bench/reports.py times the ledger and the
candidate writers in one run). Phone numbers are written here in full: the ledger is for
the secretariat only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlite_utils import Database

from handlers.cases.service import TIMELINE_COLUMNS, created_between, ledger_rows
from handlers.reports.figures import Rate, Report
from handlers.reports.sources import SourceRow
from handlers.reports.text import Render, definitions, labels
from sheets import Percent, Sheet, write_xlsx

__all__ = ["write_ledger"]


def _summary(report: Report, lab: dict[str, str], notes: str) -> Sheet:
    rows: list[list[Any]] = []
    t, y = report.totals, report.year
    counts: list[tuple[str, Any]] = [
        ("fig.opened", t.opened), ("fig.withdrawn", t.withdrawn), ("fig.received", t.received),
    ]  # fmt: skip
    for key, value in counts:
        rows.append([lab[key], value])
    rates = [
        ("fig.responded", t.responded), ("fig.on_time", t.on_time), ("fig.resolved", t.resolved),
        ("fig.closed", t.closed), ("fig.year_resolved", y.resolved),
        ("fig.year_closed", y.closed), ("fig.satisfaction", t.satisfaction),
        ("fig.rating_rate", t.rating_rate),
    ]  # fmt: skip
    if report.follow_ups:
        f = report.follow_ups
        rates += [("fig.follow_up_rate", f.rate), ("fig.follow_up_satisfaction", f.satisfaction)]
    for key, rate in rates:
        rows.append([lab[key], _percent(rate), rate.num, rate.den])
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
        rows.append([lab[key], value])
    sections = [
        ("sec.route", report.by_route), ("sec.category", report.by_category),
        ("sec.department", report.by_department), ("sec.group", report.by_group),
    ]  # fmt: skip
    for key, breakdown in sections:
        rows.append([])
        rows.append([lab[key], lab["head.received"], lab["head.resolved"], lab["head.closed"]])
        for b in breakdown:
            rows.append([b.name, b.received, b.resolved, b.closed])
    rows.append([])
    for line in notes.splitlines():
        rows.append([line])
    head = [lab["head.figure"], lab["head.value"], lab["head.num"], lab["head.den"]]
    return Sheet(lab["sheet.summary"], head, rows, [28, 14, 10, 10], filtered="header")


def _percent(rate: Rate) -> Percent | None:
    return None if rate.pct is None else Percent(rate.pct / 100)


def _rates(row: SourceRow) -> list[Percent | None]:
    return [_percent(row.on_time), _percent(row.satisfaction)]


def _sources(report: Report, lab: dict[str, str]) -> Sheet:
    """按来源: the Dalian table, one row per route."""
    head = [lab[k] for k in ("head.source", "head.received", "head.resolved")]
    head += [lab["fig.on_time"], lab["fig.satisfaction"]]
    rows: list[list[Any]] = [
        [s.name or lab["source.none"], s.received, s.resolved, *_rates(s)]
        for s in report.by_source
    ]
    return Sheet(lab["sheet.source"], head, rows, [16, 10, 10, 14, 14])


def write_ledger(db: Database, render: Render, config: Any, report: Report, path: Path) -> int:
    """Write the workbook; returns the number of cases in 台账."""
    lab = labels(render)
    period = report.period
    selection = created_between(period.start, period.end)
    ledger = ledger_rows(db, lab, config.tz, report.cutoff, selection)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_xlsx(
        [
            _summary(report, lab, definitions(render, config)),
            _sources(report, lab),
            Sheet(lab["sheet.ledger"], ledger.header, ledger.rows, ledger.widths),
            Sheet(lab["sheet.timeline"], [lab[f"ev.{k}"] for k in TIMELINE_COLUMNS],
                  ledger.timeline, list(TIMELINE_COLUMNS.values())),
        ],
        path,
    )  # fmt: skip
    return len(ledger.rows)
