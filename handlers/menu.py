"""帮助 / 菜单: the commands the asker's role may use."""

from __future__ import annotations

from bot.feature import Feature
from bot.messages import Outgoing
from bot.router import Context, Route

__all__ = ["FEATURE"]


def show_menu(ctx: Context) -> list[Outgoing]:
    routes = ctx.services.router.help_lines(ctx.role)
    return [ctx.say("menu", routes=routes, role=ctx.role.name.lower())]


FEATURE = Feature(
    name="menu",
    routes=[Route("menu", ("帮助", "菜单", "help"), show_menu, "帮助", "查看指令菜单")],
)
