"""Attendee lists as CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX (openpyxl).

Columns (headers from bot/templates/events_export.j2): 活动编号, 序号, 姓名, 企业, 手机号
(staff export only), 报名时间, 状态, 签到时间, 来源群. Status is one of 已报名, 候补,
候补转正, 已取消, 已签到, 现场, 未到场 (service.export_status). Times are local.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.db import from_db
from bot.services import Services
from handlers.events.service import EventService, export_status
from handlers.events.store import Activity
from sheets import write_table

__all__ = ["FORMATS", "export_rows", "write_export"]

FORMATS = ("csv", "xlsx")
_CODES = ("registered", "waiting", "promoted", "cancelled", "checked_in", "walk_in", "no_show")


def _local(app: Services, value: str | None) -> str:
    return from_db(value).astimezone(app.config.tz).strftime("%Y-%m-%d %H:%M") if value else ""


def export_rows(app: Services, event: Activity, *, staff: bool, now: datetime) -> list[list[str]]:
    """The header row and one row per registration, in sign-up order."""
    header = app.templates.render("events_export", part="header", staff=staff).splitlines()
    labels = dict(
        line.split("\t", 1)
        for line in app.templates.render("events_export", part="labels", codes=_CODES).splitlines()
    )
    rows = [header]
    for i, reg in enumerate(app.service(EventService).store.registrations(event.id), 1):
        where = app.places.name(reg.conversation_id) if reg.is_group else labels["私聊"]
        row = [str(event.id), str(i), reg.name or reg.contact_id, reg.enterprise or ""]
        if staff:
            row.append(reg.phone or "")
        row += [
            _local(app, reg.registered_at),
            labels[export_status(reg, event, now)],
            _local(app, reg.checked_in_at),
            where,
        ]
        rows.append(row)
    return rows


def write_export(
    app: Services, event: Activity, path: Path, fmt: str, *, staff: bool, now: datetime
) -> int:
    """Write the file; returns the number of attendee rows."""
    rows = export_rows(app, event, staff=staff, now=now)
    write_table(rows, path, fmt, f"活动{event.id}")
    return len(rows) - 1
