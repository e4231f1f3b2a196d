"""活动: lectures and salons — announce, register in chat, waiting list, reminders, check-in.

Modules: store (tables, numbering, the write lock), service (the rules; the feature's one
service, found with `services.service(EventService)`), notices (who is told what), chat
(member commands), publish (staff commands), reminders (the sweep), export (CSV / XLSX),
cli (`chamberbot event …`).
"""

from __future__ import annotations

from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from bot.feature import ConsoleHook, Feature, JobSpec, WebPart
from bot.messages import Role
from bot.router import Route
from bot.services import Services
from handlers.events import chat, cli, publish
from handlers.events import web as events_web
from handlers.events.demo import console_seed
from handlers.events.notices import promoted_notices
from handlers.events.reminders import console_sweep
from handlers.events.service import EventService
from handlers.events.settings import EventsSettings, settings
from handlers.events.store import MIGRATIONS

__all__ = ["FEATURE", "EventService"]

ROUTES: list[Route] = [
    Route("event_list", ("活动",), chat.list_events, "活动", "查看近期活动和剩余名额"),
    Route(
        "event_register",
        ("报名",),
        chat.register,
        "报名 <活动编号或名称>",
        "报名参加活动（满员进入候补）",
    ),
    Route("event_cancel", ("取消报名",), chat.withdraw, "取消报名 <活动编号>", "取消活动报名"),
    Route(
        "event_checkin",
        ("签到",),
        chat.check_in,
        "签到 <活动编号> [签到码]",
        "活动现场签到（开始前1小时起）",
    ),
    Route(
        "event_publish",
        ("发布活动",),
        publish.publish,
        "发布活动",
        "分步填写并发布活动（发布前需确认）",
        role=Role.STAFF,
        staff_place_only=True,
    ),
    Route(
        "event_roster",
        ("活动名单",),
        publish.roster,
        "活动名单 <活动编号>",
        "查看报名、候补和签到名单",
        role=Role.STAFF,
        staff_place_only=True,
    ),
]


def _service(services: Services) -> EventService:
    return EventService(
        services.db,
        settings(services.config),
        services.people.same_person,
        lambda event, promoted: promoted_notices(services, event, promoted),
    )


def _jobs(services: Services) -> list[JobSpec]:
    """The reminder sweep (rows the CLI queues are seen by the sender's data_version watch)."""
    tz = services.config.tz
    every = services.config.sweep_interval_seconds
    return [
        JobSpec(
            "events_sweep",
            "handlers.events.reminders:sweep_job",
            IntervalTrigger(seconds=every, timezone=tz),
        ),
    ]


FEATURE = Feature(
    name="events",
    routes=ROUTES,
    prompts={"event_detail": chat.answer_detail, "event_publish": publish.answer_publish},
    jobs=_jobs,
    cli=cli.register,
    console=[
        ConsoleHook("sweep", "/sweep", console_sweep),
        ConsoleHook("seed", "/seed", console_seed),
    ],
    settings={"events": EventsSettings},
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    service=_service,
    web=WebPart([events_web.routes], [("/events", "活动")]),
)
