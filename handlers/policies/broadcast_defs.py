"""Which broadcasts exist: the config's, synced into `broadcasts` at start, and the CLI's.

The config is the truth for its own broadcasts (a row with origin `config` mirrors it and
is replaced or removed at every start); broadcasts added with `chamberbot broadcast add`
have origin `cli` and stay until removed there. A broadcast that cannot run (bad cron,
target expression or template) is left out, with an error in the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.db import to_db
from bot.normalize import normalize
from bot.scheduler import cron_trigger
from bot.services import Services
from bot.targeting import Target, TargetError, parse_target
from handlers.policies.settings import Broadcast, settings

__all__ = [
    "BroadcastDef",
    "broadcast_problem",
    "get_broadcast",
    "list_broadcasts",
    "robot_named",
    "sync_broadcasts",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BroadcastDef:
    id: str
    cron: str
    target: str
    template: str
    max_items: int
    enabled: bool = True
    origin: str = "config"  # config | cli


def robot_named(app: Services, target: Target) -> str | None:
    """The configured robot a `<channel>:<robot>` target names (normalised names are equal)."""
    if target.channel is None or target.name is None:
        return None
    wanted = normalize(target.name)
    robots = app.config.robots(target.channel)
    return next((name for name in robots if normalize(name) == wanted), None)


def broadcast_problem(
    app: Services, broadcast: Broadcast | BroadcastDef
) -> tuple[str, str] | None:
    """(field, reason) if a broadcast cannot run: bad cron, target or template."""
    try:
        cron_trigger(broadcast.cron, app.config.tz)
    except ValueError as exc:
        return "cron", str(exc)
    try:
        target = parse_target(broadcast.target)
    except TargetError as exc:
        return "target", str(exc)
    if target.channel is not None and robot_named(app, target) is None:
        robots = sorted(app.config.robots(target.channel))
        known = f"configured: {', '.join(robots)}" if robots else "none configured"
        return "target", (
            f"no robot {target.name!r} in channels.{target.channel}.robots ({known})"
        )
    if broadcast.template not in app.templates.names():
        return "template", f"no template {broadcast.template}.j2"
    return None


def sync_broadcasts(app: Services) -> None:
    """Make the `broadcasts` table say what the config says; CLI-added ones stay.

    A broadcast the config no longer lists is removed (its run history stays). A config
    broadcast that cannot run is skipped, loudly.
    """
    now = to_db(app.clock.now())
    keep: list[str] = []
    with app.db.atomic():
        for i, b in enumerate(settings(app.config).broadcasts):
            problem = broadcast_problem(app, b)
            if problem is not None:
                log.error("broadcasts[%d].%s: %s (%s not scheduled)", i, *problem, b.id)
                continue
            keep.append(b.id)
            app.db.execute(
                "insert into broadcasts (id, cron, target, template, max_items, enabled,"
                " origin, created_at) values (?, ?, ?, ?, ?, 1, 'config', ?)"
                " on conflict(id) do update set cron = excluded.cron, target = excluded.target,"
                " template = excluded.template, max_items = excluded.max_items, enabled = 1,"
                " origin = 'config'",
                [b.id, b.cron, b.target, b.template, b.max_items, now],
            )
        marks = ", ".join("?" for _ in keep) or "''"
        app.db.execute(
            f"delete from broadcasts where origin = 'config' and id not in ({marks})", keep
        )


def _broadcast(row: dict[str, object]) -> BroadcastDef:
    return BroadcastDef(
        id=str(row["id"]),
        cron=str(row["cron"]),
        target=str(row["target"] or "all"),
        template=str(row["template"] or "digest"),
        max_items=int(str(row["max_items"] or 8)),
        enabled=bool(row["enabled"]),
        origin=str(row["origin"] or "cli"),
    )


def _configured(app: Services) -> dict[str, BroadcastDef]:
    found: dict[str, BroadcastDef] = {}
    for b in settings(app.config).broadcasts:
        if broadcast_problem(app, b) is None:
            found[b.id] = BroadcastDef(b.id, b.cron, b.target, b.template, b.max_items)
    return found


def list_broadcasts(app: Services, *, enabled_only: bool = False) -> list[BroadcastDef]:
    """The config's broadcasts (those that can run) and the ones added with the CLI."""
    found = _configured(app)
    for row in app.db.table("broadcasts").rows_where("coalesce(origin, 'cli') != 'config'"):
        found.setdefault(str(row["id"]), _broadcast(row))
    return [b for _, b in sorted(found.items()) if b.enabled or not enabled_only]


def get_broadcast(app: Services, broadcast_id: str) -> BroadcastDef | None:
    key = broadcast_id.strip().lower()
    return next((b for b in list_broadcasts(app) if b.id.lower() == key), None)
