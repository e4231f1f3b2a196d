"""The HTML report: one self-contained file, charts drawn by Apache ECharts inlined into it.

ECharts (npm package `echarts`, Apache-2.0) is installed by the Makefile into
handlers/reports/vendor/node_modules; its minified build is copied into the page, so the
file opens offline, with no network at view time. The figures are in plain HTML tables
too (the charts only draw them), and the chart data is embedded as JSON.

The page template is handlers/reports/templates/report.html.j2 (its own Jinja2
environment: HTML needs autoescaping, the chat templates must not have it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.config import Config
from handlers.reports.figures import Report
from handlers.reports.text import Render, definitions, labels

__all__ = ["ECHARTS_JS", "ChartsMissing", "render_html"]

HERE = Path(__file__).resolve().parent
ECHARTS_JS = HERE / "vendor" / "node_modules" / "echarts" / "dist" / "echarts.min.js"

_env = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    undefined=StrictUndefined,
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


class ChartsMissing(RuntimeError):
    """The ECharts build is not installed (run `make` first)."""


def _echarts() -> str:
    if not ECHARTS_JS.exists():
        raise ChartsMissing(str(ECHARTS_JS))
    return ECHARTS_JS.read_text(encoding="utf-8").replace("</script", "<\\/script")


def chart_data(report: Report) -> dict[str, Any]:
    """The series the charts draw (this report's and the web console's 统计 page)."""
    months = [f"{p.start.year}-{p.start.month:02d}" for p, _ in report.series]
    return {
        "months": months,
        "received": [t.received for _, t in report.series],
        "closed": [t.closed.num for _, t in report.series],
        "responded": [t.responded.pct for _, t in report.series],
        "on_time": [t.on_time.pct for _, t in report.series],
        "resolved": [t.resolved.pct for _, t in report.series],
        "satisfaction": [t.satisfaction.pct for _, t in report.series],
        "categories": [b.name for b in report.by_category],
        "category_received": [b.received for b in report.by_category],
        "category_resolved": [b.resolved for b in report.by_category],
    }


def render_html(render: Render, config: Config, report: Report) -> str:
    lab = labels(render)
    title = render("reports_html_title", r=report)
    return _env.get_template("report.html.j2").render(
        r=report,
        t=report.totals,
        lab=lab,
        title=title,
        generated=render("reports_html_cutoff", r=report),
        notes=definitions(render, config).splitlines(),
        charts=chart_data(report),
        echarts=_echarts(),
    )
