"""完善资料 in a private chat: the enterprise fills its profile one item at a time.

    完善资料 → (企业名称, if not known) → 统一社会信用代码 → 行业 → 规模 → 所在地区 → 资质 → done
    完善资料 <项目> <内容>: one item at once (完善资料 规模 小型)

Each answer is stored as it comes (a dialog broken off keeps what was said); `跳过` keeps an
item as it is, `取消` ends the dialog. Choices are answered by number or by name. A group
is told to do it privately: a profile is nobody else's business.
"""

from __future__ import annotations

import re

from bot.messages import Outgoing
from bot.normalize import SEPARATORS, split_word
from bot.router import Context, Route
from handlers.enterprises.service import (
    LABELS,
    PROFILE_FIELDS,
    EnterpriseService,
    Profile,
    ProfileError,
)

__all__ = ["PROMPTS", "ROUTES"]

_BY_LABEL = {label: field for field, label in LABELS.items()} | {
    "名称": "name",
    "信用代码": "credit_code",
    "地区": "region",
}
_SKIP = ("跳过", "不变")
_STOP = ("取消", "退出", "结束")


def fill(ctx: Context) -> list[Outgoing]:
    if ctx.msg.is_group:
        return [ctx.say("profile_private_only")]
    item, value = split_word(ctx.args.strip(SEPARATORS))
    if item:
        field = _BY_LABEL.get(item)
        if field is None:
            return [ctx.say("profile_unknown_item", item=item, labels=list(LABELS.values()))]
        if not value:
            return _ask(ctx, field, single=True)
        return _store(ctx, field, value, single=True)
    sender = ctx.msg.sender_id
    known = _profile(ctx) or ctx.people.contact(sender)["enterprise"]
    return _ask(ctx, "credit_code" if known else "name")


def answer(ctx: Context) -> list[Outgoing]:
    field, single = str(ctx.prompt["field"]), bool(ctx.prompt.get("single"))
    text = ctx.args.strip(SEPARATORS)
    if text in _STOP:
        return [ctx.say("profile_done", profile=_profile(ctx), stopped=True)]
    if text in _SKIP:
        if field == "name" and _profile(ctx) is None:
            return _ask(ctx, field, problem="需要先知道企业名称才能建立资料", single=single)
        return _next(ctx, field, single)
    return _store(ctx, field, text, single)


def _store(ctx: Context, field: str, text: str, single: bool) -> list[Outgoing]:
    svc = ctx.service(EnterpriseService)
    value = _numbered(text, _options(svc, field))
    try:
        if field == "name":
            svc.save({"name": value}, ctx.actor, contact_id=ctx.msg.sender_id, source="chat")
        else:
            svc.set_field(ctx.msg.sender_id, field, value, ctx.actor, "chat")
    except ProfileError as problem:
        return _ask(ctx, problem.field, problem=problem.reason, single=single)
    return _next(ctx, field, single)


def _next(ctx: Context, field: str, single: bool) -> list[Outgoing]:
    later = PROFILE_FIELDS.index(field) + 1
    if single or later == len(PROFILE_FIELDS):
        return [ctx.say("profile_done", profile=_profile(ctx), stopped=False)]
    return _ask(ctx, PROFILE_FIELDS[later])


def _ask(
    ctx: Context, field: str, *, problem: str | None = None, single: bool = False
) -> list[Outgoing]:
    svc = ctx.service(EnterpriseService)
    profile = _profile(ctx)
    ctx.ask("profile_field", field=field, single=single)
    return [
        ctx.say(
            "profile_ask",
            field=field,
            label=LABELS[field],
            step=PROFILE_FIELDS.index(field) + 1,
            steps=len(PROFILE_FIELDS),
            current=profile.value(field) if profile else None,
            options=_options(svc, field),
            problem=problem,
            single=single,
            minutes=ctx.config.prompt_minutes,
        )
    ]


def _options(svc: EnterpriseService, field: str) -> list[str]:
    s = svc.settings
    lists = {
        "industry": s.industries,
        "size": s.sizes,
        "region": s.regions,
        "qualifications": s.qualifications,
    }
    return list(lists.get(field, ()))


def _numbered(text: str, options: list[str]) -> str:
    """「3」 or 「1、4」 as the options of those numbers; anything else as it is."""
    parts = [p for p in re.split(r"[、,，;；/\s]+", text) if p]
    if options and parts and all(p.isdigit() and 0 < int(p) <= len(options) for p in parts):
        return "、".join(options[int(p) - 1] for p in parts)
    return text


def _profile(ctx: Context) -> Profile | None:
    return ctx.service(EnterpriseService).of_contact(ctx.msg.sender_id)


ROUTES: list[Route] = [
    Route(
        "profile",
        ("完善资料", "企业资料", "我的资料"),
        fill,
        "完善资料",
        "填写或修改本企业的资料（行业、规模、资质等），用于精准推送政策",
    )
]

PROMPTS = {"profile_field": answer}
