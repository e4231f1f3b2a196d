"""Staff side of cases (诉求): 待办, 详情, 认领, 指派, 转办, 回复, 办结, 升级, 备注, 改类,
待补充.

Used from a staff room or a staff member's private chat. Each command finds its case
through the route's CaseArg and runs one row of the staff action table (actions.py, which
the web console's forms read too); the service says what the reporter and the other staff
rooms get, the handler what the sender reads.
"""

from __future__ import annotations

from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, normalize, split_word
from bot.refusal import Refusal
from bot.router import Context, Handler, Route
from handlers.cases import cli as cases_cli
from handlers.cases.actions import STAFF_ACTIONS, Asked, perform, staff_id_named
from handlers.cases.filters import CaseArg
from handlers.cases.service import Case, CaseService, Outcome
from handlers.cases.settings import case_settings, categories
from handlers.cases.staff_views import details, todo

__all__ = ["CLI", "ROUTES"]

_RECOMPUTE_WORDS = ("重算期限", "重新计算期限")


def _perform(ctx: Context, name: str, case: Case, asked: Asked | None = None) -> Outcome:
    return perform(ctx.service(CaseService), name, case, ctx.actor, asked or Asked(), ctx.now)


def claim(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = _perform(ctx, "claim", case)
    reply = ctx.say(
        "staff_claimed",
        case=outcome.case,
        again=not outcome.changed,
        previous=outcome.previous.assignee_name if outcome.changed else None,
        told=bool(outcome.notices),
    )
    return [reply, *outcome.notices]


def assign(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    who, note = split_word(rest.lstrip("@＠"))
    assignee_id = staff_id_named(ctx.people, who)
    if assignee_id is None:
        names = [member.name for member in ctx.people.staff.values()]
        raise Refusal("staff_unknown_staff", who=who, names=names)
    outcome = _perform(ctx, "assign", case, Asked(assignee_id, note))
    told = any(o.conversation_id == outcome.case.conversation_id for o in outcome.notices)
    reply = ctx.say(
        "staff_assigned",
        case=outcome.case,
        again=not outcome.changed,
        messaged=outcome.changed and assignee_id != ctx.msg.sender_id,
        told=told,
    )
    return [reply, *outcome.notices]


def transfer(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    given, reason = split_word(rest)
    department = ctx.service(CaseService).department_named(given)
    if department is None:
        raise Refusal(
            "staff_unknown_department",
            given=given,
            departments=ctx.service(CaseService).departments(),
        )
    outcome = _perform(ctx, "transfer", case, Asked(department, reason))
    reply = ctx.say(
        "staff_transferred",
        case=outcome.case,
        actor=ctx.actor.name,
        previous=outcome.previous.department,
        reason=reason,
    )
    return [reply, *outcome.notices]


def answer(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = _perform(ctx, "answer", case, Asked(text=rest))
    return [ctx.say("staff_answered", case=outcome.case), *outcome.notices]


def resolve(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = _perform(ctx, "resolve", case, Asked(text=rest))
    days = case_settings(ctx.config).auto_close_days
    return [ctx.say("staff_resolved", case=outcome.case, days=days), *outcome.notices]


def escalate(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = _perform(ctx, "escalate", case, Asked(text=rest))
    reply = ctx.say("staff_escalated", case=outcome.case, actor="", reason=rest)
    return [reply, *outcome.notices]


def note(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = _perform(ctx, "note", case, Asked(text=rest))
    return [ctx.say("staff_noted", case=outcome.case)]


def reclassify(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    """改类 <编号> <分类>[/<方面>] [重算期限]"""
    text = rest.strip()
    new_deadline = text.endswith(_RECOMPUTE_WORDS)
    for word in _RECOMPUTE_WORDS:
        text = text.removesuffix(word).strip(SEPARATORS)
    given, _, aspect = text.partition("/")
    category = _named(given, [c.name for c in categories(ctx.config)])
    choice = f"{category}/{aspect.strip()}"
    outcome = _perform(ctx, "reclassify", case, Asked(choice, new_deadline=new_deadline))
    reply = ctx.say(
        "staff_reclassified",
        case=outcome.case,
        previous=outcome.previous.classified,
        new_deadline=new_deadline,
    )
    return [reply]


def pause(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    """待补充 <编号> <需要的材料>: ask the enterprise, stop the clock until 补充."""
    outcome = _perform(ctx, "pause", case, Asked(text=rest))
    return [ctx.say("staff_paused", case=outcome.case), *outcome.notices]


def _named(given: str, names: list[str]) -> str:
    """A configured name, however it was typed (full-width, a unique part)."""
    wanted = normalize(given)
    exact = [n for n in names if normalize(n) == wanted]
    partial = [n for n in names if wanted and wanted in normalize(n)]
    return (exact or (partial if len(partial) == 1 else [given.strip()]))[0]


def _staff(
    command: str,
    keywords: tuple[str, ...],
    handler: Handler,
    usage: str,
    summary: str,
    case_arg: CaseArg | None = None,
) -> Route:
    return Route(
        command,
        keywords,
        handler,
        usage,
        summary,
        role=Role.STAFF,
        staff_place_only=True,
        filters=(case_arg,) if case_arg else (),
    )


_HANDLERS: dict[str, Handler] = {
    "claim": claim,
    "assign": assign,
    "transfer": transfer,
    "answer": answer,
    "resolve": resolve,
    "escalate": escalate,
    "note": note,
    "reclassify": reclassify,
    "pause": pause,
}

ROUTES: list[Route] = [
    _staff("todo", ("待办",), todo, "待办 [超期/未分配/我的]", "查看未办结的诉求"),
    _staff("details", ("详情",), details, "详情 <编号>", "查看诉求全部信息和办理记录", CaseArg()),
    *(
        _staff(
            a.name, a.keywords, _HANDLERS[a.name], a.usage, a.summary, CaseArg(a.chat_needs_text)
        )
        for a in STAFF_ACTIONS.values()
    ),
]

CLI = cases_cli.register
