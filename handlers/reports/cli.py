"""`chamberbot report month YYYY-MM | range FROM TO --format text|html|xlsx --out FILE`.

FROM and TO are dates (YYYY-MM-DD, both included). Without `--out` the text goes to
standard output (html and xlsx need `--out`). Exit codes: 0 written, 2 bad arguments.
Every message comes from handlers/reports/templates/reports_cli.j2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.feature import SubParsers, command_options, with_services
from bot.services import Services
from handlers.reports.figures import compute
from handlers.reports.period import Period, parse_month
from handlers.reports.text import summary_context

__all__ = ["SERIES_MONTHS", "register"]

SERIES_MONTHS = 12
OK, INVALID = 0, 2


def _say(app: Services, kind: str, *, error: bool = False, **context: Any) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(app.templates.render("reports_cli", kind=kind, **context) + "\n")
    stream.flush()


def _period(app: Services, args: argparse.Namespace) -> Period | None:
    if args.report_command == "month":
        return parse_month(args.month, app.clock.now())
    try:
        return Period.of_days(date.fromisoformat(args.first), date.fromisoformat(args.last),
                              app.config.tz)  # fmt: skip
    except ValueError:
        return None


def _report(app: Services, args: argparse.Namespace) -> int:
    # Imported here: openpyxl costs the bot's start-up a fifth of a second otherwise.
    from handlers.reports.html import ChartsMissing, render_html
    from handlers.reports.ledger import write_ledger

    period = _period(app, args)
    if period is None:
        _say(app, f"bad_{args.report_command}", error=True)
        return INVALID
    if args.format != "text" and not args.out:
        _say(app, "need_out", error=True, format=args.format)
        return INVALID
    months = SERIES_MONTHS if args.format == "html" else 0
    report = compute(app.db, app.config, period, app.clock.now(), series_months=months)
    render = app.templates.render
    if args.format == "xlsx":
        cases = write_ledger(app.db, render, app.config, report, Path(args.out))
        _say(app, "written", path=args.out, cases=cases)
        return OK
    if args.format == "html":
        try:
            text = render_html(render, app.config, report)
        except ChartsMissing as exc:
            _say(app, "charts_missing", error=True, path=str(exc))
            return INVALID
    else:
        text = render("reports_summary", **summary_context(render, app.config, report)) + "\n"
    if not args.out:
        sys.stdout.write(text)
        return OK
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    _say(app, "written", path=str(out), cases=None)
    return OK


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "html", "xlsx"),
        default="text",
        help="text summary (default), self-contained HTML with charts, or the XLSX ledger",
    )
    parser.add_argument("--out", help="file to write (required for html and xlsx)")
    parser.set_defaults(**with_services(_report))


def register(subparsers: SubParsers) -> None:
    """Add `report month | range` to the `chamberbot` command."""
    report = subparsers.add_parser("report", help="诉求 reports: text, HTML, XLSX ledger")
    sub = report.add_subparsers(dest="report_command", required=True)
    month = sub.add_parser(
        "month", help="one calendar month, e.g. 2026-11", parents=[command_options()]
    )
    month.add_argument("month", help="YYYY-MM")
    _common(month)
    span = sub.add_parser(
        "range", help="from a date to a date, both included", parents=[command_options()]
    )
    span.add_argument("first", metavar="FROM", help="YYYY-MM-DD")
    span.add_argument("last", metavar="TO", help="YYYY-MM-DD")
    _common(span)
