"""`chamberbot report month YYYY-MM | range FROM TO --format text|html|xlsx --out FILE`.

FROM and TO are dates (YYYY-MM-DD, both included). Without `--out` the text goes to
standard output (html and xlsx need `--out`). Exit codes: 0 written, 2 bad arguments.
Every message comes from bot/templates/reports_cli.j2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import ConfigError, load_config
from bot.router import RouterError
from handlers.reports.figures import compute
from handlers.reports.html import ChartsMissing, render_html
from handlers.reports.ledger import write_ledger
from handlers.reports.period import Period, parse_month
from handlers.reports.text import summary_context

__all__ = ["SERIES_MONTHS", "register"]

DEMO_CONFIG = Path(__file__).resolve().parent.parent.parent / "bot" / "demo" / "config.yaml"
SERIES_MONTHS = 12
OK, INVALID = 0, 2


def _open(args: argparse.Namespace) -> App:
    path = Path(args.config) if args.config else DEMO_CONFIG
    config = load_config(path)
    if args.db:
        db_path = Path(args.db)
    elif args.config:
        db_path = config.database_path(path.parent)
    else:
        db_path = Path("data") / config.database
    try:
        return App(config, db_path=db_path, base_dir=path.parent)
    except RouterError as exc:
        raise ConfigError(str(path), exc.key, exc.reason) from None


def _say(app: App, kind: str, *, error: bool = False, **context: Any) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(app.render("reports_cli", kind=kind, **context) + "\n")
    stream.flush()


def _period(app: App, args: argparse.Namespace) -> Period | None:
    if args.report_command == "month":
        return parse_month(args.month, app.clock.now())
    try:
        return Period.of_days(date.fromisoformat(args.first), date.fromisoformat(args.last),
                              app.config.tz)  # fmt: skip
    except ValueError:
        return None


def _report(args: argparse.Namespace) -> int:
    app = _open(args)
    try:
        period = _period(app, args)
        if period is None:
            _say(app, f"bad_{args.report_command}", error=True)
            return INVALID
        if args.format != "text" and not args.out:
            _say(app, "need_out", error=True, format=args.format)
            return INVALID
        now = app.clock.now()
        months = SERIES_MONTHS if args.format == "html" else 0
        report = compute(app.db, app.config, period, now, series_months=months)
        out = Path(args.out) if args.out else None
        if args.format == "xlsx":
            assert out is not None
            cases = write_ledger(app.db, app.render, app.config, report, out)
            _say(app, "written", path=str(out), cases=cases)
            return OK
        if args.format == "html":
            assert out is not None
            try:
                page = render_html(app.render, app.config, report)
            except ChartsMissing as exc:
                _say(app, "charts_missing", error=True, path=str(exc))
                return INVALID
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(page, encoding="utf-8")
            _say(app, "written", path=str(out), cases=None)
            return OK
        text = app.render("reports_summary", **summary_context(app.render, app.config, report))
        if out is None:
            sys.stdout.write(text + "\n")
            return OK
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        _say(app, "written", path=str(out), cases=None)
        return OK
    finally:
        app.db.close()


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "html", "xlsx"), default="text")
    parser.add_argument("--out", help="file to write (required for html and xlsx)")
    parser.add_argument("--config", help="settings file (default: the demo's)")
    parser.add_argument("--db", help="SQLite file (default: the config's database)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `report month | range` to the `chamberbot` command."""
    report = subparsers.add_parser("report", help="诉求 reports: text, HTML, XLSX ledger")
    sub = report.add_subparsers(dest="report_command", required=True)
    month = sub.add_parser("month", help="one calendar month, e.g. 2026-11")
    month.add_argument("month", help="YYYY-MM")
    _common(month)
    month.set_defaults(func=_report)
    span = sub.add_parser("range", help="from a date to a date, both included")
    span.add_argument("first", metavar="FROM", help="YYYY-MM-DD")
    span.add_argument("last", metavar="TO", help="YYYY-MM-DD")
    _common(span)
    span.set_defaults(func=_report)
