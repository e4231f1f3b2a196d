"""Every figure of a report, computed here and nowhere else, with SQL over `report_facts`.

The definitions (README "Reports", and the footnote of every report):

- 受理: cases opened in the period; withdrawn ones (撤回 before the cut-off) shown apart
  and left out of every rate.
- 响应率: of the cases whose first-response deadline fell in the period (up to the cut-off),
  the share with a first staff response by that deadline.
- 按期办结率: of the cases whose due date fell in the period, the share resolved at the due
  date.
- 办结率 / 销号率: of the cases received in the period, the share resolved (办结, including
  awaiting rating) / closed (销号) at the cut-off; the same since 1 January.
- 满意率: (满意 + 基本满意) ÷ rated cases; 评价率: rated ÷ cases resolved at least once.
- 按来源, 回访率 and 回访满意率: see sources.py.
- Medians in working time (bot.workdays): first response in hours, resolution in days.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.config import Config
from bot.db import from_db, to_db
from bot.places import conversation_name
from handlers.cases.service import case_settings
from handlers.reports.extras import (
    EventFigures,
    PolicyFigures,
    TopicFigures,
    event_figures,
    policy_figures,
    topic_figures,
)
from handlers.reports.facts import RATINGS, Window, facts_table, year_scope
from handlers.reports.period import Period
from handlers.reports.rate import Rate
from handlers.reports.settings import ReportSettings, report_settings
from handlers.reports.similar import (
    CommonIssue,
    common_issue_cases,
    common_issues,
    group_common_issues,
)
from handlers.reports.sources import FollowUpFigures, SourceRow, follow_up_figures, source_rows
from handlers.reports.workhours import days_table, median, offset_seconds, working_hours_sql

__all__ = ["ROUTES", "Breakdown", "Overdue", "Rate", "Report", "Totals", "compute", "totals"]

ROUTES = {0: "直接办理", 1: "部门督办", 2: "上报领导"}
_ids = count()
RATED = ("satisfied", "basic", "unsatisfied")


@dataclass(frozen=True)
class Totals:
    opened: int
    withdrawn: int
    received: int
    responded: Rate
    on_time: Rate
    resolved: Rate
    closed: Rate
    satisfaction: Rate
    rating_rate: Rate
    ratings: dict[str, int]


@dataclass(frozen=True)
class Breakdown:
    name: str
    received: int
    resolved: int
    closed: int

    @property
    def rate(self) -> Rate:
        return Rate(self.resolved, self.received)


@dataclass(frozen=True)
class Overdue:
    number: str
    enterprise: str
    category: str
    department: str
    assignee: str | None
    days: int
    level: int


@dataclass(frozen=True)
class Report:
    period: Period
    cutoff: datetime
    totals: Totals
    year: Totals
    median_response_hours: float | None
    median_resolution_days: float | None
    by_category: list[Breakdown]
    by_aspect: list[Breakdown]
    by_department: list[Breakdown]
    by_route: list[Breakdown]
    by_group: list[Breakdown]
    overdue: list[Overdue]
    common: list[CommonIssue]
    policies: PolicyFigures | None
    events: EventFigures | None
    series: list[tuple[Period, Totals]] = field(default_factory=list)
    topics: TopicFigures | None = None
    by_source: list[SourceRow] = field(default_factory=list)
    follow_ups: FollowUpFigures | None = None


def _window(period: Period, cutoff: datetime) -> Window:
    """The stored-time bounds. A cut-off before the period's end is "now": what happened
    in this very second counts (times are stored to the second)."""
    if cutoff < period.end:
        cutoff += timedelta(seconds=1)
    end = min(period.end, cutoff)
    return Window(to_db(period.start), to_db(end), to_db(period.year_start()), to_db(cutoff))


# The totals of a scope over report_facts: {s} is p / y (opened in the period / since
# 1 January), r{s} and d{s} its first-response and due-date scopes (see facts.py).
_TOTALS = """count(*) filter (where {s}), count(*) filter (where {s} and withdrawn),
  count(*) filter (where {s} and resolved and not withdrawn),
  count(*) filter (where {s} and closed),
  count(*) filter (where {s} and ever_resolved and not withdrawn),
  count(*) filter (where {s} and rating = {satisfied}),
  count(*) filter (where {s} and rating = {basic}),
  count(*) filter (where {s} and rating = {unsatisfied}),
  count(*) filter (where r{s} and responded_on_time), count(*) filter (where r{s}),
  count(*) filter (where d{s} and on_time), count(*) filter (where d{s})"""


def _scopes(db: Database, facts: str, year: str = "p") -> tuple[Totals, Totals]:
    """The totals of the period and of the year to date (the scope `year`, see
    facts.year_scope), from one scan of the facts."""
    scopes = ("p",) if year == "p" else ("p", year)
    columns = ", ".join(_TOTALS.format(s=s, **RATINGS) for s in scopes)
    row = list(db.execute(f"select {columns} from {facts}").fetchone())
    found = [_totals(row[i : i + 12]) for i in range(0, len(row), 12)]
    return found[0], found[-1]


def _totals(row: list[int]) -> Totals:
    opened, withdrawn, resolved, closed, ever, sat, basic, unsat = row[:8]
    responded, due_resp, on_time, due = row[8:]
    received = opened - withdrawn
    rated = sat + basic + unsat
    return Totals(
        opened=opened,
        withdrawn=withdrawn,
        received=received,
        responded=Rate(responded, due_resp),
        on_time=Rate(on_time, due),
        resolved=Rate(resolved, received),
        closed=Rate(closed, received),
        satisfaction=Rate(sat + basic, rated),
        rating_rate=Rate(rated, ever),
        ratings={"satisfied": sat, "basic": basic, "unsatisfied": unsat},
    )


# The breakdowns' keys, over the cells of one pass (NULL as SQLite has it: None).
_KEYS: dict[str, Callable[[tuple[Any, ...]], Any]] = {
    "category": lambda g: g[0],
    "aspect": lambda g: None if g[0] is None else g[0] + ("/" + g[1] if g[1] else ""),
    "department": lambda g: g[2],
    "route": lambda g: g[3],
    "group": lambda g: g[4],
}

# The cells: received / resolved / closed per (category, aspect, department, route, group
# conversation), summed by an upsert into a small keyed table — one pass, no sort of the
# facts as GROUP BY would do. x'' stands in for NULL (a unique key does not match NULLs);
# no text equals it.
_CELLS = """
create temp table {cells} (category, aspect, department, level, conv, n, resolved, closed,
  primary key (category, aspect, department, level, conv)) without rowid
