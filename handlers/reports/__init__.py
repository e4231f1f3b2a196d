"""督查问效: monthly and on-demand reports of the case loop (统计, the monthly 通报, the
`chamberbot report` command, the XLSX 工作台账 and the HTML report).

    figures.py  every figure, computed once (SQL over facts.py's per-case temp table)
    similar.py  共性问题          ledger.py  XLSX          html.py  HTML with ECharts
    chat.py     统计              monthly.py the monthly job    cli.py   the command
"""

from handlers.reports.chat import ROUTES, statistics
from handlers.reports.cli import register
from handlers.reports.figures import Report, compute
from handlers.reports.monthly import monthly_job, send_monthly
from handlers.reports.store import MIGRATIONS

__all__ = [
    "MIGRATIONS",
    "ROUTES",
    "Report",
    "compute",
    "monthly_job",
    "register",
    "send_monthly",
    "statistics",
]
