"""订阅 / 退订 / 退订全部 / 已申报: a member's say in what matching sends them.

订阅 <主题…>    also receive general policies on these topics; undoes 退订 of them and 退订全部
退订 <主题…>    no more matched policies that are only about these topics
退订全部        no more private policy messages or deadline reminders at all
已申报 <编号或标题> the enterprise applied: no 申报截止 reminder for that policy

Topics are the policies' topic tags (the `policies.tag_rules` of kind topic; without
any, the tags stored policies carry). Anything unknown is answered politely and changes
nothing.
"""

from __future__ import annotations

import re

from bot.messages import Outgoing
from bot.router import Context, Route
from bot.targeting import split_tags
from handlers.policies.matching_service import PolicyMatching
from handlers.policies.matching_store import MatchingStore, Topics
from policy_feeds.identity import squash
from policy_feeds.library import PolicyLibrary
from policy_feeds.store import search_words
from policy_feeds.tagging import clean_tags

__all__ = ["ROUTES", "known_topics"]

_NUMBER = re.compile(r"^(?:[#＃]|[Pp]|编号)?\s*(\d{1,9})$")


def known_topics(ctx: Context) -> list[str]:
    library = ctx.service(PolicyLibrary)
    topics = clean_tags(r.tag for r in library.settings.tag_rules if r.kind == "topic")
    if topics:
        return list(topics)
    rows = ctx.db.execute("select distinct value from policies, json_each(policies.tags)")
    return sorted(str(r[0]) for r in rows.fetchall())


def _topics_in(ctx: Context) -> tuple[list[str], list[str]]:
    """(the known topics named, the unknown words)."""
    known = known_topics(ctx)
    named = list(clean_tags(split_tags(ctx.args)))
    return [t for t in named if t in known], [t for t in named if t not in known]


def _change(ctx: Context, subscribe: bool) -> list[Outgoing]:
    store = MatchingStore(ctx.db)
    current = store.topics(ctx.msg.sender_id)
    wanted, unknown = _topics_in(ctx)
    kind = "subscribe" if subscribe else "unsubscribe"
    if unknown or not wanted:
        return [
            ctx.say(
                "policy_topics",
                kind="unknown" if unknown else "show",
                action=kind,
                unknown=unknown,
                known=known_topics(ctx),
                topics=current,
                usage=ctx.usage_line(),
            )
        ]
    sub, unsub = list(current.subscribed), list(current.unsubscribed)
    for topic in wanted:
        add, drop = (sub, unsub) if subscribe else (unsub, sub)
        if topic not in add:
            add.append(topic)
        if topic in drop:
            drop.remove(topic)
    opted_out = current.opted_out and not subscribe
    changed = Topics(opted_out, tuple(sub), tuple(unsub))
    store.set_topics(ctx.msg.sender_id, changed, ctx.now)
    return [ctx.say("policy_topics", kind=kind, action=kind, named=wanted, topics=changed)]


def subscribe(ctx: Context) -> list[Outgoing]:
    return _change(ctx, True)


def unsubscribe(ctx: Context) -> list[Outgoing]:
    return _change(ctx, False)


def unsubscribe_all(ctx: Context) -> list[Outgoing]:
    store = MatchingStore(ctx.db)
    current = store.topics(ctx.msg.sender_id)
    store.set_topics(ctx.msg.sender_id, Topics(True, (), current.unsubscribed), ctx.now)
    return [ctx.say("policy_topics", kind="all_off", action="unsubscribe", topics=current)]


def _in_title(words: list[str], title: str) -> bool:
    text = squash(title)
    return bool(words) and all(w in text for w in words)


def applied(ctx: Context) -> list[Outgoing]:
    ref = ctx.args.strip()
    if not ref:
        return ctx.usage()
    matching = PolicyMatching(ctx.services)
    profile = matching.profile_of(ctx.msg.sender_id)
    if profile is None:
        return [ctx.say("policy_applied", kind="no_enterprise")]
    library = ctx.service(PolicyLibrary).store
    number = _NUMBER.match(ref)
    if number:
        policy = library.get(int(number.group(1)))
        found = [policy] if policy else []
    else:
        mine = [m.policy for m in matching.matched(profile, open_only=False)]
        words = search_words(ref)
        found = [p for p in mine if _in_title(words, p.title)]
        if not found:
            found = [p for p in library.search(words, 6) if _in_title(words, p.title)]
    if not found:
        return [ctx.say("policy_applied", kind="not_found", ref=ref)]
    if len(found) > 1:
        return [ctx.say("policy_applied", kind="which", ref=ref, items=found[:6])]
    policy = found[0]
    fresh = MatchingStore(ctx.db).mark_applied(profile.id, policy.id, ctx.msg.sender_id, ctx.now)
    kind = "done" if fresh else "again"
    return [ctx.say("policy_applied", kind=kind, policy=policy, enterprise=profile.name)]


ROUTES: list[Route] = [
    Route(
        "policy_subscribe",
        ("订阅",),
        subscribe,
        "订阅 <主题…>",
        "订阅某类政策（如：订阅 融资），也会私信推送这类通用政策",
    ),
    Route(
        "policy_unsubscribe",
        ("退订",),
        unsubscribe,
        "退订 <主题…>",
        "不再私信推送某类政策（如：退订 融资）",
    ),
    Route(
        "policy_unsubscribe_all",
        ("退订全部",),
        unsubscribe_all,
        "退订全部",
        "不再私信推送任何政策和申报截止提醒",
    ),
    Route(
        "policy_applied",
        ("已申报",),
        applied,
        "已申报 <政策编号或标题>",
        "告诉助手贵企业已申报某项政策，不再提醒截止",
    ),
]
