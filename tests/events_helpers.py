"""Shared by the 活动 tests: an event in the demo chamber, and who saw what."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.services import Services
from handlers.events.notices import announce
from handlers.events.service import EventService
from handlers.events.store import Activity
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM, START, ChatBot

__all__ = ["LECTURE_START", "make_event", "rows_for", "seed_groups", "texts_to"]

# Wednesday 2026-11-18 14:00 Shanghai: two days and five hours after START.
LECTURE_START = START + timedelta(days=2, hours=5)


def seed_groups(bot: ChatBot) -> None:
    """The bot has seen both member groups and the staff room (their topics recorded)."""
    for room in (MEMBERS_ROOM, OTHER_ROOM, STAFF_ROOM):
        bot.say("帮助", sender="wxid_chen", room=room)
    with bot.app.db.atomic():
        bot.app.db.execute("update outbox set status = 'sent'")


def make_event(
    app: Services,
    *,
    title: str = "数字化转型大讲堂",
    start: datetime = LECTURE_START,
    hours: float = 2,
    capacity: int = 0,
    announced: bool = True,
    **values: Any,
) -> Activity:
    event = app.service(EventService).create(
        {
            "title": title,
            "kind": values.pop("kind", "讲座"),
            "starts_at": start,
            "ends_at": start + timedelta(hours=hours),
            "place": values.pop("place", "商会大厦三楼报告厅"),
            "capacity": capacity,
            **values,
        },
        app.clock.now(),
    )
    if announced:
        event, _ = announce(app, event, app.clock.now())
    return event


def rows_for(app: Services, event_id: int) -> list[dict[str, Any]]:
    return list(
        app.db.table("registrations").rows_where("event_id = ?", [event_id], order_by="id")
    )


def texts_to(bot: ChatBot, conversation_id: str, since: int = 0) -> list[str]:
    """Texts queued for a conversation with an outbox id above `since`."""
    return [str(r["text"]) for r in bot.queued(conversation_id) if int(str(r["id"])) > since]


def last_id(bot: ChatBot) -> int:
    row = bot.app.db.execute("select max(id) from outbox").fetchone()
    return int(row[0] or 0)
