"""诉求 / 补充: a member reports a problem, the bot opens a case; the reporter adds to it.

Flow of 诉求 (each arrow is one message from the member):

    诉求 <描述> ──────────────────────────────┐
    诉求 → report_description → <描述> ──────┤
                                             ├─ enterprise known? ── yes → case opened
                                             └─ no → report_enterprise → <企业名> → case opened

The acknowledgement goes back where the member typed (@reporter in a group, without the
description unless privacy.echo_description_in_group); the staff rooms get everything.
"""

from __future__ import annotations

from datetime import timedelta

from bot.db import from_db
from bot.messages import Outgoing
from bot.normalize import SEPARATORS
from bot.places import conversation_name
from bot.router import Context, Route
from handlers.cases.filters import CaseArg
from handlers.cases.service import Actor, Case, CaseService
from handlers.cases.settings import case_settings

__all__ = ["PROMPTS", "ROUTES"]


def report(ctx: Context) -> list[Outgoing]:
    description = ctx.args.strip(SEPARATORS)
    if not description:
        return _ask_description(ctx)
    return _with_enterprise(ctx, description)


def answer_enterprise(ctx: Context) -> list[Outgoing]:
    description = str(ctx.prompt["description"])
    enterprise = ctx.args.strip(SEPARATORS)
    if not enterprise:
        return _ask_enterprise(ctx, description)
    ctx.people.remember(ctx.msg.sender_id, enterprise=enterprise)
    return _open(ctx, description, enterprise)


def _ask_description(ctx: Context) -> list[Outgoing]:
    ctx.ask("report_description")
    return [ctx.say("intake_ask_description", minutes=ctx.config.prompt_minutes)]


def _ask_enterprise(ctx: Context, description: str) -> list[Outgoing]:
    ctx.ask("report_enterprise", description=description)
    return [ctx.say("intake_ask_enterprise", minutes=ctx.config.prompt_minutes)]


def _with_enterprise(ctx: Context, description: str) -> list[Outgoing]:
    known = (
        ctx.people.contact(c)["enterprise"] for c in ctx.people.same_person(ctx.msg.sender_id)
    )
    enterprise = next((e for e in known if e), None)  # the person's, on any linked channel
    if not enterprise:
        return _ask_enterprise(ctx, description)
    return _open(ctx, description, str(enterprise))


def _open(ctx: Context, description: str, enterprise: str) -> list[Outgoing]:
    msg = ctx.msg
    reporter = Actor(msg.sender_id, msg.sender_name or ctx.people.name(msg.sender_id))
    outcome = ctx.service(CaseService).open(
        reporter,
        enterprise=enterprise,
        channel=msg.channel,
        conversation_id=msg.conversation_id,
        is_group=msg.is_group,
        description=description,
        now=ctx.now,
        origin=conversation_name(msg.conversation_id, msg.room_topic) if msg.is_group else None,
    )
    echo = not msg.is_group or ctx.config.privacy.echo_description_in_group
    limit = timedelta(hours=case_settings(ctx.config).first_response_hours)
    case = outcome.case
    moved = from_db(case.response_due_at) != from_db(case.created_at) + limit
    hours = f"{case_settings(ctx.config).first_response_hours:g}"
    ack = ctx.say("intake_opened", case=case, echo=echo, hours=hours, moved=moved)
    return [ack, *outcome.notices]


def supplement(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = ctx.service(CaseService).supplement(case, ctx.actor, rest, ctx.now)
    resumed = bool(outcome.previous.paused_at) and not outcome.case.paused_at
    reply = ctx.say("intake_supplemented", case=outcome.case, resumed=resumed)
    return [reply, *outcome.notices]


ROUTES: list[Route] = [
    Route(
        "report",
        ("诉求", "反映问题", "反映", "求助"),
        report,
        "诉求 <问题描述>",
        "反映企业遇到的问题，限时办理并回复",
    ),
    Route(
        "supplement",
        ("补充",),
        supplement,
        "补充 <编号> <内容>",
        "为已提交的诉求补充情况或材料",
        filters=(CaseArg(need_text=True),),
    ),
]

PROMPTS = {"report_description": report, "report_enterprise": answer_enterprise}
