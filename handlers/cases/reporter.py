"""The reporter's side of a case: 进度, 我的诉求, 满意 / 基本满意 / 不满意 / 评价, 撤回.

Only the reporter (and staff, for 进度) ever sees a case; anyone else gets the same
answer as for a number that does not exist. In a member group descriptions are not
echoed, and internal notes are never shown here.

Rating, after staff 办结 (status resolved):

    满意 | 基本满意 ──→ closed (rating satisfied | basic, close_reason rated)
    不满意 <原因> ───→ in_progress again (reopen_count + 1, fresh deadlines)
"""

from __future__ import annotations

from bot.messages import Outgoing
from bot.normalize import SEPARATORS, normalize, split_case_ref
from bot.refusal import Refusal
from bot.router import Context, Route
from handlers.cases.filters import CaseArg
from handlers.cases.service import OPEN, Case, CaseService, EventKind, Outcome, Status
from handlers.cases.store import OPEN_SQL

__all__ = ["ROUTES"]

LIST_LIMIT = 10
SHORT_CHARS = 20
# Longest first: 基本满意 and 不满意 both contain 满意.
RATINGS = (("基本满意", "basic"), ("不满意", "unsatisfied"), ("满意", "satisfied"))
_ACTIVE = [str(s) for s in (*sorted(OPEN), Status.RESOLVED)]


# -- 进度 -------------------------------------------------------------------------------


def progress(ctx: Context, case: Case | None, rest: str) -> list[Outgoing]:
    if case is None:
        return _progress_of_mine(ctx)
    return [_show(ctx, case)]


def _mine(ctx: Context) -> tuple[str, list[str]]:
    """The SQL for the sender's cases: the person's, from any of their linked channels."""
    ids = ctx.people.same_person(ctx.msg.sender_id)
    return f"reporter_id in ({', '.join('?' * len(ids))})", ids


def _progress_of_mine(ctx: Context) -> list[Outgoing]:
    """进度 without a number: the sender's one active case, or the list of them."""
    mine, me = _mine(ctx)
    marks = ", ".join("?" * len(_ACTIVE))
    active = ctx.service(CaseService).where(
        f"{mine} and status in ({marks})", [*me, *_ACTIVE], limit=2
    )
    if len(active) == 1:
        return [_show(ctx, active[0])]
    if ctx.service(CaseService).count(mine, me):
        return my_cases(ctx)
    return ctx.usage()


def _show(ctx: Context, case: Case) -> Outgoing:
    msg = ctx.msg
    staff_place = ctx.in_staff_place
    here = msg.conversation_id == case.conversation_id
    echo = ctx.config.privacy.echo_description_in_group and here
    events = ctx.service(CaseService).timeline(case)
    answers = [e for e in events if e.kind == EventKind.ANSWERED]
    resolutions = [e for e in events if e.kind == EventKind.RESOLVED]
    return ctx.say(
        "reporter_progress",
        case=case,
        overdue=case.overdue(ctx.now),
        detail=staff_place or not msg.is_group or echo,
        staff_view=staff_place,
        answer=answers[-1] if answers and (staff_place or here or not msg.is_group) else None,
        summary=resolutions[-1].text if resolutions and case.status != Status.IN_PROGRESS else "",
    )


# -- 我的诉求 ---------------------------------------------------------------------------


def my_cases(ctx: Context) -> list[Outgoing]:
    mine, me = _mine(ctx)
    ranked = ctx.service(CaseService).where(
        mine,
        me,
        order_by=f"case when {OPEN_SQL} then 0"
        " when status = 'resolved' then 1 else 2 end, id desc",
        limit=LIST_LIMIT,
    )
    shown = [
        {"number": c.number, "status": c.status, "category": c.category, "short": _short(c)}
        for c in ranked
    ]
    total = ctx.service(CaseService).count(mine, me)
    return [ctx.say("reporter_my_cases", cases=shown, total=total, describe=not ctx.msg.is_group)]


def _short(case: Case) -> str:
    """The description on one line, trimmed, never cut inside a number (a phone stays whole
    so the outbox can still mask it)."""
    text = " ".join(case.description.split())
    if len(text) <= SHORT_CHARS:
        return text
    cut = text[:SHORT_CHARS]
    if text[SHORT_CHARS].isdigit():
        cut = cut.rstrip("0123456789 -")
    return cut + "…"


