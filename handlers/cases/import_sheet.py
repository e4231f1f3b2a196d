"""`chamberbot cases import FILE.xlsx --by <staff>`: a reception day's sheet of problems
registered as cases (代录), all or nothing.

The first row names the columns (in any order): 企业名称, 问题描述, 来源, 收集日期, and
optionally 联系人 and 联系电话. Every row is checked as the console's form checks it
(CaseService.check_registration); a bad row is reported with its row number, and when any
row is bad nothing of the file is written. Blank rows are skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.db import transaction
from bot.feature import SubParsers, command_options, with_services
from bot.refusal import Refusal
from bot.services import Services
from handlers.cases.actions import staff_id_named
from handlers.cases.model import Actor
from handlers.cases.service import CaseService, Registration
from sheets import read_sheet

__all__ = ["register"]

COLUMNS = {
    "企业名称": "enterprise",
    "问题描述": "description",
    "来源": "route",
    "收集日期": "collected_on",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
}
REQUIRED = ("企业名称", "问题描述", "来源", "收集日期")


def _registration(app: Services, row: dict[str, Any]) -> Registration:
    """The row as a registration, or Refusal (the same answers the console gives)."""
    reg = Registration.from_fields(row)
    app.service(CaseService).check_registration(reg, app.clock.now())
    return reg


def _import(app: Services, args: argparse.Namespace) -> int:
    render = app.templates.render
    staff = _staff(app, args.by)
    if staff is None:
        names = [member.name for member in app.people.staff.values()]
        sys.stderr.write(render("cases_import", kind="no_staff", who=args.by, names=names) + "\n")
        return 2
    path = Path(args.file)
    try:
        missing, rows = read_sheet(path, COLUMNS, REQUIRED)
    except (OSError, ValueError, KeyError) as exc:  # not a workbook openpyxl can read
        sys.stderr.write(render("cases_import", kind="unreadable", path=path, error=exc) + "\n")
        return 1
    errors: list[tuple[int, str]] = []
    regs: list[Registration] = []
    for number, row in rows:
        try:
            regs.append(_registration(app, row))
        except Refusal as refusal:
            errors.append((number, render(refusal.template, **refusal.context)))
    if missing or errors or not regs:
        kind = "missing" if missing else ("bad" if errors else "empty")
        text = render("cases_import", kind=kind, path=path, missing=missing, errors=errors)
        sys.stderr.write(text + "\n")
        return 1
    now = app.clock.now()
    service = app.service(CaseService)
    with transaction(app.db):
        outcomes = [service.register(staff, reg, now) for reg in regs]
        for outcome in outcomes:
            app.outbox.enqueue(outcome.notices)
    cases = [o.case for o in outcomes]
    sys.stdout.write(render("cases_import", kind="done", path=path, cases=cases) + "\n")
    return 0


def _staff(app: Services, who: str) -> Actor | None:
    found = staff_id_named(app.people, who)
    return Actor(found, app.people.staff_name(found)) if found else None


def register(commands: SubParsers) -> None:
    sheet = commands.add_parser(
        "import", parents=[command_options()], help="register the cases of a sheet (代录)"
    )
    sheet.add_argument("file", help="an .xlsx file: 企业名称, 问题描述, 来源, 收集日期 …")
    sheet.add_argument("--by", required=True, help="the staff member registering them")
    sheet.set_defaults(**with_services(_import))
