"""Staff side of cases, the reading half: 待办 and 详情."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.db import to_db
from bot.messages import Outgoing
from bot.router import Context
from bot.services import Services
from handlers.cases.service import Case, CaseService
from handlers.cases.store import OPEN_SQL

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


def _late(case: Case, now: str) -> str | None:
    """ "due": past its resolution deadline; "response": still unanswered past the
    first-response limit (件件有回应); None: on time."""
    if case.due_at <= now:
        return "due"
    if not case.first_response_at and case.response_due_at <= now:
        return "response"
    return None


#: The m011 partial index each 待办 filter reads, in due order: named, because the
#: planner prefers a feature's broader (status, id) index and would sort every open case.
_TODO_INDEX = {
    "all": "cases_open_due",
    "overdue": "cases_open_due",
    "unassigned": "cases_open_unassigned",
    "mine": "cases_open_assignee",
}


def _todo_filter(ctx: Context, kind: str) -> tuple[str, list[object]]:
    """The WHERE of a 待办 filter, written as the m011 partial indexes spell it."""
    where, params = OPEN_SQL, list[object]()
    now = to_db(ctx.now)
    if kind == "overdue":
        where += (
            " and (due_at <= ? or (ifnull(first_response_at, '') = '' and response_due_at <= ?))"
        )
        params += [now, now]
    elif kind == "unassigned":
        where += " and ifnull(assignee_id, '') = ''"
    elif kind == "mine":
        where += " and assignee_id = ?"
        params.append(ctx.msg.sender_id)
    return where, params


def _total(ctx: Context, kind: str) -> int:
    """How many cases the filter has in all, each from an index (or the open counter)."""
    if kind == "all":
        return ctx.service(CaseService).open_count()
    if kind == "unassigned":
        return ctx.service(CaseService).open_count("")
    if kind == "mine":
        return ctx.service(CaseService).open_count(ctx.msg.sender_id)
    now = to_db(ctx.now)  # overdue: past the deadline, or on time but still unanswered
    cases = ctx.service(CaseService)
    late = cases.count(f"{OPEN_SQL} and due_at <= ?", [now], index="cases_open_due")
    unanswered = cases.count(
        f"{OPEN_SQL} and ifnull(first_response_at, '') = '' and response_due_at <= ?"
        " and due_at > ?",
        [now, now],
        index="cases_open_unanswered",
    )
    return late + unanswered


def todo(ctx: Context) -> list[Outgoing]:
    kind = _FILTERS.get(ctx.norm_args)
    if kind is None:
        raise ctx.refuse_usage(understood=ctx.args.strip()[:20])
    where, params = _todo_filter(ctx, kind)
    cases = ctx.service(CaseService).where(
        where, params, order_by="due_at, id", limit=_TODO_LIMIT, index=_TODO_INDEX[kind]
    )
    total = _total(ctx, kind) if len(cases) == _TODO_LIMIT else len(cases)
    now = to_db(ctx.now)
    # a paused case's clock stands still (待补充): marked as such, never as overdue
    rows = [{"case": c, "overdue": None if c.paused_at else _late(c, now)} for c in cases]
    calls = ctx.service(CaseService).follow_up_tasks() if kind == "all" else []
    more = max(0, total - len(rows))
    return [ctx.say("staff_todo", kind=kind, rows=rows, total=total, more=more, calls=calls)]


def details(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    return [ctx.say("staff_details", **details_context(ctx.services, case, ctx.now))]


def details_context(services: Services, case: Case, now: datetime) -> dict[str, Any]:
    """What 详情 shows of a case (chat's and `chamberbot cases show`'s), held notices too."""
    cases = services.service(CaseService)
    origin = services.places.name(case.conversation_id)
    return {
        "case": case,
        "origin": origin if case.conversation_is_group else "",
        "phone": services.people.contact(case.reporter_id)["phone"],
        "overdue": case.overdue(now),
        "events": cases.timeline(case),
        "topic": cases.topics.open_topic_of(case),
        "held": len(services.outbox.held_for(case.conversation_id)),
    }
