"""Adding, changing and removing the broadcasts that are not the config's.

Shared by `chamberbot broadcast add|remove` and the web console's 定时推送 page. The
caller refreshes the scheduler's job store afterwards (`bot.scheduler.store_jobs`).
"""

from __future__ import annotations

from bot.db import to_db
from bot.services import Services
from handlers.policies.broadcast_defs import BroadcastDef, broadcast_problem, get_broadcast

__all__ = ["CONFIG_OWNED", "remove_broadcast", "save_broadcast"]

CONFIG_OWNED = ("id", "config_owned")


def save_broadcast(app: Services, wanted: BroadcastDef) -> tuple[str, str] | None:
    """Store a broadcast (origin `cli`); (field, reason) and nothing changed if it cannot run.

    A broadcast of the config's own is refused with CONFIG_OWNED: the config is its truth.
    """
    old = get_broadcast(app, wanted.id)
    if old is not None and old.origin == "config":
        return CONFIG_OWNED
    problem = broadcast_problem(app, wanted)
    if not 1 <= wanted.max_items <= 50:
        problem = ("max_items", "expected 1 to 50")
    if problem is not None:
        return problem
    with app.db.atomic():
        app.db.table("broadcasts").upsert(
            {
                "id": wanted.id,
                "cron": wanted.cron,
                "target": wanted.target,
                "template": wanted.template,
                "max_items": wanted.max_items,
                "enabled": 1,
                "origin": "cli",
                "created_at": to_db(app.clock.now()),
            },
            pk="id",
        )
    return None


def remove_broadcast(app: Services, broadcast: BroadcastDef) -> bool:
    """Remove a CLI-added broadcast (its run history stays); False for a config one."""
    if broadcast.origin == "config":
        return False
    with app.db.atomic():
        app.db.execute("delete from broadcasts where id = ?", [broadcast.id])
    return True
