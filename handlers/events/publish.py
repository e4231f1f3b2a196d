"""发布活动 (guided, staff) and 活动名单 (the roster), in a staff room or a staff private chat.

发布活动, one question per message, `取消` at any step stops without writing anything:

    发布活动 → title → time (11-20 14:00-16:00) → place → capacity (0 = 不限)
             → target (全部 or a tag expression) → preview → 确认 → created, announced

Each answer that cannot be read is asked again with the right form. Kind is the first
configured kind the title names (讲座, 沙龙 …), else the first kind; the deadline is the
start; description, check-in code and "phone required" are set with `chamberbot event edit`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from bot.db import from_db, to_db
from bot.messages import Outgoing
from bot.normalize import SEPARATORS, normalize
from bot.router import Context
from bot.targeting import TargetError, parse_target
from handlers.events.chat import find_event
from handlers.events.notices import announce, target_groups
from handlers.events.service import EventService, export_status
from handlers.events.settings import settings
from handlers.events.store import DRAFT, Activity

__all__ = ["answer_publish", "parse_time", "publish", "roster"]

STEPS = ("title", "time", "place", "capacity", "target", "confirm")
_STOP = {"取消", "算了", "退出"}
_CONFIRM = {"确认", "确定"}
_TIME = re.compile(
    r"^(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*"
    r"(\d{1,2})[:：](\d{2})\s*(?:-|—|–|~|～|至|到)\s*(\d{1,2})[:：](\d{2})$"
)


def parse_time(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """`2026-11-20 14:00-16:00`, `11-20 14:00-16:00`, `11月20日 14:00至16:00` → start, end.

    Without a year: this year, or next year if the date has passed. None if unreadable,
    in the past, or ending before it starts.
    """
    match = _TIME.match(unicodedata.normalize("NFKC", text).strip())
    if not match:
        return None
    year, month, day, h1, m1, h2, m2 = (int(g) if g else 0 for g in match.groups())
    try:
        start = datetime(year or now.year, month, day, h1, m1, tzinfo=now.tzinfo)
        end = start.replace(hour=h2, minute=m2)
    except ValueError:
        return None
    if not year and start < now:
        start, end = start.replace(year=start.year + 1), end.replace(year=end.year + 1)
    if start <= now or end <= start:
        return None
    return start, end


def _kind(ctx: Context, title: str) -> str:
    kinds = settings(ctx.config).kinds
    return next((k for k in kinds if k in title), kinds[0])


def _draft(ctx: Context, data: dict[str, Any]) -> dict[str, Any]:
    """The answers so far as an event-like mapping the templates can show."""
    return {
        "id": "编号",
        "title": data.get("title", ""),
        "kind": _kind(ctx, data.get("title", "")),
        "starts_at": data.get("start"),
        "ends_at": data.get("end"),
        "place": data.get("place"),
        "capacity": data.get("capacity", 0),
        "target": data.get("target", "all"),
        "description": "",
        "status": DRAFT,
        "deadline_at": data.get("start"),
    }


def publish(ctx: Context) -> list[Outgoing]:
    return _ask(ctx, "title", {})


def _ask(ctx: Context, step: str, data: dict[str, Any], problem: bool = False) -> list[Outgoing]:
    ctx.ask("event_publish", step=step, **data)
    extra: dict[str, Any] = {}
    if step == "confirm":
        draft = _as_event(_draft(ctx, data))
        extra["preview"] = ctx.services.templates.render("events_announce", event=draft, left=None)
        extra["groups"] = len(target_groups(ctx.services, draft))
    return [ctx.say("events_publish_ask", step=step, problem=problem, data=data, **extra)]


def _as_event(draft: dict[str, Any]) -> Activity:
    return Activity(**{**dict.fromkeys(Activity.__dataclass_fields__), **draft})


def answer_publish(ctx: Context) -> list[Outgoing]:
    data = {k: v for k, v in ctx.prompt.items() if k != "step"}
    step = str(ctx.prompt["step"])
    text = ctx.args.strip(SEPARATORS)
    if normalize(text) in _STOP:
        return [ctx.say("events_publish_done", event=None, groups=0)]
    nxt = STEPS[STEPS.index(step) + 1] if step != "confirm" else None
    if step == "title":
        if not text or len(text) > 60:
            return _ask(ctx, step, data, problem=True)
        data["title"] = text
    elif step == "time":
        parsed = parse_time(text, ctx.now)
        if parsed is None:
            return _ask(ctx, step, data, problem=True)
        data["start"], data["end"] = to_db(parsed[0]), to_db(parsed[1])
    elif step == "place":
        if not text:
            return _ask(ctx, step, data, problem=True)
        data["place"] = text
    elif step == "capacity":
        norm = unicodedata.normalize("NFKC", text).removesuffix("人").strip()
        if norm in ("不限", "无限"):
            norm = "0"
        if not norm.isdigit() or int(norm) > 100_000:
            return _ask(ctx, step, data, problem=True)
        data["capacity"] = int(norm)
    elif step == "target":
        try:
            data["target"] = parse_target(text).text
        except TargetError:
            return _ask(ctx, step, data, problem=True)
    else:
        if normalize(text) not in _CONFIRM:
            return [ctx.say("events_publish_done", event=None, groups=0)]
        return _create(ctx, data)
    assert nxt is not None
    return _ask(ctx, nxt, data)


def _create(ctx: Context, data: dict[str, Any]) -> list[Outgoing]:
    app = ctx.services
    start, end = from_db(data["start"]), from_db(data["end"])
    event = app.service(EventService).create(
        {
            "title": data["title"],
            "kind": _kind(ctx, data["title"]),
            "starts_at": start,
            "ends_at": end,
            "place": data["place"],
            "capacity": data["capacity"],
            "target": data["target"],
        },
        ctx.now,
    )
    event, queued = announce(app, event, ctx.now)
    return [ctx.say("events_publish_done", event=event, groups=len(queued))]


# -- 活动名单 ---------------------------------------------------------------------------


def roster(ctx: Context) -> list[Outgoing]:
    found = find_event(ctx, ctx.args)
    if isinstance(found, list):
        return found
    regs = ctx.service(EventService).store.registrations(found.id)
    rows = [{"reg": r, "status": export_status(r, found, ctx.now)} for r in regs]
    return [ctx.say("events_roster", event=found, rows=rows, mention=False)]
