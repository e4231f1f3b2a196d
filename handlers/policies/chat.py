"""政策 / 绑定本群 / 广播 / 预览: policies in chat, group tags, and the secretariat's broadcasts.

政策 <关键词>           newest matching policies with links (anyone, anywhere)
绑定本群 <标签…>        admin, in the member group itself: the tags its digests follow
预览 <广播编号> [群名]  admin, staff room or private: a scheduled digest as that group
                        would get it now, sent nowhere
广播 <内容> → broadcast_confirm ─┬─ 确认 → queued to every member group (held through
                                 │         the quiet hours, paced by the sender)
                                 └─ anything else → cancelled
              no answer within prompt_minutes: the dispatcher says the prompt expired
"""

from __future__ import annotations

from bot.feature import ConsoleHook
from bot.messages import Outgoing, Role
from bot.normalize import normalize, split_word
from bot.outbox import quiet_until
from bot.router import Context, Route
from bot.services import Services
from bot.targeting import split_tags
from handlers.policies.broadcast_defs import broadcast_problem, get_broadcast, list_broadcasts
from handlers.policies.broadcasts import plan_digest, run_broadcast, target_groups
from handlers.policies.matching_job import matching_problem
from handlers.policies.settings import settings
from policy_feeds.library import PolicyLibrary
from policy_feeds.store import search_words

__all__ = ["CHECK", "CONSOLE", "PROMPTS", "ROUTES"]

CONFIRM_WORDS = {"确认", "确定"}
CLEAR_WORDS = {"不限", "清除", "无"}
_PUNCTUATION = " !！。.,，~～"


# -- 政策 -----------------------------------------------------------------------------------


def search(ctx: Context) -> list[Outgoing]:
    words = search_words(ctx.args)
    items = ctx.service(PolicyLibrary).search(words)
    return [
        ctx.say(
            "policy_search",
            words=" ".join(words),
            items=items,
            keyword=ctx.services.router.keyword("policy_search"),
        )
    ]


# -- 绑定本群 ---------------------------------------------------------------------------------


def bind_group(ctx: Context) -> list[Outgoing]:
    app, msg = ctx.services, ctx.msg
    usage = app.router.usage(ctx.route) if ctx.route else ""
    if not msg.is_group:
        return [ctx.say("policy_bind", kind="private", usage=usage)]
    if app.people.is_staff_place(msg.conversation_id):
        return [ctx.say("policy_bind", kind="staff_room", usage=usage)]
    group = msg.room_topic or msg.conversation_id
    tags = split_tags(ctx.args)
    if not tags:
        return [
            ctx.say(
                "policy_bind",
                kind="show",
                group=group,
                tags=ctx.places.tags(msg.conversation_id),
                usage=usage,
            )
        ]
    if set(tags) <= CLEAR_WORDS:
        tags = []
    app.places.set_tags(msg.conversation_id, tags)
    return [ctx.say("policy_bind", kind="done", group=group, tags=tags, usage=usage)]


# -- 广播 -----------------------------------------------------------------------------------


def broadcast(ctx: Context) -> list[Outgoing]:
    text = ctx.args.strip()
    if not text:
        return ctx.usage()
    groups = ctx.services.places.member_groups()
    if not groups:
        return [ctx.say("broadcast_no_groups")]
    ctx.ask("broadcast_confirm", text=text, groups=[g.id for g in groups])
    return [
        ctx.say(
            "broadcast_confirm",
            text=text,
            groups=[g.name for g in groups],
            minutes=ctx.services.config.prompt_minutes,
        )
    ]


