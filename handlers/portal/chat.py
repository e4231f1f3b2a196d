"""我的主页: a fresh personal link to the member page, sent in a private chat only (a link
that opens someone's cases must not be read by a whole group)."""

from __future__ import annotations

from bot.messages import Outgoing
from bot.router import Context
from handlers.portal.service import PortalService
from web.settings import web_settings

__all__ = ["my_page"]


def base_url(ctx: Context) -> str:
    """Where members reach the page: `portal.base_url`, else the console's own address."""
    given = ctx.service(PortalService).settings.base_url
    return given or f"http://{web_settings(ctx.services).listen}"


def my_page(ctx: Context) -> list[Outgoing]:
    if ctx.msg.is_group:
        return [ctx.say("portal_private_only", keyword=ctx.keyword("my_page"))]
    if not web_settings(ctx.services).enabled:  # the page is served by the console's server
        return [ctx.say("portal_off")]
    portal = ctx.service(PortalService)
    msg = ctx.msg
    path = portal.issue(msg.sender_id, msg.channel, msg.conversation_id, ctx.now)
    return [
        ctx.say(
            "portal_link",
            url=base_url(ctx) + path,
            days=portal.settings.link_days,
            keyword=ctx.keyword("my_page"),
        )
    ]
