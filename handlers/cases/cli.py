"""`chamberbot cases list | show N | export --out FILE`: the case ledger without the web
console. Output in Chinese through bot/templates/cases_cli.j2 (and staff_details.j2, as
`详情` shows a case in chat); phone numbers only in `show` (a staff view) and in an export
asked for with --phone.

    chamberbot cases list [--status open|all|new|accepted|…] [--limit N]
    chamberbot cases show 2026-0042
    chamberbot cases export --out ledger.xlsx [--format csv|xlsx] [--phone]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.db import from_db
from bot.feature import SubParsers, command_options, with_services
from bot.refusal import Refusal
from bot.services import Services
from bot.tables import write_table
from handlers.cases.service import OPEN, Case, CaseService

__all__ = ["register"]

FORMATS = ("csv", "xlsx")


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")


def _cases(app: Services, status: str, limit: int | None = None) -> list[Case]:
    if status == "all":
        return app.service(CaseService).where("1", [], order_by="id desc", limit=limit)
    wanted = sorted(OPEN) if status == "open" else [status]
    marks = ", ".join("?" for _ in wanted)
    return app.service(CaseService).where(
        f"status in ({marks})", wanted, order_by="id desc", limit=limit
    )


def _list(app: Services, args: argparse.Namespace) -> int:
    cases = _cases(app, args.status, args.limit)
    total = len(_cases(app, args.status)) if len(cases) == args.limit else len(cases)
    _write(app.templates.render("cases_cli", kind="list", cases=cases, total=total))
    return 0


def _show(app: Services, args: argparse.Namespace) -> int:
    now = app.clock.now()
    try:
        case = app.service(CaseService).find(args.number, now, "", staff=True)
    except Refusal as refusal:
        sys.stderr.write(app.templates.render(refusal.template, **refusal.context) + "\n")
        return 1
    origin = app.places.name(case.conversation_id)
    text = app.templates.render(
        "staff_details",
        case=case,
        origin=origin if case.conversation_is_group else "",
        phone=app.people.contact(case.reporter_id)["phone"],
        overdue=case.overdue(now),
        events=app.service(CaseService).timeline(case),
    )
    _write(text)
    return 0


def _local(app: Services, value: str | None) -> str:
    return from_db(value).astimezone(app.config.tz).strftime("%Y-%m-%d %H:%M") if value else ""


def ledger_rows(app: Services, *, phone: bool) -> list[list[str]]:
    """工作台账: the header and one row per case, oldest first."""
    header = app.templates.render("cases_cli", kind="header", phone=phone).split("\t")
    labels = dict(
        line.split("\t", 1)
        for line in app.templates.render("cases_cli", kind="labels").splitlines()
    )
    rows = [header]
    for case in reversed(_cases(app, "all")):
        row = [
            case.number,
            _local(app, case.created_at),
            case.enterprise or "",
            case.reporter_name,
        ]
        if phone:
            row.append(app.people.contact(case.reporter_id)["phone"] or "")
        row += [
            case.category,
            case.aspect or "",
            case.department,
            case.assignee_name or "",
            labels.get(case.status, case.status),
            _local(app, case.due_at),
            _local(app, case.resolved_at) if case.status in ("resolved", "closed") else "",
            labels.get(case.rating or "", ""),
            case.description,
        ]
        rows.append(row)
    return rows


def _export(app: Services, args: argparse.Namespace) -> int:
    rows = ledger_rows(app, phone=args.phone)
    out = Path(args.out)
    write_table(rows, out, args.format, "工作台账")
    _write(app.templates.render("cases_cli", kind="exported", count=len(rows) - 1, out=out))
    return 0


def register(sub: SubParsers) -> None:
    cases = sub.add_parser("cases", help="the case ledger: list, show one, export")
    commands = cases.add_subparsers(dest="cases_command", required=True)
    common = command_options()
    listing = commands.add_parser("list", parents=[common], help="cases, newest first")
    listing.add_argument(
        "--status", default="open", help="open (default), all, or one status such as resolved"
    )
    listing.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    listing.set_defaults(**with_services(_list))
    show = commands.add_parser("show", parents=[common], help="one case and its timeline")
    show.add_argument("number", help="the case number, e.g. 2026-0042 or 42")
    show.set_defaults(**with_services(_show))
    export = commands.add_parser("export", parents=[common], help="the ledger as CSV or XLSX")
    export.add_argument("--out", required=True, help="the file to write")
    export.add_argument("--format", choices=FORMATS, default="xlsx", help="csv or xlsx")
    export.add_argument("--phone", action="store_true", help="include reporters' phone numbers")
    export.set_defaults(**with_services(_export))