# -- 满意 / 基本满意 / 不满意 / 评价 ------------------------------------------------------


def rate_satisfied(ctx: Context) -> list[Outgoing]:
    return _rate_bare(ctx, "satisfied")


def rate_basic(ctx: Context) -> list[Outgoing]:
    return _rate_bare(ctx, "basic")


def rate_unsatisfied(ctx: Context) -> list[Outgoing]:
    return _rate_bare(ctx, "unsatisfied")


def rate(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    """评价 <编号> 满意|基本满意|不满意 [原因]"""
    rating = _parse_rating(rest)
    if rating is None:
        raise ctx.refuse_usage()
    return _rate_case(ctx, case, *rating)


def _parse_rating(text: str) -> tuple[str, str] | None:
    """`不满意 还没解决` → ("unsatisfied", "还没解决")."""
    norm = normalize(text)
    for word, code in RATINGS:
        if norm.startswith(word):
            return code, text[len(word) :].strip(SEPARATORS)
    return None


def _rate_bare(ctx: Context, code: str) -> list[Outgoing]:
    """满意 / 不满意 <原因> without 评价: the sender's one case awaiting a rating.

    A leading number that is one of the sender's own cases picks that case.
    """
    me = ctx.msg.sender_id
    ref, rest = split_case_ref(ctx.args)
    if ref is not None:
        try:
            found = ctx.service(CaseService).find(ref, ctx.now, me, staff=False)
        except Refusal:
            found = None
        if found is not None:
            return _rate_case(ctx, found, code, rest)
    resolved = str(Status.RESOLVED)
    mine, ids = _mine(ctx)
    waiting = ctx.service(CaseService).where(
        f"{mine} and status = ?", [*ids, resolved], order_by="id desc"
    )
    if len(waiting) == 1:
        return _rate_case(ctx, waiting[0], code, ctx.args.strip())
    if waiting:
        cases = [{"number": c.number, "category": c.category, "short": _short(c)} for c in waiting]
        return [ctx.say("reporter_rate_which", cases=cases, describe=not ctx.msg.is_group)]
    if not ctx.addressed:
        return []  # 满意 said in a group about something else
    return [ctx.say("reporter_nothing_to_rate")]


def _rate_case(ctx: Context, case: Case, code: str, reason: str) -> list[Outgoing]:
    return _here_too(ctx, ctx.service(CaseService).rate(case, ctx.actor, code, reason, ctx.now))


def _here_too(ctx: Context, outcome: Outcome) -> list[Outgoing]:
    """The status update goes where the case came from; and here too, if that is elsewhere."""
    origin = outcome.case.conversation_id
    if ctx.msg.conversation_id == origin:
        return outcome.notices
    copies = [ctx.here(o) for o in outcome.notices if o.conversation_id == origin]
    return [*copies, *outcome.notices]


# -- 撤回 -------------------------------------------------------------------------------


def withdraw(ctx: Context, case: Case, rest: str) -> list[Outgoing]:
    outcome = ctx.service(CaseService).withdraw(case, ctx.actor, rest, ctx.now)
    return [ctx.say("reporter_withdrawn", case=outcome.case), *outcome.notices]


ROUTES: list[Route] = [
    Route(
        "progress",
        ("进度", "查询"),
        progress,
        "进度 <编号>",
        "查询诉求办理进度",
        filters=(CaseArg(optional=True),),
    ),
    Route("my_cases", ("我的诉求",), my_cases, "我的诉求", "查看我反映过的诉求"),
    Route("rate_satisfied", ("满意",), rate_satisfied, "满意", "对办结结果满意，诉求销号"),
    Route("rate_basic", ("基本满意",), rate_basic, "基本满意", "对办结结果基本满意，诉求销号"),
    Route(
        "rate_unsatisfied",
        ("不满意",),
        rate_unsatisfied,
        "不满意 <原因>",
        "对办结结果不满意，重新办理",
    ),
    Route(
        "rate",
        ("评价",),
        rate,
        "评价 <编号> 满意|基本满意|不满意 [原因]",
        "有多件待评价的诉求时，指定编号评价",
        filters=(CaseArg(need_text=True),),
    ),
    Route(
        "withdraw",
        ("撤回",),
        withdraw,
        "撤回 <编号>",
        "撤回自己提交的诉求",
        filters=(CaseArg(),),
    ),
]
