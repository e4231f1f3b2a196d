"""专题 in chat: one route keyword, its sub-commands (staff, staff room or private chat).

    专题 / 专题 列表                  the 专题, open ones first
    专题 <专题号>                     its owner, deadline, cases, enterprises and states
    专题 新建 <名称> <编号…>          a new 专题 with these cases
    专题 加入 <专题号> <编号…>        link more cases
    专题 移出 <专题号> <编号>         take a case out
    专题 回复 <专题号> <内容>         回复 each linked case (its own message, its own number)
    专题 办结 <专题号> <结果>         办结 each linked open case and close the 专题
    专题 期限 <专题号> YYYY-MM-DD     set its deadline
    专题 指派 <专题号> @某人          a new owner (and their department)

Every case number is found as a typed command finds it (a wrong one: the usual refusal,
and nothing changes); every change is an intent of the case service (topic_intents.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.messages import Outgoing, Role
from bot.normalize import SEPARATORS, normalize, parse_case_ref, split_word
from bot.refusal import Refusal
from bot.router import Context, Route
from handlers.cases.actions import staff_id_named
from handlers.cases.service import Case, CaseService, Topic, TopicOutcome, parse_topic_ref
from handlers.cases.settings import case_settings

__all__ = ["ROUTES", "topic_view"]

_LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")


def _cases(ctx: Context, refs: list[str]) -> list[Case]:
    service = ctx.service(CaseService)
    return [service.find(ref, ctx.now, ctx.msg.sender_id, staff=True) for ref in refs]


def _words(text: str) -> list[str]:
    return [w for w in _LIST_SEPARATORS.split(text.strip(SEPARATORS)) if w]


def _topic(ctx: Context, text: str) -> tuple[Topic, str]:
    """The 专题 the text starts with, and the rest."""
    ref, rest = split_word(text.strip(SEPARATORS))
    number = parse_topic_ref(ref)
    if number is None:
        raise Refusal("topic_usage", understood=ref[:20])
    return ctx.service(CaseService).topic(number), rest.strip(SEPARATORS)


def topic_view(service: CaseService, topic: Topic) -> dict[str, Any]:
    """What the details show: the topic, its cases, how many enterprises."""
    cases = service.topic_cases(topic)
    enterprises = {c.enterprise or c.reporter_id for c in cases}
    return {"topic": topic, "cases": cases, "enterprises": len(enterprises)}


def _linked(ctx: Context, outcome: TopicOutcome, *, new: bool) -> list[Outgoing]:
    return [ctx.say("topic_linked", new=new, outcome=outcome)]


def create(ctx: Context, text: str) -> list[Outgoing]:
    words = _words(text)
    refs: list[str] = []
    while words and parse_case_ref(words[-1]) is not None:
        refs.insert(0, words.pop())
    name = " ".join(words)
    if not name:
        raise Refusal("topic_bad_name", given="", limit=0)
    if not refs:
        raise Refusal("topic_no_cases")
    outcome = ctx.service(CaseService).create_topic(ctx.actor, name, _cases(ctx, refs), ctx.now)
    return _linked(ctx, outcome, new=True)


def join(ctx: Context, text: str) -> list[Outgoing]:
    topic, rest = _topic(ctx, text)
    refs = _words(rest)
    if not refs:
        raise Refusal("topic_no_cases")
    outcome = ctx.service(CaseService).join_topic(ctx.actor, topic, _cases(ctx, refs), ctx.now)
    return _linked(ctx, outcome, new=False)


def leave(ctx: Context, text: str) -> list[Outgoing]:
    topic, rest = _topic(ctx, text)
    refs = _words(rest)
    if len(refs) != 1:
        raise Refusal("topic_usage", understood=text.strip()[:20])
    (case,) = _cases(ctx, refs)
    outcome = ctx.service(CaseService).leave_topic(ctx.actor, topic, case, ctx.now)
    return [ctx.say("topic_left", topic=outcome.topic, case=outcome.cases[0])]


def answer(ctx: Context, text: str) -> list[Outgoing]:
    topic, rest = _topic(ctx, text)
    outcome = ctx.service(CaseService).answer_topic(ctx.actor, topic, rest, ctx.now)
    return [ctx.say("topic_answered", outcome=outcome), *outcome.notices]


def resolve(ctx: Context, text: str) -> list[Outgoing]:
    topic, rest = _topic(ctx, text)
    outcome = ctx.service(CaseService).resolve_topic(ctx.actor, topic, rest, ctx.now)
    days = case_settings(ctx.config).auto_close_days
    return [ctx.say("topic_resolved", outcome=outcome, days=days), *outcome.notices]


def deadline(ctx: Context, text: str) -> list[Outgoing]:
    topic, rest = _topic(ctx, text)
    try:
        day = date.fromisoformat(rest.strip())
    except ValueError:
        raise Refusal("topic_bad_date", given=rest.strip()[:20]) from None
    updated = ctx.service(CaseService).set_topic_deadline(ctx.actor, topic, day, ctx.now)
    return [ctx.say("topic_updated", topic=updated, what="deadline")]


def assign(ctx: Context, text: str) -> list[Outgoing]:
    topic, rest = _topic(ctx, text)
    who = rest.lstrip("@＠").strip()
    owner = staff_id_named(ctx.people, who)
    if owner is None:
        names = [member.name for member in ctx.people.staff.values()]
        raise Refusal(
            "staff_unknown_staff", who=who, names=names, usage="专题 指派 <专题号> @某人"
        )
    updated = ctx.service(CaseService).assign_topic(ctx.actor, topic, owner, ctx.now)
    return [ctx.say("topic_updated", topic=updated, what="owner")]


def listing(ctx: Context, text: str) -> list[Outgoing]:
    service = ctx.service(CaseService)
    topics = service.topics.listing()
    return [ctx.say("topic_list", topics=topics, counts=service.topics.counts())]


def details(ctx: Context, text: str) -> list[Outgoing]:
    topic, _ = _topic(ctx, text)
    return [ctx.say("topic_details", **topic_view(ctx.service(CaseService), topic))]


_SUBCOMMANDS: dict[str, Callable[[Context, str], list[Outgoing]]] = {
    "新建": create,
    "加入": join,
    "移出": leave,
    "回复": answer,
    "答复": answer,
    "办结": resolve,
    "期限": deadline,
    "指派": assign,
    "列表": listing,
}


def topic(ctx: Context) -> list[Outgoing]:
    word, rest = split_word(ctx.args.strip(SEPARATORS))
    if not word:
        return listing(ctx, "")
    handler = _SUBCOMMANDS.get(normalize(word))
    if handler is not None:
        return handler(ctx, rest)
    if parse_topic_ref(word) is not None:
        return details(ctx, word)
    raise Refusal("topic_usage", understood=word[:20])


ROUTES: list[Route] = [
    Route(
        "topic",
        ("专题",),
        topic,
        "专题 新建 <名称> <编号…>",
        "把同类诉求建为专题，一次答复、办结，分别送达每家企业",
        role=Role.STAFF,
        staff_place_only=True,
    )
]
