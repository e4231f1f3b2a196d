"""`chamberbot enterprises import FILE.xlsx` and `chamberbot enterprises list`.

The sheet's first row names the columns (in any order): 企业名称, and any of 统一社会信用代码,
行业, 规模, 所在地区, 资质 (separated by 、), 联系人, 联系电话. An enterprise already on
file (by name) is updated: an empty cell leaves its field alone. Every row is checked as
chat and the console check it; a bad row is reported with its row number, and when any row
is bad nothing of the file is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.db import transaction
from bot.feature import SubParsers, command_options, with_services
from bot.people import Actor
from bot.services import Services
from handlers.enterprises.service import EnterpriseService
from sheets import read_sheet

__all__ = ["register"]

COLUMNS = {
    "企业名称": "name",
    "统一社会信用代码": "credit_code",
    "行业": "industry",
    "规模": "size",
    "所在地区": "region",
    "资质": "qualifications",
    "联系人": "contact_name",
    "联系电话": "contact_phone",
}
IMPORTER = Actor("import", "表格导入")


def _import(app: Services, args: argparse.Namespace) -> int:
    render = app.templates.render
    path = Path(args.file)
    try:
        missing, rows = read_sheet(path, COLUMNS, ["企业名称"])
    except (OSError, ValueError, KeyError) as exc:  # not a workbook openpyxl can read
        sys.stderr.write(render("enterprises_cli", kind="unreadable", path=path, error=exc) + "\n")
        return 1
    if missing or not rows:
        kind = "missing" if missing else "empty"
        sys.stderr.write(render("enterprises_cli", kind=kind, path=path) + "\n")
        return 1
    # an empty cell keeps what is on file
    fields = [{k: v for k, v in row.items() if v not in (None, "")} for _, row in rows]
    with transaction(app.db):
        saved, errors = app.service(EnterpriseService).save_all(fields, IMPORTER, "import")
    if errors:
        numbered = [(rows[i][0], e.text) for i, e in errors]
        text = render("enterprises_cli", kind="bad", path=path, errors=numbered)
        sys.stderr.write(text + "\n")
        return 1
    sys.stdout.write(render("enterprises_cli", kind="done", path=path, profiles=saved) + "\n")
    return 0


def _list(app: Services, args: argparse.Namespace) -> int:
    profiles = app.service(EnterpriseService).all()
    text = app.templates.render("enterprises_cli", kind="list", profiles=profiles)
    sys.stdout.write(text + "\n")
    return 0


def register(commands: SubParsers) -> None:
    group = commands.add_parser("enterprises", help="企业画像: import a sheet, list profiles")
    sub = group.add_subparsers(dest="action", required=True)
    sheet = sub.add_parser(
        "import", parents=[command_options()], help="add or update profiles from a sheet"
    )
    sheet.add_argument("file", help="an .xlsx file: 企业名称, 统一社会信用代码, 行业, 规模 …")
    sheet.set_defaults(**with_services(_import))
    listing = sub.add_parser("list", parents=[command_options()], help="every profile")
    listing.set_defaults(**with_services(_list))
