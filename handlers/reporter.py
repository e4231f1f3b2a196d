"""The reporter's side of a case: 进度, 我的诉求, 满意 / 基本满意 / 不满意 / 评价, 撤回.

Only the reporter (and staff, for 进度) ever sees a case; anyone else gets the same
answer as for a number that does not exist. In a member group descriptions are not
echoed, and internal notes are never shown here.

Rating, after staff 办结 (status resolved):

    满意 | 基本满意 ──→ closed (rating satisfied | basic, close_reason rated)
    不满意 <原因> ───→ in_progress again (reopen_count + 1, fresh deadlines)
"""

from __future__ import annotations

from typing import Any

from bot.cases import CLOSED, IN_PROGRESS, OPEN, RESOLVED, WITHDRAWN, Case
from bot.db import to_db
from bot.messages import Outgoing
from bot.normalize import SEPARATORS, normalize, split_case_ref
from bot.router import Context, Handler, Route
from handlers.intake import case_from_args, resolve_case

__all__ = ["PROMPTS", "ROUTES"]

LIST_LIMIT = 10
SHORT_CHARS = 20
# Longest first: 基本满意 and 不满意 both contain 满意.
RATINGS = (("基本满意", "basic"), ("不满意", "unsatisfied"), ("满意", "satisfied"))


# -- 进度 -------------------------------------------------------------------------------


def progress(ctx: Context) -> list[Outgoing]:
    if not ctx.args.strip():
        return _progress_of_mine(ctx)
    found = case_from_args(ctx)
    if isinstance(found, list):
        return found
    return [_show(ctx, found[0])]


def _progress_of_mine(ctx: Context) -> list[Outgoing]:
    """进度 without a number: the sender's one active case, or the list of them."""
    active = ctx.app.cases.where(
        "reporter_id = ? and status in (?, ?, ?, ?)", [ctx.msg.sender_id, *OPEN, RESOLVED]
    )
    if len(active) == 1:
        return [_show(ctx, active[0])]
    if ctx.app.cases.where("reporter_id = ?", [ctx.msg.sender_id]):
        return my_cases(ctx)
    return ctx.usage()


def _show(ctx: Context, case: Case) -> Outgoing:
    app, msg = ctx.app, ctx.msg
    staff_place = app.is_staff_place(msg.conversation_id)
    here = msg.conversation_id == case.conversation_id
    echo = app.config.privacy.echo_description_in_group and here
    events = app.cases.timeline(case)
    answers = [e for e in events if e.kind == "answered"]
    resolutions = [e for e in events if e.kind == "resolved"]
    return ctx.say(
        "reporter_progress",
        case=case,
        overdue=case.overdue(ctx.now),
        detail=staff_place or not msg.is_group or echo,
        staff_view=staff_place,
        answer=answers[-1] if answers and (staff_place or here or not msg.is_group) else None,
        summary=resolutions[-1].text if resolutions and case.status != IN_PROGRESS else "",
    )


# -- 我的诉求 ---------------------------------------------------------------------------


def my_cases(ctx: Context) -> list[Outgoing]:
    mine = ctx.app.cases.where("reporter_id = ?", [ctx.msg.sender_id], order_by="id desc")
    ranked = sorted(mine, key=lambda c: 0 if c.is_open else 1 if c.status == RESOLVED else 2)
    shown = [
        {"number": c.number, "status": c.status, "category": c.category, "short": _short(c)}
        for c in ranked[:LIST_LIMIT]
    ]
    return [
        ctx.say(
            "reporter_my_cases",
            cases=shown,
            total=len(mine),
            describe=not ctx.msg.is_group,
            progress=ctx.app.router.keyword("progress"),
            report=ctx.app.router.keyword("report"),
        )
    ]


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


