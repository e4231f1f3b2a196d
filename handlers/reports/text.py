"""The report in words: the chat summary, the footnote, and the labels of XLSX and HTML.

All of it comes from bot/templates (reports_*.j2), so a chamber can change the wording.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config import Config
from handlers.cases.service import ledger_labels
from handlers.reports.figures import Report
from handlers.reports.settings import report_settings

__all__ = ["Render", "definitions", "labels", "summary_context"]

Render = Callable[..., str]


def definitions(render: Render, config: Config) -> str:
    settings = report_settings(config)
    return render(
        "reports_definitions",
        months=settings.common_issue_months,
        enterprises=settings.common_issue_enterprises,
    )


def labels(render: Render) -> dict[str, str]:
    """`reports_labels.j2` and the case ledger's labels as a mapping: key → Chinese label."""
    out = ledger_labels(render)
    for line in render("reports_labels").splitlines():
        key, sep, label = line.partition("|")
        if sep:
            out[key.strip()] = label.strip()
    return out


def summary_context(render: Render, config: Config, report: Report) -> dict[str, Any]:
    """What `reports_summary.j2` needs besides the template name."""
    return {
        "r": report,
        "limit": report_settings(config).overdue_in_text,
        "definitions": definitions(render, config),
    }
