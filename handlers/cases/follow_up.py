"""回访 in chat: the reporter answers the follow-up question, staff record a call's result.

    已解决 [编号]              the reporter: the problem is really solved
    未解决 [编号] [情况]        the reporter: it is not (a closed case is handled again)
    回访 <编号> 已解决|未解决 [说明]   staff, for a case they followed up by phone

Without a number the reporter's one pending follow-up is meant; with several, the bot asks
which (see handlers/cases/follow_up_intents.py for what each answer does).
"""

from __future__ import annotations

from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, normalize, split_case_ref
from bot.refusal import Refusal
from bot.router import Context, Route
from handlers.cases.filters import CaseArg
from handlers.cases.service import Case, CaseService

__all__ = ["ROUTES"]

_ANSWERS = (("未解决", False), ("已解决", True))  # 未解决 first: it contains 解决


def solved(ctx: Context) -> list[Outgoing]:
    return _answer_bare(ctx, True)


def unsolved(ctx: Context) -> list[Outgoing]:
    return _answer_bare(ctx, False)


def _answer_bare(ctx: Context, is_solved: bool) -> list[Outgoing]:
    service = ctx.service(CaseService)
    ref, rest = split_case_ref(ctx.args)
    if ref is not None:  # a number: the sender's own case (done already: they are told)
        try:
            mine = service.find(ref, ctx.now, ctx.msg.sender_id, staff=False)
        except Refusal:
            mine = None
        if mine is not None:
            return _answer(ctx, mine, is_solved, rest)
    pending = service.pending_follow_ups(ctx.msg.sender_id)
    if len(pending) == 1:
        return _answer(ctx, pending[0], is_solved, ctx.args.strip(SEPARATORS))
    if pending:
        word = "已解决" if is_solved else "未解决"
        return [ctx.say("follow_up_which", cases=pending, word=word)]
    if not ctx.addressed:
        return []  # 已解决 said in a group about something else
    raise Refusal("follow_up_none")


def record(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    """回访 <编号> 已解决|未解决 [说明] (staff)."""
    text = normalize(rest)
    for word, is_solved in _ANSWERS:
        if text.startswith(word):
            note = rest.strip(SEPARATORS)[len(word) :].strip(SEPARATORS)
            outcome = ctx.service(CaseService).answer_follow_up(
                case, ctx.actor, is_solved, note, ctx.now
            )
            reply = ctx.say("follow_up_recorded", case=outcome.case, solved=is_solved)
            return [reply, *outcome.notices]
    raise ctx.refuse_usage(understood=rest[:20])


def _answer(ctx: Context, case: Case, is_solved: bool, text: str) -> list[Outgoing]:
    outcome = ctx.service(CaseService).answer_follow_up(case, ctx.actor, is_solved, text, ctx.now)
    return outcome.notices


ROUTES: list[Route] = [
    Route("follow_up_solved", ("已解决",), solved, "已解决 [编号]", "回访时确认问题已解决"),
    Route(
        "follow_up_unsolved",
        ("未解决",),
        unsolved,
        "未解决 [编号] [情况]",
        "回访时告知问题仍未解决，重新办理",
    ),
    Route(
        "follow_up",
        ("回访",),
        record,
        "回访 <编号> 已解决|未解决 [说明]",
        "记录电话回访的结果",
        role=Role.STAFF,
        staff_place_only=True,
        filters=(CaseArg(need_text=True),),
    ),
]