"""
_FILL = """
insert into {cells}
select ifnull(category, x''), aspect, ifnull(department, x''), min(level, 2), ifnull(conv, x''),
  1, ifnull(resolved, 0), ifnull(closed, 0)
from {facts} where p and not withdrawn
on conflict (category, aspect, department, level, conv) do update
  set n = n + 1, resolved = resolved + excluded.resolved, closed = closed + excluded.closed
"""


def _cells(db: Database, facts: str) -> list[tuple[Any, ...]]:
    """(category, aspect, department, route, group name, received, resolved, closed)."""
    cells = f"report_cells_{next(_ids)}"
    db.execute(_CELLS.format(cells=cells))
    try:
        db.execute(_FILL.format(cells=cells, facts=facts))
        rows = db.execute(f"select * from temp.{cells}").fetchall()
    finally:
        db.execute(f"drop table temp.{cells}")
    rows = [tuple(None if v == b"" else v for v in row) for row in rows]
    convs = sorted({row[4] for row in rows if row[4] is not None})
    topics = dict(
        db.execute(
            f"select id, topic from conversations where id in ({', '.join('?' * len(convs))})",
            convs,
        ).fetchall()
    )
    return [(*row[:4], _group(row[4], topics), *row[5:]) for row in rows]


def _group(conv: str | None, topics: dict[str, str | None]) -> str:
    """A group by its name (its id if it has none); private chats as 私聊, cases staff
    registered by their route (接待日（代录）)."""
    if conv is None:
        return "私聊"
    if conv.startswith("~"):
        return f"{conv[1:]}（代录）"
    return conversation_name(conv, topics.get(conv))


def _breakdowns(db: Database, facts: str) -> dict[str, list[Breakdown]]:
    """Received / resolved / closed by each key of `_KEYS`, the cases received in the
    period; each list ordered by received (most first), then by name (SQLite's order)."""
    cells = _cells(db, facts)
    out: dict[str, list[Breakdown]] = {}
    for name, key in _KEYS.items():
        sums: dict[Any, list[int]] = {}
        for cell in cells:
            acc = sums.setdefault(key(cell), [0, 0, 0])
            for i, v in enumerate(cell[5:]):
                acc[i] += v
        ranked = sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0] is not None, kv[0]))
        out[name] = [Breakdown(str(k), n, r, c) for k, (n, r, c) in ranked]
    return out


def _routes(rows: list[Breakdown]) -> list[Breakdown]:
    """直接办理 / 部门督办 / 上报领导: by the escalation level the case reached."""
    found = {b.name: b for b in rows}
    out: list[Breakdown] = []
    for level, name in ROUTES.items():
        row = found.get(str(level))
        out.append(
            Breakdown(name, row.received, row.resolved, row.closed)
            if row
            else Breakdown(name, 0, 0, 0)
        )
    return out


