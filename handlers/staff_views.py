"""Staff side of cases, the reading half: 待办 and 详情, and the case lookup every staff
command shares (number parsing, "not found", "which year?", "not in this state")."""

from __future__ import annotations

import functools

from bot.cases import CLOSED, OPEN, WITHDRAWN, Ambiguous, Case
from bot.db import to_db
from bot.messages import Outgoing
from bot.normalize import split_case_ref
from bot.router import Context, Handler

__all__ = ["Stop", "case_and_text", "details", "refuse_state", "stops", "todo"]

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


class Stop(Exception):
    """Leave the handler early with these replies (bad number, unknown case, wrong state)."""

    def __init__(self, outs: list[Outgoing]) -> None:
        super().__init__()
        self.outs = outs


def stops(handler: Handler) -> Handler:
    """Turn a `Stop` raised inside the handler into its replies."""

    @functools.wraps(handler)
    def run(ctx: Context) -> list[Outgoing]:
        try:
            return handler(ctx)
        except Stop as stop:
            return stop.outs

    return run


def case_and_text(
    ctx: Context, *, need_text: bool = False, closed_ok: bool = False
) -> tuple[Case, str]:
    """The case named by the first argument and the text after it.

    Stops with the usage line for a missing or malformed number (or missing text when
    `need_text`), with a polite reply for an unknown or ambiguous number, and — unless
    `closed_ok` — with a refusal for a closed or withdrawn case.
    """
    ref, text = split_case_ref(ctx.args)
    if ref is None:
        raise Stop(ctx.usage())
    if need_text and not text:
        raise Stop(ctx.usage())
    try:
        case = ctx.app.cases.find(ref, ctx.now)
    except Ambiguous as exc:
        raise Stop([ctx.say("staff_ambiguous", ref=ref, numbers=exc.numbers)]) from None
    if case is None:
        raise Stop([ctx.say("staff_not_found", ref=ref, todo=ctx.app.router.keyword("todo"))])
    if not closed_ok and case.status in (CLOSED, WITHDRAWN):
        raise Stop(refuse_state(ctx, case))
    return case, text


def refuse_state(ctx: Context, case: Case) -> list[Outgoing]:
    """ "This case is 已销号 / 已撤回 / 已办结待评价, so that cannot be done now"."""
    router = ctx.app.router
    return [
        ctx.say(
            "staff_state",
            case=case,
            details=router.keyword("details"),
            note=router.keyword("note"),
        )
    ]


# -- 待办 ---------------------------------------------------------------------------------


def _todo_cases(ctx: Context, kind: str) -> list[Case]:
    where = f"status in ({', '.join('?' for _ in OPEN)})"
    params: list[object] = list(OPEN)
    if kind == "overdue":
        where += " and due_at <= ?"
        params.append(to_db(ctx.now))
    elif kind == "unassigned":
        where += " and (assignee_id is null or assignee_id = '')"
    elif kind == "mine":
        where += " and assignee_id = ?"
        params.append(ctx.msg.sender_id)
    return ctx.app.cases.where(where, params, order_by="due_at, id")


def todo(ctx: Context) -> list[Outgoing]:
    kind = _FILTERS.get(ctx.norm_args)
    if kind is None:
        return ctx.usage()
    cases = _todo_cases(ctx, kind)
    rows = [{"case": c, "overdue": c.overdue(ctx.now)} for c in cases[:_TODO_LIMIT]]
    return [
        ctx.say(
            "staff_todo",
            kind=kind,
            rows=rows,
            total=len(cases),
            more=max(0, len(cases) - _TODO_LIMIT),
            details=ctx.app.router.keyword("details"),
        )
    ]


# -- 详情 ---------------------------------------------------------------------------------


def _origin(ctx: Context, case: Case) -> str:
    """Where the case came from, as staff know it: the group's name, or a private chat."""
    if not case.conversation_is_group:
        return ""
    rows = list(ctx.app.db.table("conversations").rows_where("id = ?", [case.conversation_id]))
    topic = rows[0]["topic"] if rows else None
    return str(topic or case.conversation_id)


@stops
def details(ctx: Context) -> list[Outgoing]:
    case, _ = case_and_text(ctx, closed_ok=True)
    return [
        ctx.say(
            "staff_details",
            case=case,
            origin=_origin(ctx, case),
            phone=ctx.app.contact(case.reporter_id)["phone"],
            overdue=case.overdue(ctx.now),
            events=ctx.app.cases.timeline(case),
        )
    ]
