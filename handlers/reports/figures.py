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
- Medians in working time (bot.workdays): first response in hours, resolution in days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.config import Config
from bot.db import from_db, to_db
from handlers.reports.extras import EventFigures, PolicyFigures, event_figures, policy_figures
from handlers.reports.facts import Window, facts_table
from handlers.reports.period import Period
from handlers.reports.settings import report_settings
from handlers.reports.similar import CommonIssue, common_issues
from handlers.reports.workhours import (
    days_table,
    local,
    median_sql,
    offset_minutes,
    working_hours_sql,
)

__all__ = ["ROUTES", "Breakdown", "Overdue", "Rate", "Report", "Totals", "compute", "totals"]

ROUTES = {0: "直接办理", 1: "部门督办", 2: "上报领导"}
RATED = ("satisfied", "basic", "unsatisfied")

# Scopes over report_facts; {s} is :start (the period) or :ys (since 1 January).
_OPENED = "created_at >= {s} and created_at < :end"
_RESPONSE = (
    "response_due_at >= {s} and response_due_at < :end"
    " and not (status = 'withdrawn' and closed_at <= response_due_at)"
)
_DUE = "due_at >= {s} and due_at < :end and not (status = 'withdrawn' and closed_at <= due_at)"
_PERIOD = _OPENED.format(s=":start")


@dataclass(frozen=True)
class Rate:
    num: int
    den: int

    @property
    def pct(self) -> float | None:
        return round(100.0 * self.num / self.den, 1) if self.den else None


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


def _window(period: Period, cutoff: datetime) -> Window:
    """The stored-time bounds. A cut-off before the period's end is "now": what happened
    in this very second counts (times are stored to the second)."""
    if cutoff < period.end:
        cutoff += timedelta(seconds=1)
    end = min(period.end, cutoff)
    return Window(to_db(period.start), to_db(end), to_db(period.year_start()), to_db(cutoff))


