"""诉求 / 补充: a member reports a problem, the bot opens a case; the reporter adds to it.

Flow of 诉求 (each arrow is one message from the member):

    诉求 <描述> ──────────────────────────────┐
    诉求 → report_description → <描述> ──────┤
                                             ├─ enterprise known? ── yes → case opened
                                             └─ no → report_enterprise → <企业名> → case opened

The acknowledgement goes back where the member typed (@reporter in a group, without the
description unless privacy.echo_description_in_group); the staff rooms get everything.
Also home to the case-number helpers the reporter commands share.
"""

from __future__ import annotations

import unicodedata

from bot.cases import CLOSED, WITHDRAWN, Ambiguous, Case
from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, parse_case_ref, split_case_ref
from bot.router import Context, Handler, Route

__all__ = ["PROMPTS", "ROUTES", "case_from_args", "resolve_case"]

# -- helpers shared with handlers.reporter ---------------------------------------------


def case_from_args(ctx: Context, *, need_text: bool = False) -> tuple[Case, str] | list[Outgoing]:
    """The case numbered at the start of the arguments and the text after it, or the reply
    to send instead (the usage line, "not found", "which year?")."""
    ref, rest = split_case_ref(ctx.args)
    if ref is None or (need_text and not rest):
        return ctx.usage()
    found = resolve_case(ctx, ref)
    return found if isinstance(found, list) else (found, rest)


def resolve_case(ctx: Context, ref: str) -> Case | list[Outgoing]:
    """The case a number means to this sender, or the reply explaining why there is none.

    Staff look among all cases. A member looks only among the cases they reported, so
    "no such case" and "someone else's case" get the same answer and reveal nothing.
    """
    app = ctx.app
    shown = unicodedata.normalize("NFKC", ref).replace(" ", "")
    if ctx.role >= Role.STAFF:
        try:
            case = app.cases.find(ref, ctx.now)
        except Ambiguous as exc:
            return [ctx.say("intake_ambiguous", ref=shown, numbers=exc.numbers)]
        if case is None:
            return [ctx.say("intake_not_found", ref=shown, member=False, mine=_mine_kw(ctx))]
        return case
    parsed = parse_case_ref(ref)
    if parsed is None:
        return [ctx.say("intake_not_found", ref=shown, member=True, mine=_mine_kw(ctx))]
    year, seq = parsed
    own = [
        c
        for c in app.cases.where(
            "reporter_id = ? and seq = ?", [ctx.msg.sender_id, seq], order_by="year desc"
        )
        if year is None or c.year == year
    ]
    if len(own) > 1:
        open_ = [c for c in own if c.is_open]
        this_year = [c for c in own if c.year == ctx.now.year]
        if len(open_) == 1:
            own = open_
        elif not open_ and len(this_year) == 1:
            own = this_year
        else:
            return [ctx.say("intake_ambiguous", ref=shown, numbers=[c.number for c in own])]
    if not own:
        return [ctx.say("intake_not_found", ref=shown, member=True, mine=_mine_kw(ctx))]
    return own[0]


def _mine_kw(ctx: Context) -> str:
    return ctx.app.router.keyword("my_cases")


# -- 诉求 -------------------------------------------------------------------------------


def report(ctx: Context) -> list[Outgoing]:
    description = ctx.args.strip(SEPARATORS)
    if not description:
        return _ask_description(ctx)
    return _with_enterprise(ctx, description)


def answer_description(ctx: Context) -> list[Outgoing]:
    description = ctx.args.strip(SEPARATORS)
    if not description:
        return _ask_description(ctx)
    return _with_enterprise(ctx, description)


def answer_enterprise(ctx: Context) -> list[Outgoing]:
    description = str(ctx.prompt["description"])
    enterprise = ctx.args.strip(SEPARATORS)
    if not enterprise:
        ctx.ask("report_enterprise", description=description)
        return [ctx.say("intake_ask_enterprise", minutes=ctx.app.config.prompt_minutes)]
    ctx.app.remember_contact(ctx.msg.sender_id, enterprise=enterprise)
    return _open(ctx, description, enterprise)


def _ask_description(ctx: Context) -> list[Outgoing]:
    ctx.ask("report_description")
    return [ctx.say("intake_ask_description", minutes=ctx.app.config.prompt_minutes)]


def _with_enterprise(ctx: Context, description: str) -> list[Outgoing]:
    enterprise = ctx.app.contact(ctx.msg.sender_id)["enterprise"]
    if not enterprise:
        ctx.ask("report_enterprise", description=description)
        return [ctx.say("intake_ask_enterprise", minutes=ctx.app.config.prompt_minutes)]
    return _open(ctx, description, str(enterprise))


def _open(ctx: Context, description: str, enterprise: str) -> list[Outgoing]:
    app, msg = ctx.app, ctx.msg
    case = app.cases.open(
        reporter_id=msg.sender_id,
        reporter_name=msg.sender_name or app.contact_name(msg.sender_id),
        enterprise=enterprise,
        conversation_id=msg.conversation_id,
        is_group=msg.is_group,
        description=description,
        now=ctx.now,
    )
    echo = not msg.is_group or app.config.privacy.echo_description_in_group
    ack = ctx.say(
        "intake_opened",
        case=case,
        echo=echo,
        hours=f"{app.config.cases.first_response_hours:g}",
        progress=ctx.app.router.keyword("progress"),
        supplement=ctx.app.router.keyword("supplement"),
    )
    origin = (msg.room_topic or msg.conversation_id) if msg.is_group else None
    return [
        ack,
        *ctx.to_staff(
            "intake_staff_opened", case=case, origin=origin, claim=ctx.app.router.keyword("claim")
        ),
    ]


# -- 补充 -------------------------------------------------------------------------------


def supplement(ctx: Context) -> list[Outgoing]:
    found = case_from_args(ctx, need_text=True)
    if isinstance(found, list):
        return found
    case, text = found
    if case.reporter_id != ctx.msg.sender_id:
        return [
            ctx.say(
                "intake_supplement_staff",
                case=case,
                note=ctx.app.router.keyword("note"),
                answer=ctx.app.router.keyword("answer"),
            )
        ]
    if case.status in (CLOSED, WITHDRAWN):
        return [
            ctx.say("intake_supplement_closed", case=case, report=ctx.app.router.keyword("report"))
        ]
    case = ctx.app.cases.record(
        case, "supplemented", ctx.msg.sender_id, case.reporter_name, ctx.now, text
    )
    return [
        ctx.say("intake_supplemented", case=case),
        *ctx.to_staff("intake_staff_supplemented", case=case, text=text),
    ]


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
    ),
]

PROMPTS: dict[str, Handler] = {
    "report_description": answer_description,
    "report_enterprise": answer_enterprise,
}
