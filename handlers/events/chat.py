"""活动 / 报名 / 取消报名 / 签到: what members type, and the answers.

报名 (each arrow is one message from the member):

    报名 <编号或名称> ── refused? (cancelled, past, deadline) → the reason
                    └── already? → "已报名" with the standing, nothing written
                    └── name unknown? → event_detail(name) → <姓名>
                    └── enterprise unknown? → event_detail(enterprise) → <企业>
                    └── phone required and unknown? in a group → "请私聊我报名";
                        privately → event_detail(phone) → <手机号>
                    └── a seat (报名成功) or the waiting list with its position

Name, enterprise and phone are the `contacts` row shared with 诉求, asked once. A phone
number is never asked for, nor shown, in a group.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, normalize, split_word
from bot.router import Context
from handlers.events.notices import event_view
from handlers.events.service import EventService
from handlers.events.store import ANNOUNCED, DRAFT, Activity

__all__ = ["answer_detail", "check_in", "find_event", "list_events", "register", "withdraw"]

_NUMBER = re.compile(r"^[#＃]?\s*(\d{1,6})$")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def find_event(ctx: Context, ref: str) -> Activity | list[Outgoing]:
    """The event a number or a unique part of a title means, or the reply saying why not.

    Members see announced events (titles match only upcoming ones); staff see every one.
    """
    ref = ref.strip(SEPARATORS)
    if not ref:
        return ctx.usage()
    svc = ctx.service(EventService)
    staff = ctx.role >= Role.STAFF
    shown = unicodedata.normalize("NFKC", ref)
    number = _NUMBER.match(shown)
    if number:
        event = svc.store.find(int(number[1]))
        if event is not None and (staff or event.status != DRAFT):
            return event
        return _not_found(ctx, shown)
    key = normalize(ref)
    pool = svc.store.where() if staff else svc.upcoming(ctx.now)
    hits = [e for e in pool if key in normalize(e.title)]
    if len(hits) == 1:
        return hits[0]
    if hits:
        return [ctx.say("events_ambiguous", ref=shown, events=hits, usage=_usage(ctx))]
    return _not_found(ctx, shown)


def _usage(ctx: Context) -> str:
    router = ctx.services.router
    return router.usage(ctx.route or router.by_command["event_register"])


def _not_found(ctx: Context, ref: str) -> list[Outgoing]:
    return [
        ctx.say(
            "events_not_found",
            ref=ref,
            usage=_usage(ctx),
            listing=ctx.services.router.keyword("event_list"),
        )
    ]


# -- 活动 -------------------------------------------------------------------------------


def list_events(ctx: Context) -> list[Outgoing]:
    svc = ctx.service(EventService)
    rows = [event_view(ctx.services, e) for e in svc.upcoming(ctx.now)]
    return [
        ctx.say("events_list", rows=rows, register=ctx.services.router.keyword("event_register"))
    ]


# -- 报名 -------------------------------------------------------------------------------


def register(ctx: Context) -> list[Outgoing]:
    found = find_event(ctx, ctx.args)
    return found if isinstance(found, list) else _proceed(ctx, found)


def _standing_reply(ctx: Context, event: Activity) -> list[Outgoing] | None:
    svc = ctx.service(EventService)
    standing = svc.standing(event, ctx.msg.sender_id)
    if standing is not None:
        return [ctx.say("events_registered", signup=standing, **_words(ctx))]
    refused = svc.refusal(event, ctx.now)
    if refused or event.status != ANNOUNCED:
        reason = refused or ("draft" if event.status == DRAFT else "past")
        return [ctx.say("events_refused", reason=reason, event=event)]
    return None


def _words(ctx: Context) -> dict[str, Any]:
    kw = ctx.services.router.keyword
    return {"cancel": kw("event_cancel"), "checkin": kw("event_checkin")}


def _proceed(ctx: Context, event: Activity) -> list[Outgoing]:
    early = _standing_reply(ctx, event)
    if early is not None:
        return early
    app, msg = ctx.services, ctx.msg
    contact = app.people.contact(msg.sender_id)
    for field in ("name", "enterprise"):
        if not contact[field]:
            return _ask(ctx, event, field)
    phone = contact["phone"]
    if event.need_phone and not phone:
        if msg.is_group:
            return [ctx.say("events_phone_private", event=event, register=_register_kw(ctx))]
        return _ask(ctx, event, "phone")
    signup = app.service(EventService).register(
        event.id,
        ctx.now,
        contact_id=msg.sender_id,
        name=contact["name"],
        enterprise=contact["enterprise"],
        phone=phone if event.need_phone else None,
        conversation_id=msg.conversation_id,
        is_group=msg.is_group,
    )
    if signup.outcome in ("registered", "waiting", "already"):
        left = app.service(EventService).seats_left(signup.event)
        return [ctx.say("events_registered", signup=signup, left=left, **_words(ctx))]
    return [ctx.say("events_refused", reason=signup.outcome, event=signup.event)]


def _register_kw(ctx: Context) -> str:
    return ctx.services.router.keyword("event_register")


def _ask(ctx: Context, event: Activity, field: str, *, again: bool = False) -> list[Outgoing]:
    ctx.ask("event_detail", event_id=event.id, field=field)
    return [
        ctx.say(
            "events_ask",
            field=field,
            again=again,
            event=event,
            minutes=ctx.config.prompt_minutes,
        )
    ]


def answer_detail(ctx: Context) -> list[Outgoing]:
    """The member's name, enterprise or phone, asked by 报名; then 报名 goes on."""
    svc = ctx.service(EventService)
    event = svc.store.get(int(ctx.prompt["event_id"]))
    field = str(ctx.prompt["field"])
    value = ctx.args.strip(SEPARATORS)
    if field == "phone":
        value = re.sub(r"[\s\-－]", "", unicodedata.normalize("NFKC", value))
        if not _PHONE.match(value):
            return _ask(ctx, event, field, again=True)
    elif not value or len(value) > 60:
        return _ask(ctx, event, field, again=True)
    ctx.people.remember(ctx.msg.sender_id, **{field: value})
    return _proceed(ctx, event)


# -- 取消报名 ---------------------------------------------------------------------------


def withdraw(ctx: Context) -> list[Outgoing]:
    found = find_event(ctx, ctx.args)
    if isinstance(found, list):
        return found
    events = ctx.service(EventService)
    done = events.withdraw(found.id, ctx.msg.sender_id, ctx.now)
    reply = ctx.say(
        "events_withdrawn", outcome=done.outcome, event=done.event, register=_register_kw(ctx)
    )
    return [reply, *events.promotion_notices(done)]


# -- 签到 -------------------------------------------------------------------------------


def check_in(ctx: Context) -> list[Outgoing]:
    ref, code = split_word(ctx.args.strip(SEPARATORS))
    if ref and not _NUMBER.match(unicodedata.normalize("NFKC", ref)):
        ref, code = ctx.args, ""  # a title, not a number: no code can follow
    found = find_event(ctx, ref)
    if isinstance(found, list):
        return found
    contact = ctx.people.contact(ctx.msg.sender_id)
    result = ctx.service(EventService).check_in(
        found.id,
        code.strip(SEPARATORS),
        ctx.now,
        contact_id=ctx.msg.sender_id,
        name=contact["name"] or ctx.msg.sender_name,
        enterprise=contact["enterprise"],
        conversation_id=ctx.msg.conversation_id,
        is_group=ctx.msg.is_group,
    )
    return [ctx.say("events_checkin", result=result, usage=_usage(ctx))]
