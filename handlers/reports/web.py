"""统计: the monthly report (or any from–to range) with its figures, definitions and
charts; the HTML report and the XLSX 工作台账 of the same period to download.

Every figure comes from `handlers.reports.figures.compute` (the one place they are
computed; here in the console's worker thread, web/offload.py, off the event loop), every
label and the definitions from the reports' templates, so the page, the chat's 统计, the
HTML file and the workbook say the same thing. ECharts is the npm
build the reports feature installs (handlers/reports/vendor), served at
`/vendor/echarts.min.js` — nothing comes from a CDN.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from handlers.reports.figures import Report, compute
from handlers.reports.html import ECHARTS_JS, ChartsMissing, chart_data, render_html
from handlers.reports.period import Period, month_of, parse_month, previous_month
from handlers.reports.text import definitions, labels
from web.console import Console
from web.store import User

__all__ = ["ECHARTS_PATH", "SERIES_MONTHS", "Choice", "choose", "routes"]

SERIES_MONTHS = 12  # the trend charts: the twelve months up to the period's last
ECHARTS_PATH = "/vendor/echarts.min.js"
_MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Choice:
    """What the period picker asked for: a period, or the reason there is none."""

    period: Period | None
    problem: str = ""  # bad_month | bad_range | long_range | not_yet
    month: str = ""  # the text as given, to show it again
    first: str = ""
    last: str = ""

    def query(self) -> str:
        from urllib.parse import urlencode

        if self.period is None:
            return ""
        if self.period.month:
            return urlencode({"month": self.period.key})
        return urlencode({"from": self.first, "to": self.last})


def choose(params: Any, now: datetime) -> Choice:
    """`?month=本月|上月|2026-11` or `?from=2026-11-01&to=2026-11-15`; this month if none."""
    first = str(params.get("from", "")).strip()[:10]
    last = str(params.get("to", "")).strip()[:10]
    month = str(params.get("month", "")).strip()[:20]
    if first or last:
        try:
            start, end = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            return Choice(None, "bad_range", first=first, last=last)
        if end < start:
            return Choice(None, "bad_range", first=first, last=last)
        if (end - start).days > _MAX_DAYS:
            return Choice(None, "long_range", first=first, last=last)
        assert now.tzinfo is not None
        period = Period.of_days(start, end, now.tzinfo)
    else:
        found = parse_month(month, now)
        if found is None:
            return Choice(None, "bad_month", month=month)
        period = found
    if period.start > now:
        return Choice(None, "not_yet", month=month, first=first, last=last)
    return Choice(period, month=month, first=first, last=last)


def _file_name(report: Report, suffix: str) -> str:
    key = report.period.key.replace("..", "_")
    return f"report-{key}.{suffix}"


def routes(console: Console) -> list[Route]:
    app = console.app
    render = app.templates.render

    async def report_of(choice: Choice, months: int) -> Report:
        """The figures, computed in the console's worker thread (web/offload.py)."""
        period, now = choice.period, app.clock.now()
        assert period is not None
        return await console.offload.run(
            lambda db: compute(db, app.config, period, now, series_months=months)
        )

    async def index(request: Request, user: User) -> Response:
        now = app.clock.now()
        choice = choose(request.query_params, now)
        report = await report_of(choice, SERIES_MONTHS) if choice.period else None
        this, last = month_of(now), previous_month(now)
        return console.render(
            request,
            "stats.html",
            status_code=200 if report else 400,
            choice=choice,
            r=report,
            lab=labels(render),
            title=render("reports_html_title", r=report) if report else "",
            cutoff=render("reports_html_cutoff", r=report) if report else "",
            notes=definitions(render, app.config).splitlines(),
            charts=chart_data(report) if report else {},
            this_month=this.key,
            last_month=last.key,
            echarts=ECHARTS_PATH,
        )

    async def html_report(request: Request, user: User) -> Response:
        choice = choose(request.query_params, app.clock.now())
        if choice.period is None:
            return console.refuse(request, "bad_period", 400)
        report = await report_of(choice, SERIES_MONTHS)
        try:
            text = render_html(render, app.config, report)
        except ChartsMissing:
            return console.refuse(request, "charts_missing", 503)
        name = _file_name(report, "html")
        return Response(
            text,
            media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def ledger(request: Request, user: User) -> Response:
        choice = choose(request.query_params, app.clock.now())
        if choice.period is None:
            return console.refuse(request, "bad_period", 400)
        report = await report_of(choice, 0)

        def workbook(db: Database) -> bytes:
            from handlers.reports.ledger import write_ledger  # openpyxl: 0.2 s to import

            with tempfile.TemporaryDirectory() as scratch:
                path = Path(scratch) / "ledger.xlsx"
                write_ledger(db, render, app.config, report, path)
                return path.read_bytes()

        data = await console.offload.run(workbook)
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={
                "Content-Disposition": f'attachment; filename="{_file_name(report, "xlsx")}"'
            },
        )

    async def echarts(request: Request) -> Response:
        """The ECharts build, as a static file (no login needed for a public library)."""
        if not ECHARTS_JS.exists():
            return Response("echarts is not installed (make charts)", status_code=404)
        return FileResponse(
            ECHARTS_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return [
        Route("/stats", console.page(index)),
        Route("/stats/report.html", console.page(html_report)),
        Route("/stats/ledger.xlsx", console.page(ledger)),
        Route(ECHARTS_PATH, echarts),
    ]
