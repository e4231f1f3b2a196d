"""Staff side of cases, the reading half: 待办 and 详情."""

from __future__ import annotations

from bot.cases import OPEN, Case
from bot.db import to_db
from bot.messages import Outgoing
from bot.router import Context

__all__ = ["details", "todo"]

_TODO_LIMIT = 30
# 待办 filters: what the user types (normalised) → filter code.
_FILTERS = {
    "": "all",
    "全部": "all",
    "超期": "overdue",
    "逾期": "overdue",
    "未分配": "unassigned",
    "未指派": "unassigned",
    "我的": "mine",
}
_OPEN = [str(s) for s in sorted(OPEN)]


def _late(case: Case, now: str) -> str | None:
    """ "due": past its resolution deadline; "response": still unanswered past the
    first-response limit (件件有回应); None: on time."""
    if case.due_at <= now:
        return "due"
    if not case.first_response_at and case.response_due_at <= now:
        return "response"
    return None


def _todo_filter(ctx: Context, kind: str) -> tuple[str, list[object]]:
    where = f"status in ({', '.join('?' for _ in _OPEN)})"
    params: list[object] = list(_OPEN)
    now = to_db(ctx.now)
    if kind == "overdue":
        where += (
            " and (due_at <= ? or (ifnull(first_response_at, '') = '' and response_due_at <= ?))"
        )
        params += [now, now]
    elif kind == "unassigned":
        where += " and (assignee_id is null or assignee_id = '')"
    elif kind == "mine":
        where += " and assignee_id = ?"
        params.append(ctx.msg.sender_id)
    return where, params


def todo(ctx: Context) -> list[Outgoing]:
    kind = _FILTERS.get(ctx.norm_args)
    if kind is None:
        raise ctx.refuse_usage(understood=ctx.args.strip()[:20])
    where, params = _todo_filter(ctx, kind)
    cases = ctx.cases.where(where, params, order_by="due_at, id", limit=_TODO_LIMIT)
    total = ctx.cases.count(where, params) if len(cases) == _TODO_LIMIT else len(cases)
    now = to_db(ctx.now)
    rows = [{"case": c, "overdue": _late(c, now)} for c in cases]
    return [
        ctx.say("staff_todo", kind=kind, rows=rows, total=total, more=max(0, total - len(rows)))
    ]


def details(ctx: Context) -> list[Outgoing]:
    case = ctx.case
    assert case is not None
    origin = ctx.places.topic(case.conversation_id) or case.conversation_id
    return [
        ctx.say(
            "staff_details",
            case=case,
            origin=origin if case.conversation_is_group else "",
            phone=ctx.people.contact(case.reporter_id)["phone"],
            overdue=case.overdue(ctx.now),
            events=ctx.cases.timeline(case),
        )
    ]
