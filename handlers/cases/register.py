"""代录 in chat: a staff member registers a case for an enterprise (see register_intents).

    代录 <企业> <描述> ─────────────────────────────┐
    代录 <企业> → register_description → <描述> ─────┤
    代录 → register_enterprise → <企业> → … ─────────┤
                                                    └─ register_route → <来源> → registered

The route is asked with the configured routes other than chat's two as choices (buttons
where the channel has them); the collection date is today. The console's form and
`chamberbot cases import` take the contact person, the phone and an earlier date.
"""

from __future__ import annotations

from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, split_word
from bot.router import Context, Route
from handlers.cases.model import CHAT_ROUTES
from handlers.cases.service import CaseService, Registration
from handlers.cases.settings import case_settings

__all__ = ["PROMPTS", "ROUTES"]


def register(ctx: Context) -> list[Outgoing]:
    enterprise, description = split_word(ctx.args.strip(SEPARATORS))
    if not enterprise:
        ctx.ask("register_enterprise")
        return [ctx.say("register_ask_enterprise", minutes=ctx.config.prompt_minutes)]
    return _with_description(ctx, enterprise, description.strip(SEPARATORS))


def answer_enterprise(ctx: Context) -> list[Outgoing]:
    return register(ctx)


def answer_description(ctx: Context) -> list[Outgoing]:
    return _with_description(ctx, str(ctx.prompt["enterprise"]), ctx.args.strip(SEPARATORS))


def _with_description(ctx: Context, enterprise: str, description: str) -> list[Outgoing]:
    if not description:
        ctx.ask("register_description", enterprise=enterprise)
        return [ctx.say("register_ask_description", enterprise=enterprise)]
    ctx.ask("register_route", enterprise=enterprise, description=description)
    return [ctx.say("register_ask_route", routes=_routes(ctx), given=None)]


def answer_route(ctx: Context) -> list[Outgoing]:
    given = ctx.args.strip(SEPARATORS)
    routes = _routes(ctx)
    route = routes[int(given) - 1] if given.isdigit() and 0 < int(given) <= len(routes) else given
    if route not in routes:
        ctx.ask("register_route", **ctx.prompt)
        return [ctx.say("register_ask_route", routes=routes, given=given)]
    reg = Registration(
        enterprise=str(ctx.prompt["enterprise"]),
        description=str(ctx.prompt["description"]),
        route=route,
        collected_on=ctx.now.astimezone(ctx.config.tz).date(),
    )
    outcome = ctx.service(CaseService).register(ctx.actor, reg, ctx.now)
    return [ctx.say("register_done", case=outcome.case), *outcome.notices]


def _routes(ctx: Context) -> list[str]:
    """The routes staff choose from: the configured ones but chat's own."""
    return [r for r in case_settings(ctx.config).routes if r not in CHAT_ROUTES]


ROUTES: list[Route] = [
    Route(
        "register",
        ("代录",),
        register,
        "代录 <企业名称> <问题描述>",
        "为企业登记从接待日、走访、12345等渠道收集的诉求",
        role=Role.STAFF,
        staff_place_only=True,
    )
]

PROMPTS = {
    "register_enterprise": answer_enterprise,
    "register_description": answer_description,
    "register_route": answer_route,
}