def _one(db: Database, sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    row = db.execute(sql, params).fetchone()
    return tuple(0 if v is None else v for v in row)


def _totals(db: Database, facts: str, start: str, params: dict[str, Any]) -> Totals:
    """The totals of the cases opened (or due) from `start` (":start" or ":ys")."""
    scope, resp, due_scope = (x.format(s=start) for x in (_OPENED, _RESPONSE, _DUE))
    opened, withdrawn, resolved, closed, ever, sat, basic, unsat = _one(
        db,
        f"select count(*), sum(withdrawn), sum(resolved and not withdrawn), sum(closed),"
        f" sum(ever_resolved and not withdrawn), sum(rating = 'satisfied'),"
        f" sum(rating = 'basic'), sum(rating = 'unsatisfied') from {facts} where {scope}",
        params,
    )
    responded, due_resp = _one(
        db, f"select sum(responded_on_time), count(*) from {facts} where {resp}", params
    )
    on_time, due = _one(
        db, f"select sum(on_time), count(*) from {facts} where {due_scope}", params
    )
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


def _breakdown(db: Database, facts: str, key: str, params: dict[str, Any]) -> list[Breakdown]:
    rows = db.execute(
        f"select {key} as k, count(*), sum(resolved), sum(closed) from {facts}"
        f" where {_PERIOD} and not withdrawn group by k order by count(*) desc, k",
        params,
    ).fetchall()
    return [Breakdown(str(k), n, r or 0, c or 0) for k, n, r, c in rows]


def _routes(db: Database, facts: str, params: dict[str, Any]) -> list[Breakdown]:
    """直接办理 / 部门督办 / 上报领导: by the escalation level the case reached."""
    found = {b.name: b for b in _breakdown(db, facts, "min(level, 2)", params)}
    out: list[Breakdown] = []
    for level, name in ROUTES.items():
        row = found.get(str(level))
        out.append(
            Breakdown(name, row.received, row.resolved, row.closed)
            if row
            else Breakdown(name, 0, 0, 0)
        )
    return out


def _overdue(db: Database, facts: str, cutoff: datetime, params: dict[str, Any]) -> list[Overdue]:
    rows = db.execute(
        f"select number, enterprise, category, department, assignee_name, due_at, level"
        f" from {facts} where not withdrawn and not closed and not resolved and due_at < :cut"
        f" order by due_at, id",
        params,
    ).fetchall()
    return [
        Overdue(n, e, c, d, a, (cutoff - from_db(due)) // timedelta(days=1), lv)
        for n, e, c, d, a, due, lv in rows
    ]


def _median_hours(
    db: Database, facts: str, days: str, until: str, where: str, params: dict[str, Any]
) -> float | None:
    """The median working hours from opening to `until` over the facts rows `where`."""
    off = offset_minutes(params["_local"])
    start, end = local("f.created_at", off), local(f"f.{until}", off)
    hours = working_hours_sql(start, end, "x", "y")
    values = (
        f"select {hours} as v from {facts} f"
        f" join {days} x on x.d = date({start}) join {days} y on y.d = date({end})"
        f" where {where}"
    )
    sql_params = {k: v for k, v in params.items() if not k.startswith("_")}
    found = db.execute(median_sql(values), sql_params).fetchone()[0]
    return None if found is None else float(found)


def _medians(
    db: Database, facts: str, period: Period, cutoff: datetime, params: dict[str, Any]
) -> tuple[float | None, float | None]:
    """First response in working hours, resolution (to the last 办结) in working days."""
    first = (period.start - timedelta(days=1)).date()
    with days_table(db, first, cutoff.date()) as days:
        local_params = {**params, "_local": period.start}
        hours = _median_hours(
            db, facts, days, "first_response_at",
            f"{_PERIOD.replace('created_at', 'f.created_at')} and f.first_response_at < :cut",
            local_params,
        )  # fmt: skip
        resolved = _median_hours(
            db, facts, days, "last_resolved",
            f"{_PERIOD.replace('created_at', 'f.created_at')} and f.resolved"
            " and f.last_resolved is not null",
            local_params,
        )  # fmt: skip
    days_ = None if resolved is None else round(resolved / 24, 1)
    return (None if hours is None else round(hours, 1), days_)


def totals(db: Database, period: Period, cutoff: datetime) -> Totals:
    """The period's totals alone (for the monthly series of the HTML report)."""
    window = _window(period, cutoff)
    with facts_table(db, window) as facts:
        return _totals(db, facts, ":start", window.params)


def compute(
    db: Database, config: Config, period: Period, now: datetime, *, series_months: int = 0
) -> Report:
    """All figures of `period`, as they stood at the cut-off (its end, or now if earlier)."""
    cutoff = min(period.end, now)
    window = _window(period, cutoff)
    params = window.params
    settings = report_settings(config)
    with facts_table(db, window) as facts:
        hours, days = _medians(db, facts, period, cutoff, params)
        report = Report(
            period=period,
            cutoff=cutoff,
            totals=_totals(db, facts, ":start", params),
            year=_totals(db, facts, ":ys", params),
            median_response_hours=hours,
            median_resolution_days=days,
            by_category=_breakdown(db, facts, "category", params),
            by_aspect=_breakdown(
                db, facts, "category || coalesce('/' || nullif(aspect, ''), '')", params
            ),
            by_department=_breakdown(db, facts, "department", params),
            by_route=_routes(db, facts, params),
            by_group=_breakdown(db, facts, "coalesce(grp, '私聊')", params),
            overdue=_overdue(db, facts, cutoff, params),
            common=common_issues(db, settings, cutoff),
            policies=policy_figures(db, window),
            events=event_figures(db, window),
        )
    if series_months:
        report.series.extend(
            (month, totals(db, month, min(month.end, now)))
            for month in period.months_back(series_months)
            if month.start < now
        )
    return report