def rate(ctx: Context) -> list[Outgoing]:
    """评价 <编号> 满意|基本满意|不满意 [原因]"""
    ref, rest = split_case_ref(ctx.args)
    if ref is None:
        return ctx.usage()
    rating = _parse_rating(rest)
    if rating is None:
        return ctx.usage()
    code, reason = rating
    found = resolve_case(ctx, ref)
    if isinstance(found, list):
        return found
    return _rate_case(ctx, found, code, reason)


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
        found = resolve_case(ctx, ref)
        if isinstance(found, Case) and found.reporter_id == me:
            return _rate_case(ctx, found, code, rest)
    waiting = ctx.app.cases.where(
        "reporter_id = ? and status = ?", [me, RESOLVED], order_by="id desc"
    )
    if len(waiting) == 1:
        return _rate_case(ctx, waiting[0], code, ctx.args.strip())
    if waiting:
        return [
            ctx.say(
                "reporter_rate_which",
                cases=[
                    {"number": c.number, "category": c.category, "short": _short(c)}
                    for c in waiting
                ],
                describe=not ctx.msg.is_group,
                rate=ctx.app.router.keyword("rate"),
            )
        ]
    if not ctx.addressed:
        return []  # 满意 said in a group about something else
    return [ctx.say("reporter_nothing_to_rate", mine=ctx.app.router.keyword("my_cases"))]


def _rate_case(ctx: Context, case: Case, code: str, reason: str) -> list[Outgoing]:
    app, me, now = ctx.app, ctx.msg.sender_id, ctx.now
    if case.reporter_id != me:
        return [
            ctx.say("reporter_only_reporter", case=case, action=ctx.app.router.keyword("rate"))
        ]
    if case.status != RESOLVED:
        return [ctx.say("reporter_not_resolved", case=case)]
    name = case.reporter_name
    case = app.cases.record(
        case,
        "rated",
        me,
        name,
        now,
        reason,
        {"rating": code},
        rating=code,
        rating_reason=reason or None,
    )
    if code == "unsatisfied":
        changes: dict[str, Any] = {
            "status": IN_PROGRESS,
            "reopen_count": case.reopen_count + 1,
            "rate_due_at": None,  # no auto-close while it is being handled again
            **app.cases.new_deadlines(now, case),
        }
        case = app.cases.record(case, "reopened", me, name, now, reason, **changes)
        return [
            *_to_reporter(ctx, case, "case_reopened"),
            *ctx.to_staff("reporter_staff_reopened", case=case, reason=reason),
        ]
    case = app.cases.record(
        case, "closed", me, name, now, status=CLOSED, close_reason="rated", closed_at=to_db(now)
    )
    return [
        *_to_reporter(ctx, case, "case_closed", days=app.config.cases.auto_close_days),
        *ctx.to_staff("reporter_staff_rated", case=case),
    ]


def _to_reporter(ctx: Context, case: Case, template: str, **context: Any) -> list[Outgoing]:
    """The status update goes where the case came from; and here too, if that is elsewhere."""
    update = ctx.app.to_reporter(case, template, **context)
    if ctx.msg.conversation_id == case.conversation_id:
        return [update]
    return [ctx.say(template, case=case, **context), update]


# -- 撤回 -------------------------------------------------------------------------------


def withdraw(ctx: Context) -> list[Outgoing]:
    found = case_from_args(ctx)
    if isinstance(found, list):
        return found
    case, reason = found
    if case.reporter_id != ctx.msg.sender_id:
        return [
            ctx.say("reporter_only_reporter", case=case, action=ctx.app.router.keyword("withdraw"))
        ]
    if not case.is_open:
        return [ctx.say("reporter_withdraw_refused", case=case)]
    case = ctx.app.cases.record(
        case,
        "withdrawn",
        ctx.msg.sender_id,
        case.reporter_name,
        ctx.now,
        reason,
        status=WITHDRAWN,
        close_reason="withdrawn",
        closed_at=to_db(ctx.now),
    )
    return [
        ctx.say("reporter_withdrawn", case=case, report=ctx.app.router.keyword("report")),
        *ctx.to_staff("reporter_staff_withdrawn", case=case, reason=reason),
    ]


ROUTES: list[Route] = [
    Route("progress", ("进度", "查询"), progress, "进度 <编号>", "查询诉求办理进度"),
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
    ),
    Route("withdraw", ("撤回",), withdraw, "撤回 <编号>", "撤回自己提交的诉求"),
]

PROMPTS: dict[str, Handler] = {}
