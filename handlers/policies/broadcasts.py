"""The digest engine: which groups a broadcast reaches, what each one gets, exactly once.

A run is one firing of a broadcast for one scheduled time: a `broadcast_runs` row, unique
per (broadcast, scheduled_for), so a second firing for the same time finds the run it
already has and does nothing more. For each target member group, in ONE transaction:

    the policies not yet sent to that group (`policy_sent`) that share a tag with it
    (a group without tags gets all), newest first, at most `max_items`
      → rendered by the broadcast's template, split at item boundaries so that no message
        is longer than `digest.max_chars`
      → the outbox rows (dedupe key broadcast:<run>:<group>), the `deliveries` row and the
        `policy_sent` rows, committed together.

A target `<channel>:<robot>` (bot/targeting.py) reaches one group robot of the config
instead of member groups — a WeCom 群机器人 posting into an internal group: its digest
gets the policies matching the robot's own `tags`, is rendered with the markdown variant of
the template (`digest_markdown` for `digest`, when there is one) and split so that no part
is longer than `digest.max_bytes` UTF-8 bytes (the webhook's markdown limit), each part
numbered (1/3 …) and whole on its own.

A run cut off between two groups (the process died) is resumed when the bot starts again:
groups with a delivery row are skipped, and `policy_sent` keeps every later run from
repeating a policy. Nothing new for a group → no message and no delivery row. Digests are
queued as scheduled messages: the outbox holds one queued at 23:00 until the quiet hours
end, and the sender paces them (gap per group, global rate with jitter).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.db import from_db, to_db, to_json
from bot.messages import Outgoing
from bot.normalize import normalize
from bot.places import Group
from bot.services import Services
from bot.targeting import parse_target
from handlers.policies.broadcast_defs import BroadcastDef, get_broadcast, robot_named
from handlers.policies.mass_send import CHANNEL as CUSTOMER_GROUPS
from handlers.policies.mass_send import TASK_TEXT_BYTES, deliver_groups
from handlers.policies.settings import settings
from policy_feeds.library import PolicyLibrary
from policy_feeds.model import Policy

__all__ = [
    "Digest",
    "RunReport",
    "deliver",
    "plan_digest",
    "resume_runs",
    "run_broadcast",
    "start_run",
    "target_groups",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Digest:
    """What one group would get: the policies and the messages they render to."""

    group: Group
    items: tuple[Policy, ...]
    texts: tuple[str, ...]


@dataclass
class RunReport:
    run_id: int
    already_finished: bool = False
    messages: dict[str, int] = field(default_factory=dict)  # group id → messages queued
    failed: list[str] = field(default_factory=list)  # group ids whose delivery raised


# -- one group's digest (read only: what preview shows) -----------------------------------


def target_groups(app: Services, broadcast: BroadcastDef) -> list[Group]:
    target = parse_target(broadcast.target)
    if target.channel is not None:
        robot = robot_named(app, target)
        if robot is None:
            return []
        tags = app.config.robots(target.channel)[robot].tags
        return [Group(robot, robot, tuple(normalize(t) for t in tags), target.channel)]
    return [g for g in app.places.member_groups() if target.matches(g.tags)]


def _is_robot(app: Services, group: Group) -> bool:
    return group.id in app.config.robots(group.channel)


def _matching(app: Services, group: Group, limit: int) -> list[Policy]:
    """Not yet sent to the group, sharing a tag with it (any, if it has none), newest first."""
    store = app.service(PolicyLibrary).store
    return store.candidates(tags=group.tags, limit=limit, not_sent_to=group.id)


def _render(
    app: Services,
    template: str,
    group: Group,
    items: list[Policy],
    start: int,
    part: int,
    parts: int,
) -> str:
    return app.templates.render(
        template,
        group=group.name,
        items=items,
        start=start,
        part=part,
        parts=parts,
        last=part == parts,
        today=app.clock.now(),
        search=app.router.keyword("policy_search"),
    )


def _chars(text: str) -> int:
    return len(text)


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, limit: int, size: Callable[[str], int]) -> str:
    """`text` cut to `limit` (as `size` measures) with an ellipsis: the last resort."""
    if size(text) <= limit:
        return text
    text = text[:limit]  # no measure counts fewer than one per character
    while text and size(text + "…") > limit:
        text = text[:-1]
    return text + "…"


def split_digest(app: Services, template: str, group: Group, items: list[Policy]) -> list[str]:
    """The digest as messages of at most `digest.max_chars` (a group robot's: at most
    `digest.max_bytes` UTF-8 bytes, in markdown), cut only between items.

    Items are packed greedily, each part measured as if it were the last of as many parts
    as there are items (the longest header and the footer), so the final texts can only
    be shorter. One item longer than a message on its own is the only thing ever cut.
    """
    digest = settings(app.config).digest
    limit, size = digest.max_chars, _chars
    if _is_robot(app, group):
        limit, size = digest.max_bytes, _utf8
        markdown = f"{template}_markdown"
        template = markdown if markdown in app.templates.names() else template
    elif group.channel == CUSTOMER_GROUPS:  # one mass-send task's text; nobody reads replies
        limit, size = TASK_TEXT_BYTES, _utf8
        variant = f"{template}_customer"
        template = variant if variant in app.templates.names() else template
    chunks: list[list[Policy]] = []
    current: list[Policy] = []
    done = 0
    for item in items:
        trial = [*current, item]
        text = _render(app, template, group, trial, done, len(chunks) + 1, len(items))
        if size(text) <= limit or not current:
            current = trial
            continue
        chunks.append(current)
        done += len(current)
        current = [item]
    if current:
        chunks.append(current)
    texts: list[str] = []
    start = 0
    for i, chunk in enumerate(chunks, 1):
        text = _render(app, template, group, chunk, start, i, len(chunks))
        texts.append(_cut(text, limit, size))
        start += len(chunk)
    return texts


def plan_digest(app: Services, broadcast: BroadcastDef, group: Group) -> Digest:
    if group.channel == CUSTOMER_GROUPS:  # what its task will carry: one text
        planned = one_text(app, broadcast, group)
        return (
            Digest(group, tuple(planned[0]), (planned[1],)) if planned else Digest(group, (), ())
        )
    items = _matching(app, group, broadcast.max_items)
    texts = split_digest(app, broadcast.template, group, items) if items else []
    return Digest(group, tuple(items), tuple(texts))


def one_text(
    app: Services, broadcast: BroadcastDef, group: Group
) -> tuple[list[Policy], str] | None:
    """A customer group's digest as ONE text (a mass-send task carries one): the newest
    policies that fit; the rest wait for the next digest. None: nothing new."""
    items = _matching(app, group, broadcast.max_items)
    while items:
        texts = split_digest(app, broadcast.template, group, items)
        if len(texts) == 1:
            return items, texts[0]
        items = items[:-1]  # one item always renders as one text (cut if it must be)
    return None


# -- a run ----------------------------------------------------------------------------------


def start_run(app: Services, broadcast_id: str, scheduled_for: datetime) -> tuple[int, bool]:
    """The run for this broadcast and time, created if new: (run id, already finished)."""
    when = to_db(scheduled_for)
    with app.db.atomic():
        app.db.execute(
            "insert or ignore into broadcast_runs (broadcast_id, scheduled_for, started_at)"
            " values (?, ?, ?)",
            [broadcast_id, when, to_db(app.clock.now())],
        )
        row = app.db.execute(
            "select id, finished_at from broadcast_runs"
            " where broadcast_id = ? and scheduled_for = ?",
            [broadcast_id, when],
        ).fetchone()
    return int(row[0]), bool(row[1])


def deliver(app: Services, broadcast: BroadcastDef, run_id: int, group: Group) -> int:
    """Queue one group's digest for a run, once; returns how many messages were queued."""
    with app.db.atomic():
        if app.db.table("deliveries").count_where(
            "run_id = ? and conversation_id = ?", [run_id, group.id]
        ):
            return 0
        digest = plan_digest(app, broadcast, group)
        if not digest.items:
            return 0
        now = to_db(app.clock.now())
        app.outbox.enqueue(
            [Outgoing(group.id, text, channel=group.channel) for text in digest.texts],
            dedupe_key=f"broadcast:{run_id}:{group.id}",
            scheduled=True,
        )
        app.db.execute(
            "insert into deliveries (run_id, conversation_id, policy_ids, messages, created_at)"
            " values (?, ?, ?, ?, ?)",
            [run_id, group.id, to_json([p.id for p in digest.items]), len(digest.texts), now],
        )
        for policy in digest.items:
            app.db.execute(
                "insert or ignore into policy_sent (conversation_id, policy_id, run_id, sent_at)"
                " values (?, ?, ?, ?)",
                [group.id, policy.id, run_id, now],
            )
    return len(digest.texts)


