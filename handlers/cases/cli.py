"""`chamberbot cases list | show N | export --out FILE`: the case ledger without the web
console. Output in Chinese through bot/templates/cases_cli.j2 (and staff_details.j2, as
`详情` shows a case in chat); phone numbers only in `show` (a staff view) and in an export
asked for with --phone.

    chamberbot cases list [--status open|all|new|accepted|…] [--limit N]
    chamberbot cases show 2026-0042
    chamberbot cases export --out ledger.xlsx [--format csv|xlsx] [--phone]
    chamberbot cases import sheet.xlsx --by 王科长        (handlers/cases/import_sheet.py)
    chamberbot cases examples --out examples.csv [--format csv|xlsx]

`examples` writes the cases staff re-classified (改类) as labelled examples: description,
the classification it ended with and what the rules had said (handlers/cases/examples.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.feature import SubParsers, command_options, with_services
from bot.refusal import Refusal
from bot.services import Services
from handlers.cases import import_sheet
from handlers.cases.examples import labelled_examples
from handlers.cases.listing import CaseFilter
from handlers.cases.service import Case, CaseService, as_text, ledger_labels, ledger_rows
from handlers.cases.staff_views import details_context
from sheets import write_table

__all__ = ["register"]

FORMATS = ("csv", "xlsx")


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")


def _cases(app: Services, status: str, limit: int | None = None) -> list[Case]:
    wanted = "" if status == "all" else status  # the filter's "" is every status
    where, params = CaseFilter(status=wanted).where(app.clock.now())
    return app.service(CaseService).where(where, params, order_by="id desc", limit=limit)


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
    _write(app.templates.render("staff_details", **details_context(app, case, now)))
    return 0


def _export(app: Services, args: argparse.Namespace) -> int:
    lab = ledger_labels(app.templates.render)
    now = app.clock.now()
    ledger = ledger_rows(app.db, lab, app.config.tz, now, phone=args.phone, with_timeline=False)
    out = Path(args.out)
    rows = [ledger.header, *(as_text(row) for row in ledger.rows)]
    write_table(rows, out, args.format, lab["ledger.title"])
    _write(app.templates.render("cases_cli", kind="exported", count=len(ledger.rows), out=out))
    return 0


def _examples(app: Services, args: argparse.Namespace) -> int:
    found = labelled_examples(app.db)
    header = app.templates.render("cases_cli", kind="examples_header").strip().split("|")
    rows = [header]
    for e in found:
        rows.append(
            [e.number, e.description, e.label, e.rules_said, e.corrected_at, e.corrected_by]
        )
    title = app.templates.render("cases_cli", kind="examples_title").strip()
    write_table(rows, Path(args.out), args.format, title)
    text = app.templates.render("cases_cli", kind="examples", count=len(found), out=args.out)
    _write(text)
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
    import_sheet.register(commands)
    examples = commands.add_parser(
        "examples", parents=[common], help="re-classified cases as labelled examples"
    )
    examples.add_argument("--out", required=True, help="the file to write")
    examples.add_argument("--format", choices=FORMATS, default="csv", help="csv or xlsx")
    examples.set_defaults(**with_services(_examples))
