"""绑定 / 解绑 in a private chat: one person, several channels.

    绑定            → a 6-digit code for this chat (10 minutes, single use)
    绑定 123456     → this chat and the one that showed the code are one person; the other
                      chat is told (so a link nobody asked for is seen at once)
    解绑            → this chat is on its own again (its cases stay where they came from)

A group is told to do it privately. Input that is not 6 digits changes nothing.
"""

from __future__ import annotations

import unicodedata

from bot.messages import Outgoing
from bot.router import Context, Route
from handlers.identity.service import CODE_TTL, DIGITS, MAX_TRIES, IdentityService, Link

__all__ = ["ROUTES"]


def _here(ctx: Context) -> Link:
    msg = ctx.msg
    return Link(msg.sender_id, msg.channel, msg.conversation_id)


def link(ctx: Context) -> list[Outgoing]:
    if ctx.msg.is_group:
        return [ctx.say("identity_private_only")]
    identity = ctx.service(IdentityService)
    code = unicodedata.normalize("NFKC", ctx.args).replace(" ", "")
    if not code:
        issued, expires = identity.issue(_here(ctx), ctx.now)
        minutes = int(CODE_TTL.total_seconds() // 60)
        return [ctx.say("identity_code", code=issued, expires=expires, minutes=minutes)]
    if len(code) != DIGITS or not code.isdigit():
        return [ctx.say("identity_bad_code", understood=ctx.args.strip()[:20])]
    done = identity.redeem(_here(ctx), code, ctx.now)
    if done.result not in ("linked", "already") or done.owner is None:
        minutes = int(CODE_TTL.total_seconds() // 60)
        return [
            ctx.say(
                "identity_refused",
                result=done.result,
                left=done.tries_left,
                minutes=minutes,
                max_tries=MAX_TRIES,
            )
        ]
    if done.result == "already":
        return [ctx.say("identity_already", channels=_channels(identity, ctx))]
    owner = done.owner
    told = ctx.notices.to(
        owner.conversation_id, "identity_linked_other", channel=owner.channel, here=ctx.msg.channel
    )
    return [ctx.say("identity_linked", channels=_channels(identity, ctx)), told]


def _channels(identity: IdentityService, ctx: Context) -> list[str]:
    return identity.channels(ctx.msg.sender_id)


def unlink(ctx: Context) -> list[Outgoing]:
    if ctx.msg.is_group:
        return [ctx.say("identity_private_only")]
    others = ctx.service(IdentityService).unlink(ctx.msg.sender_id)
    if not others:
        return [ctx.say("identity_unlinked", others=[])]
    told = [
        ctx.notices.to(
            o.conversation_id, "identity_unlinked_other", channel=o.channel, there=ctx.msg.channel
        )
        for o in others
    ]
    return [ctx.say("identity_unlinked", others=[o.channel for o in others]), *told]


ROUTES = [
    Route(
        "link",
        ("绑定",),
        link,
        "绑定 [6位验证码]",
        "把几个渠道（个人微信、微信客服…）绑定为同一人",
    ),
    Route("unlink", ("解绑", "取消绑定"), unlink, "解绑", "解除本渠道与其他渠道的绑定"),
]