def run_broadcast(app: Services, broadcast_id: str, scheduled_for: datetime) -> RunReport | None:
    """Run (or finish) a broadcast for one scheduled time; None if there is no such one."""
    broadcast = get_broadcast(app, broadcast_id)
    if broadcast is None or not broadcast.enabled:
        log.warning("broadcast %s is not configured or disabled; not run", broadcast_id)
        return None
    run_id, finished = start_run(app, broadcast.id, scheduled_for)
    report = RunReport(run_id, already_finished=finished)
    if finished:
        return report
    groups = target_groups(app, broadcast)
    mass = [g for g in groups if g.channel == CUSTOMER_GROUPS]
    try:
        report.messages.update(
            deliver_groups(app, run_id, mass, lambda g: one_text(app, broadcast, g))
        )
    except Exception:
        log.exception("broadcast %s run %s: customer groups failed", broadcast.id, run_id)
        report.failed += [g.id for g in mass]
    for group in (g for g in groups if g.channel != CUSTOMER_GROUPS):
        try:
            count = deliver(app, broadcast, run_id, group)
        except Exception:
            log.exception("broadcast %s run %s: group %s failed", broadcast.id, run_id, group.id)
            report.failed.append(group.id)
            continue
        if count:
            report.messages[group.id] = count
    if not report.failed:
        with app.db.atomic():
            app.db.execute(
                "update broadcast_runs set finished_at = ? where id = ?",
                [to_db(app.clock.now()), run_id],
            )
    log.info(
        "broadcast %s run %s: %d groups, %d messages",
        broadcast.id,
        run_id,
        len(report.messages),
        sum(report.messages.values()),
    )
    return report


def resume_runs(app: Services, window: timedelta) -> int:
    """Finish the runs a previous process left half done, if still within the window."""
    since = to_db(app.clock.now() - window)
    rows = app.db.execute(
        "select broadcast_id, scheduled_for from broadcast_runs"
        " where finished_at is null and scheduled_for >= ? order by scheduled_for",
        [since],
    ).fetchall()
    for broadcast_id, scheduled_for in rows:
        log.info("resuming broadcast %s for %s", broadcast_id, scheduled_for)
        run_broadcast(app, str(broadcast_id), from_db(str(scheduled_for)))
    return len(rows)