def _overdue(db: Database, facts: str, cutoff: datetime) -> list[Overdue]:
    rows = db.execute(
        f"select c.number, coalesce(nullif(c.enterprise, ''), c.reporter_name, c.reporter_id),"
        f" f.category, f.department, c.assignee_name, c.due_at, f.level"
        f" from {facts} f join cases c on c.id = f.id"
        f" where f.overdue order by c.due_at, f.id"
    ).fetchall()
    return [
        Overdue(n, e, c, d, a, (cutoff - from_db(due)) // timedelta(days=1), lv)
        for n, e, c, d, a, due, lv in rows
    ]


def _medians(
    db: Database, facts: str, period: Period, cutoff: datetime
) -> tuple[float | None, float | None]:
    """First response in working hours, resolution (to the last 办结) in working days, of
    the cases opened in the period: both in one pass over the facts."""
    first = (period.start - timedelta(days=1)).date()
    off = offset_seconds(period.start)
    opened, responded, resolved = (
        f"(f.{c} + {off})" for c in ("created_s", "first_s", "resolved_s")
    )
    response = working_hours_sql(opened, responded, "x", "y")
    resolution = working_hours_sql(opened, resolved, "x", "z")
    with days_table(db, first, cutoff.date()) as days:
        rows = db.execute(
            f"select case when y.n is not null then {response} end,"
            f" case when z.n is not null then {resolution} end"
            f" from {facts} f join {days} x on x.n = {opened} / 86400"
            f" left join {days} y on y.n = {responded} / 86400"
            f" left join {days} z on z.n = {resolved} / 86400"
            f" where f.p and (f.first_s is not null or f.resolved_s is not null)"
        ).fetchall()
    hours = median([h for h, _ in rows if h is not None])
    days_ = median([d for _, d in rows if d is not None])
    return (
        None if hours is None else round(hours, 1),
        None if days_ is None else round(days_ / 24, 1),
    )


def totals(db: Database, period: Period, cutoff: datetime) -> Totals:
    """The period's totals alone (for the monthly series of the HTML report): the facts
    leave out the earlier cases of the year, which only the year-to-date figures read."""
    window = _window(period, cutoff)
    window.year_start = window.start
    with facts_table(db, window) as facts:
        return _scopes(db, facts)[0]


def _common_issues(path: Path, settings: ReportSettings, cutoff: datetime) -> list[CommonIssue]:
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return common_issues(Database(conn), settings, cutoff)
    finally:
        conn.close()


def compute(
    db: Database, config: Config, period: Period, now: datetime, *, series_months: int = 0
) -> Report:
    """All figures of `period`, as they stood at the cut-off (its end, or now if earlier)."""
    cutoff = min(period.end, now)
    window = _window(period, cutoff)
    settings = report_settings(config)
    # 共性问题 is Python and RapidFuzz over the descriptions: it runs in a thread of its own
    # while SQLite (which lets go of the GIL while it works) builds and reads the facts.
    path = db.conn.execute("pragma database_list").fetchone()[2]
    with ThreadPoolExecutor(1, thread_name_prefix="report-common") as pool:
        if path:  # the thread reads the descriptions through a connection of its own
            common = pool.submit(_common_issues, Path(path), settings, cutoff)
        else:
            cases = common_issue_cases(db, settings, cutoff)
            common = pool.submit(group_common_issues, cases, settings)
        with facts_table(db, window) as facts:
            hours, days = _medians(db, facts, period, cutoff)
            this, year = _scopes(db, facts, year_scope(window))
            by = _breakdowns(db, facts)
            overdue = _overdue(db, facts, cutoff)
            by_source = source_rows(db, facts, case_settings(config).routes)
        report = Report(
            period=period,
            cutoff=cutoff,
            totals=this,
            year=year,
            median_response_hours=hours,
            median_resolution_days=days,
            by_category=by["category"],
            by_aspect=by["aspect"],
            by_department=by["department"],
            by_route=_routes(by["route"]),
            by_group=by["group"],
            overdue=overdue,
            common=common.result(),
            policies=policy_figures(db, window),
            events=event_figures(db, window),
            topics=topic_figures(db, window),
            by_source=by_source,
            follow_ups=follow_up_figures(db, window),
        )
    if series_months:
        report.series.extend(
            (month, totals(db, month, min(month.end, now)))
            for month in period.months_back(series_months)
            if month.start < now
        )
    return report
