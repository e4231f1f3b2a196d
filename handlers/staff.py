"""Staff side of cases (诉求): 待办, 详情, 认领, 指派, 转办, 回复, 办结, 升级, 备注.

Used from a staff room or a staff member's private chat. Every change goes through
`CaseStore.record`; status updates reach the reporter in the conversation the case came
from, internal notes never do. Any action that takes the case in hand counts as the
first response (件件有回应).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.cases import ACCEPTED, IN_PROGRESS, NEW, RESOLVED, Case
from bot.db import to_db
from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, normalize, split_word
from bot.router import Context, Handler, Route
from handlers.staff_views import case_and_text, details, refuse_state, stops, todo

__all__ = ["PROMPTS", "ROUTES"]


def _usage(ctx: Context) -> str:
    return ctx.app.router.usage(ctx.route) if ctx.route else ""


def _record(
    ctx: Context,
    case: Case,
    kind: str,
    text: str = "",
    data: dict[str, Any] | None = None,
    *,
    responds: bool = True,
    **changes: Any,
) -> Case:
    """Write the change as the sender; a response also stamps first_response_at once."""
    if responds and not case.first_response_at:
        changes["first_response_at"] = to_db(ctx.now)
    sender = ctx.msg.sender_id
    return ctx.app.cases.record(
        case, kind, sender, ctx.app.staff_name(sender), ctx.now, text, data, **changes
    )


def _to_other_staff_rooms(ctx: Context, template: str, **context: Any) -> list[Outgoing]:
    """A notice for the staff rooms, except the one the command was typed in."""
    return [
        o
        for o in ctx.to_staff(template, **context)
        if o.conversation_id != ctx.msg.conversation_id
    ]


def _hand_to(ctx: Context, case: Case, kind: str, assignee_id: str, note: str = "") -> Case:
    """Make assignee_id responsible (their department too); a new case becomes accepted."""
    app = ctx.app
    name = app.staff_name(assignee_id)
    member = app.staff.get(assignee_id)
    department = member.department if member and member.department else case.department
    return _record(
        ctx,
        case,
        kind,
        note,
        {"assignee_id": assignee_id, "assignee_name": name, "department": department},
        assignee_id=assignee_id,
        assignee_name=name,
        department=department,
        status=ACCEPTED if case.status == NEW else case.status,
    )


# -- taking a case in hand ----------------------------------------------------------------


@stops
def claim(ctx: Context) -> list[Outgoing]:
    case, _ = case_and_text(ctx)
    if case.assignee_id == ctx.msg.sender_id:
        return [ctx.say("staff_claimed", case=case, again=True, previous=None, told=False)]
    updated = _hand_to(ctx, case, "claimed", ctx.msg.sender_id)
    first = case.status == NEW
    outs = [
        ctx.say(
            "staff_claimed", case=updated, again=False, previous=case.assignee_name, told=first
        )
    ]
    if first:
        outs.append(ctx.app.to_reporter(updated, "case_accepted"))
    return outs


def _staff_id(ctx: Context, who: str) -> str | None:
    """A configured staff member by contact id or by name (after an optional @)."""
    who = who.lstrip("@＠").strip(SEPARATORS)
    if who in ctx.app.staff:
        return who
    wanted = normalize(who)
    for contact_id, member in ctx.app.staff.items():
        if normalize(member.name) == wanted:
            return contact_id
    return None


@stops
def assign(ctx: Context) -> list[Outgoing]:
    case, rest = case_and_text(ctx, need_text=True)
    who, note = split_word(rest.lstrip("@＠"))
    app = ctx.app
    assignee_id = _staff_id(ctx, who)
    if assignee_id is None:
        names = [member.name for member in app.staff.values()]
        return [ctx.say("staff_unknown_staff", who=who, names=names, usage=_usage(ctx))]
    if case.assignee_id == assignee_id:
        return [ctx.say("staff_assigned", case=case, again=True, messaged=False, told=False)]
    updated = _hand_to(ctx, case, "assigned", assignee_id, note)
    first = case.status == NEW
    messaged = assignee_id != ctx.msg.sender_id
    outs = [ctx.say("staff_assigned", case=updated, again=False, messaged=messaged, told=first)]
    if messaged:
        outs.append(
            app.to_contact(
                assignee_id,
                "staff_assigned_you",
                case=updated,
                by=app.staff_name(ctx.msg.sender_id),
                note=note,
                details=app.router.keyword("details"),
                answer=app.router.keyword("answer"),
            )
        )
    if first:
        outs.append(app.to_reporter(updated, "case_accepted"))
    return outs


def _departments(ctx: Context) -> list[str]:
    config = ctx.app.config
    return list(dict.fromkeys([*config.departments, config.cases.default_department]))


def _department(ctx: Context, given: str) -> str | None:
    """One of the configured departments: exact, or the only one containing the text."""
    known = _departments(ctx)
    wanted = normalize(given)
    exact = [d for d in known if normalize(d) == wanted]
    if exact:
        return exact[0]
    partial = [d for d in known if wanted and wanted in normalize(d)]
    return partial[0] if len(partial) == 1 else None


@stops
def transfer(ctx: Context) -> list[Outgoing]:
    case, rest = case_and_text(ctx, need_text=True)
    given, reason = split_word(rest)
    department = _department(ctx, given)
    if department is None:
        return [
            ctx.say(
                "staff_unknown_department",
                given=given,
                departments=_departments(ctx),
                usage=_usage(ctx),
            )
        ]
    updated = _record(
        ctx,
        case,
        "transferred",
        reason,
        {"from": case.department, "to": department, "from_assignee": case.assignee_name},
        department=department,
        assignee_id=None,
        assignee_name=None,
    )
    notice: dict[str, Any] = {
        "case": updated,
        "actor": ctx.app.staff_name(ctx.msg.sender_id),
        "previous": case.department,
        "reason": reason,
    }
    return [
        ctx.say("staff_transferred", **notice),
        *_to_other_staff_rooms(ctx, "staff_transferred", **notice),
    ]


# -- talking to the enterprise ------------------------------------------------------------


@stops
def answer(ctx: Context) -> list[Outgoing]:
    case, text = case_and_text(ctx, need_text=True)
    status = IN_PROGRESS if case.status in (NEW, ACCEPTED) else case.status
    updated = _record(ctx, case, "answered", text, status=status)
    staff_name = ctx.app.staff_name(ctx.msg.sender_id)
    return [
        ctx.say("staff_answered", case=updated),
        ctx.app.to_reporter(updated, "case_answered", staff_name=staff_name, answer=text),
    ]


@stops
def resolve(ctx: Context) -> list[Outgoing]:
    case, summary = case_and_text(ctx, need_text=True)
    if case.status == RESOLVED:
        return refuse_state(ctx, case)
    days = ctx.app.config.cases.auto_close_days
    updated = _record(
        ctx,
        case,
        "resolved",
        summary,
        status=RESOLVED,
        resolved_at=to_db(ctx.now),
        rate_due_at=to_db(ctx.now + timedelta(days=days)),
    )
    return [
        ctx.say("staff_resolved", case=updated, days=days),
        ctx.app.to_reporter(updated, "case_resolved", summary=summary, days=days),
    ]


@stops
def escalate(ctx: Context) -> list[Outgoing]:
    case, reason = case_and_text(ctx)
    if case.status == RESOLVED:
        return refuse_state(ctx, case)
    if case.escalation >= 2:
        return [ctx.say("staff_escalation_top", case=case)]
    level = case.escalation + 1
    updated = _record(
        ctx,
        case,
        "escalated",
        reason,
        {"level": level, "from": case.escalation, "reason": "manual"},
        responds=False,
        escalation=level,
    )
    notice: dict[str, Any] = {
        "case": updated,
        "actor": ctx.app.staff_name(ctx.msg.sender_id),
        "reason": reason,
    }
    return [
        ctx.say("staff_escalated", **notice),
        *_to_other_staff_rooms(ctx, "staff_escalated", **notice),
        ctx.app.to_reporter(updated, "case_escalated"),
    ]


@stops
def note(ctx: Context) -> list[Outgoing]:
    case, text = case_and_text(ctx, need_text=True, closed_ok=True)
    updated = _record(ctx, case, "noted", text, responds=False)
    return [ctx.say("staff_noted", case=updated)]


def _staff(
    command: str, keywords: tuple[str, ...], handler: Handler, usage: str, summary: str
) -> Route:
    return Route(
        command, keywords, handler, usage, summary, role=Role.STAFF, staff_place_only=True
    )


ROUTES: list[Route] = [
    _staff("todo", ("待办",), todo, "待办 [超期/未分配/我的]", "查看未办结的诉求"),
    _staff("details", ("详情",), details, "详情 <编号>", "查看诉求全部信息和办理记录"),
    _staff("claim", ("认领", "接单"), claim, "认领 <编号>", "由我负责办理"),
    _staff("assign", ("指派", "分派"), assign, "指派 <编号> @某人", "指定工作人员办理"),
    _staff("transfer", ("转办", "转交"), transfer, "转办 <编号> <部门>", "转交其他部门办理"),
    _staff("answer", ("回复", "答复"), answer, "回复 <编号> <内容>", "答复企业（转发到原群）"),
    _staff("resolve", ("办结",), resolve, "办结 <编号> <结果说明>", "办结并请企业评价"),
    _staff("escalate", ("升级",), escalate, "升级 <编号> [原因]", "提请部门负责人或领导督办"),
    _staff("note", ("备注",), note, "备注 <编号> <内容>", "内部备注（企业看不到）"),
]
PROMPTS: dict[str, Handler] = {}
