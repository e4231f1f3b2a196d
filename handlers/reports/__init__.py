"""督查问效: monthly and on-demand reports of the case loop (统计, the monthly 通报, the
`chamberbot report` command, the XLSX 工作台账 and the HTML report).

    figures.py  every figure, computed once (SQL over facts.py's per-case temp table)
    similar.py  共性问题          ledger.py  XLSX          html.py  HTML with ECharts
    chat.py     统计              monthly.py the monthly job    cli.py   the command
"""

from __future__ import annotations

from pathlib import Path

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.feature import Feature, JobSpec, WebPart
from bot.services import Services
from handlers.reports import web as reports_web
from handlers.reports import web_rates
from handlers.reports.chat import ROUTES, statistics
from handlers.reports.cli import register
from handlers.reports.figures import Report, compute
from handlers.reports.monthly import monthly_job, send_monthly
from handlers.reports.settings import ReportSettings, report_settings
from handlers.reports.store import MIGRATIONS

__all__ = ["FEATURE", "Report", "compute", "monthly_job", "send_monthly", "statistics"]

MONTHLY_JOB = "handlers.reports.monthly:monthly_job"


def _jobs(services: Services) -> list[JobSpec]:
    """The cron on the 1st at `reports.monthly_at`, and an hourly catch-up check for a run
    missed while the bot was down (report_months makes the second one a no-op)."""
    settings = report_settings(services.config)
    at = settings.monthly_at
    tz = services.config.tz
    grace = settings.grace_hours * 3600
    return [
        JobSpec(
            "reports_monthly",
            MONTHLY_JOB,
            CronTrigger(day=1, hour=at.hour, minute=at.minute, timezone=tz),
            name="monthly report",
            misfire_grace_time=max(grace, 60),
            keep_next_run=True,
        ),
        JobSpec("reports_catch_up", MONTHLY_JOB, IntervalTrigger(hours=1, timezone=tz)),
    ]


FEATURE = Feature(
    name="reports",
    routes=ROUTES,
    jobs=_jobs,
    cli=register,
    settings={"reports": ReportSettings},
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    web=WebPart([reports_web.routes, web_rates.routes], [("/stats", "统计")]),
)
