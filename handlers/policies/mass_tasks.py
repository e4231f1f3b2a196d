"""The records of the mass-send tasks to WeCom customer groups (handlers/policies/mass_send.py
creates them): what the channel writes as the vendor answers, what the console shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.db import to_db, to_json
from bot.services import Services
from handlers.policies.mass_send import monthly_limit, section_of, used_this_month

__all__ = [
    "REFUSED",
    "MassTask",
    "mass_view",
    "pending_tasks",
    "recent_tasks",
    "record_created",
    "record_results",
    "set_status",
    "task",
]

#: a group's status when add_msg_template listed it in `fail_list` (the vendor's own
#: statuses are 0 未发送, 1 已发送, 2 not a contact, 3 over the group's limit)
REFUSED = -1


@dataclass(frozen=True)
class MassTask:
    id: int
    sender: str
    text: str
    status: str
    msgid: str | None
    error: str | None
    created_at: str
    groups: dict[str, int | None]  # chat_id → the vendor's status (None: not known yet)


def task(app: Services, task_id: int) -> MassTask | None:
    row = app.db.execute(
        "select id, sender, text, status, msgid, error, created_at from mass_tasks where id = ?",
        [task_id],
    ).fetchone()
    if row is None:
        return None
    groups = app.db.execute(
        "select chat_id, status from mass_task_groups where task_id = ? order by rowid",
        [task_id],
    ).fetchall()
    return MassTask(
        int(row[0]),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        row[4],
        row[5],
        str(row[6]),
        {str(c): s for c, s in groups},
    )


def set_status(app: Services, task_id: int, status: str, error: str | None = None) -> None:
    with app.db.atomic():
        app.db.execute(
            "update mass_tasks set status = ?, error = ?, updated_at = ? where id = ?",
            [status, error, to_db(app.clock.now()), task_id],
        )


def record_created(app: Services, task_id: int, msgid: str, failed: Sequence[str]) -> None:
    """The vendor created the task (待确认); `failed`: chat ids it refused (not the
    sender's groups): marked REFUSED, they wait for no result and use no quota."""
    with app.db.atomic():
        app.db.execute(
            "update mass_tasks set status = 'pending', msgid = ?, error = ?, updated_at = ?"
            " where id = ?",
            [msgid, to_json(list(failed)) if failed else None, to_db(app.clock.now()), task_id],
        )
        for chat_id in failed:
            app.db.execute(
                "update mass_task_groups set status = ? where task_id = ? and chat_id = ?",
                [REFUSED, task_id, chat_id],
            )


def pending_tasks(app: Services) -> list[MassTask]:
    rows = app.db.execute("select id from mass_tasks where status = 'pending' order by id")
    return [t for (task_id,) in rows.fetchall() if (t := task(app, int(task_id))) is not None]


def record_results(app: Services, task_id: int, results: dict[str, tuple[int, int]]) -> bool:
    """The vendor's per-group results (chat_id → (status, send_time)); True when every
    group has one other than 0 (未发送) and the task is done."""
    with app.db.atomic():
        for chat_id, (status, sent_at) in results.items():
            app.db.execute(
                "update mass_task_groups set status = ?, send_time = ?"
                " where task_id = ? and chat_id = ?",
                [status, sent_at or None, task_id, chat_id],
            )
        found = task(app, task_id)
        done = found is not None and all(s not in (None, 0) for s in found.groups.values())
        if done:
            app.db.execute(
                "update mass_tasks set status = 'sent', updated_at = ? where id = ?",
                [to_db(app.clock.now()), task_id],
            )
    return done


def recent_tasks(app: Services, limit: int = 30) -> list[MassTask]:
    rows = app.db.execute("select id from mass_tasks order by id desc limit ?", [limit])
    return [t for (task_id,) in rows.fetchall() if (t := task(app, int(task_id))) is not None]


def mass_view(app: Services) -> dict[str, Any] | None:
    """What the console shows: the recent tasks, each group's name and this month's quota."""
    section = section_of(app)
    if section is None:
        return None
    now = app.clock.now()
    month, limit = now.strftime("%Y-%m"), monthly_limit(section, now)
    names = {g.chat_id: name for name, g in section.groups.items()}
    quota = [
        (name, used_this_month(app, g.chat_id, month), limit) for name, g in section.groups.items()
    ]
    return {"tasks": recent_tasks(app), "names": names, "quota": quota}
