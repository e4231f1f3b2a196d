"""Digests to WeCom customer groups (客户群) as mass-send tasks (企业群发) — the durable half.

No bot can post into a customer group: a digest becomes a task (`externalcontact/
add_msg_template`, chat_type `group`) that the groups' owner confirms in WeCom, and each
group receives only so many mass messages a month. This module owns the tasks' records;
channels/wecom_groups.py talks to the vendor.

- A run's digests to customer groups (`channels.wecom_customer_groups.groups`, member groups
  of the channel `wecom_customer_groups`, tags and targets as for WeChat groups) are
  planned per group; groups with the same owner and the same text share ONE task. Each
  task is a `mass_tasks` row and ONE outbox row (dedupe key `mass:<task>`), written with
  the `deliveries` and `policy_sent` rows in one transaction — a restart never creates it
  twice. A task's text is one message within the vendor's 4,000 bytes; policies that do
  not fit wait for the next digest.
- Quota: the tasks a group got this calendar month (chamber's time zone) count against
  `monthly_limit` (default: the number of days in the month, the vendor's rule since
  2025; the older rule was 4). A digest that would exceed it is recorded as `held`, its
  policies stay unsent, and the staff rooms are told once per group and month.
- States: queued (in the outbox) → pending (created in WeCom: 待确认, the owner must
  confirm) → sent (every group's result known) | failed | unknown (no answer: it may
  exist; never created again) | held (quota).
- The results are read by a scheduled job (`poll_job`, every `poll_minutes`) through the
  reader the running channel registers (`set_result_reader`).
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.channel_settings import CustomerGroups
from bot.db import to_db, to_json
from bot.feature import JobSpec
from bot.messages import Outgoing
from bot.places import Group
from bot.scheduler import running_services
from bot.services import Services
from policy_feeds.model import Policy

__all__ = [
    "CHANNEL",
    "MIGRATIONS",
    "TASK_TEXT_BYTES",
    "deliver_groups",
    "jobs",
    "monthly_limit",
    "poll_job",
    "section_of",
    "seed_groups",
    "set_result_reader",
    "task_conversation",
    "task_id_of",
    "used_this_month",
]

log = logging.getLogger(__name__)

CHANNEL = "wecom_customer_groups"
TASK_TEXT_BYTES = 4000  # add_msg_template: text.content, at most 4,000 bytes
POLL_JOB = "mass_send:results"
_PREFIX = "群发#"
MIGRATIONS = Migrations("mass_send")

#: one customer group's digest that fits one task: its policies and its text
Plan = Callable[[Group], tuple[list[Policy], str] | None]
ResultReader = Callable[[], Awaitable[None]]
_reader: ResultReader | None = None


@MIGRATIONS()
def m001_mass_tasks(db: Database) -> None:
    db.execute(
        "create table mass_tasks (id integer primary key, run_id integer, sender text not null,"
        " text text not null, status text not null, msgid text, error text, month text not null,"
        " created_at text not null, updated_at text not null)"
    )
    db.execute(
        "create table mass_task_groups (task_id integer not null, chat_id text not null,"
        " month text not null, status integer, send_time integer,"
        " primary key (task_id, chat_id))"
    )
    db.execute("create index mass_task_groups_month on mass_task_groups (chat_id, month)")


def section_of(app: Services) -> CustomerGroups | None:
    return app.config.channels.wecom_customer_groups


def monthly_limit(section: CustomerGroups, now: datetime) -> int:
    return section.monthly_limit or calendar.monthrange(now.year, now.month)[1]


def task_conversation(task_id: int) -> str:
    return f"{_PREFIX}{task_id}"


def task_id_of(conversation_id: str) -> int | None:
    rest = conversation_id.removeprefix(_PREFIX)
    return int(rest) if rest != conversation_id and rest.isdigit() else None


def seed_groups(app: Services) -> None:
    """The configured customer groups as member groups of the channel, with their tags."""
    section = section_of(app)
    if section is None:
        return
    with app.db.atomic():
        for name, group in section.groups.items():
            app.places.remember_room(group.chat_id, name, CHANNEL)
            if group.tags:
                app.places.set_tags(group.chat_id, group.tags)


def used_this_month(app: Services, chat_id: str, month: str) -> int:
    row = app.db.execute(
        "select count(*) from mass_task_groups g join mass_tasks t on t.id = g.task_id"
        " where g.chat_id = ? and g.month = ? and t.status not in ('held', 'failed')"
        " and coalesce(g.status, 0) not in (-1, 3)",  # refused at creation; over the limit
        [chat_id, month],
    ).fetchone()
    return int(row[0])


def _insert_task(app: Services, run_id: int, sender: str, text: str, status: str) -> int:
    now = app.clock.now()
    cursor = app.db.execute(
        "insert into mass_tasks (run_id, sender, text, status, month, created_at, updated_at)"
        " values (?, ?, ?, ?, ?, ?, ?)",
        [run_id, sender, text, status, now.strftime("%Y-%m"), to_db(now), to_db(now)],
    )
    return int(cursor.lastrowid or 0)


def _record_delivery(
    app: Services, run_id: int, task_id: int, group: Group, items: Sequence[Policy], sent: bool
) -> None:
    now = app.clock.now()
    app.db.execute(
        "insert into mass_task_groups (task_id, chat_id, month) values (?, ?, ?)",
        [task_id, group.id, now.strftime("%Y-%m")],
    )
    app.db.execute(
        "insert into deliveries (run_id, conversation_id, policy_ids, messages, created_at)"
        " values (?, ?, ?, ?, ?)",
        [run_id, group.id, to_json([p.id for p in items] if sent else []), int(sent), to_db(now)],
    )
    for policy in items if sent else ():
        app.db.execute(
            "insert or ignore into policy_sent (conversation_id, policy_id, run_id, sent_at)"
            " values (?, ?, ?, ?)",
            [group.id, policy.id, run_id, to_db(now)],
        )


def deliver_groups(
    app: Services, run_id: int, groups: Sequence[Group], plan: Plan
) -> dict[str, int]:
    """Queue a run's digests to customer groups, once: each group in a task queued → 1."""
    section = section_of(app)
    if section is None or not groups:
        return {}
    owners = {g.chat_id: g.owner or section.sender for g in section.groups.values()}
    now = app.clock.now()
    month, limit = now.strftime("%Y-%m"), monthly_limit(section, now)
    buckets: dict[tuple[str, str], list[tuple[Group, list[Policy]]]] = {}
    held: list[tuple[Group, list[Policy], str]] = []
    with app.db.atomic():
        for group in groups:
            if app.db.table("deliveries").count_where(
                "run_id = ? and conversation_id = ?", [run_id, group.id]
            ):
                continue
            planned = plan(group)
            if planned is None:
                continue
            items, text = planned
            sender = owners.get(group.id, section.sender)
            if used_this_month(app, group.id, month) >= limit:
                held.append((group, items, sender))
                continue
            buckets.setdefault((sender, text), []).append((group, items))
        for (sender, text), members in buckets.items():
            task_id = _insert_task(app, run_id, sender, text, "queued")
            for group, items in members:
                _record_delivery(app, run_id, task_id, group, items, True)
            app.outbox.enqueue(
                [_outgoing(task_id, text)], dedupe_key=f"mass:{task_id}", scheduled=True
            )
        for group, items, sender in held:
            task_id = _insert_task(app, run_id, sender, "", "held")
            _record_delivery(app, run_id, task_id, group, items, False)
        if held:
            names = [g.name for g, *_ in held]
            notice = app.notices.to_staff(
                "mass_quota_held", groups=names, limit=limit, today=now, count=len(held[0][1])
            )
            key = "mass_quota:" + month + ":" + ",".join(sorted(g.id for g, *_ in held))
            app.outbox.enqueue(notice, dedupe_key=key)  # told once a month for these groups
    if held:
        log.warning("customer groups over their monthly quota: %s", [g.id for g, *_ in held])
    return {g.id: 1 for members in buckets.values() for g, _ in members}


def _outgoing(task_id: int, text: str) -> Outgoing:
    return Outgoing(task_conversation(task_id), text, channel=CHANNEL)


# -- the result job ---------------------------------------------------------------------


def set_result_reader(reader: ResultReader | None) -> None:
    """The running channel's reader of the tasks' results (None when it stops)."""
    global _reader
    _reader = reader


def jobs(app: Services) -> list[JobSpec]:
    section = section_of(app)
    if section is None:
        return []
    from apscheduler.triggers.interval import IntervalTrigger  # lazily: a light start

    trigger = IntervalTrigger(minutes=section.poll_minutes, timezone=app.config.tz)
    return [JobSpec(POLL_JOB, f"{__name__}:poll_job", trigger, name="mass-send results")]


async def poll_job() -> None:
    """Read the results of the tasks still 待确认 (the channel's reader; none: nothing)."""
    running_services()  # the bot is running: its channel registered the reader
    if _reader is None:
        log.info("mass-send results: the customer-group channel is not running")
        return
    await _reader()