def confirm_broadcast(ctx: Context) -> list[Outgoing]:
    """The answer to 广播's question: 确认 sends, anything else cancels."""
    if normalize(ctx.args).strip(_PUNCTUATION) not in CONFIRM_WORDS:
        return [ctx.say("broadcast_cancelled")]
    text = str(ctx.prompt["text"])
    chosen = set(ctx.prompt["groups"])
    groups = [g for g in ctx.services.places.member_groups() if g.id in chosen]
    notices = [ctx.notices.to(g.id, "broadcast_notice", text=text) for g in groups]
    # Queued here rather than returned: nobody in those groups is waiting for it, so like
    # a digest it is held through the quiet hours (a reply would go out at once).
    ctx.services.outbox.enqueue(notices, dedupe_key=f"notice:{ctx.msg.message_id}", scheduled=True)
    later = quiet_until(ctx.services.config.quiet_hours, ctx.now)
    names = [g.name for g in groups]
    return [ctx.say("broadcast_sent", groups=names, later=later)]


# -- 预览 -----------------------------------------------------------------------------------


def preview(ctx: Context) -> list[Outgoing]:
    app = ctx.services
    ref, rest = split_word(ctx.args)
    usage = app.router.usage(ctx.route) if ctx.route else ""
    broadcast = get_broadcast(app, ref) if ref else None
    if broadcast is None:
        known = [b.id for b in list_broadcasts(app)]
        return [ctx.say("broadcast_preview_which", ref=ref, known=known, usage=usage)]
    targets = target_groups(app, broadcast)
    if rest:
        group = app.places.find_group(rest)
        if group is None:
            names = [g.name for g in app.places.member_groups()]
            return [
                ctx.say(
                    "broadcast_preview_which",
                    ref=ref,
                    group=rest,
                    groups=names,
                    known=[],
                    usage=usage,
                )
            ]
    elif targets:
        group = targets[0]
    else:
        return [
            ctx.say("broadcast_preview_which", ref=ref, group="", groups=[], known=[], usage=usage)
        ]
    digest = plan_digest(app, broadcast, group)
    header = ctx.say(
        "broadcast_preview",
        broadcast=broadcast,
        group=group.name,
        targeted=group in targets,
        count=len(digest.items),
        parts=len(digest.texts),
    )
    msg = ctx.msg
    parts = [
        Outgoing(msg.conversation_id, t, (), msg.channel, reply_to=msg.message_id)
        for t in digest.texts
    ]
    return [header, *parts]


_ROUTES: list[Route] = [
    Route(
        "policy_search",
        ("政策", "查政策"),
        search,
        "政策 <关键词>",
        "查找最新政策（附原文链接）",
    ),
    Route(
        "bind_group",
        ("绑定本群",),
        bind_group,
        "绑定本群 <标签…>",
        "设置本群标签，政策推送按标签挑选",
        role=Role.ADMIN,
    ),
    Route(
        "broadcast",
        ("广播",),
        broadcast,
        "广播 <内容>",
        "向全部会员群发送通知（发送前需确认）",
        role=Role.ADMIN,
        staff_place_only=True,
    ),
    Route(
        "broadcast_preview",
        ("预览", "预览广播"),
        preview,
        "预览 <广播编号> [群名]",
        "预览定时政策推送在某群的内容（不发送）",
        role=Role.ADMIN,
        staff_place_only=True,
    ),
]


def _console_broadcast(services: Services, args: str) -> str:
    broadcast_id = args.strip()
    ran = run_broadcast(services, broadcast_id, services.clock.now())
    if ran is None:
        return services.templates.render("console_no_broadcast", id=broadcast_id)
    return services.templates.render(
        "console_broadcast", id=broadcast_id, groups=len(ran.messages)
    )


def _check(services: Services) -> tuple[str, str] | None:
    for i, broadcast in enumerate(settings(services.config).broadcasts):
        problem = broadcast_problem(services, broadcast)
        if problem:
            return f"broadcasts[{i}].{problem[0]}", problem[1]
    return matching_problem(services)


ROUTES = _ROUTES
PROMPTS = {"broadcast_confirm": confirm_broadcast}
CONSOLE = [ConsoleHook("broadcast", "/broadcast <编号>", _console_broadcast)]
CHECK = _check
