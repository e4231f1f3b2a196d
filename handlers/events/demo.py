"""The demo's sample events (bot/demo/events.yaml), created once, relative to the demo clock."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import yaml

from bot.db import to_db
from bot.services import Services
from handlers.events.service import EventService
from handlers.events.settings import settings
from handlers.events.store import ANNOUNCED

__all__ = ["console_seed", "seed_events"]


def seed_events(app: Services, entries: list[dict[str, Any]]) -> int:
    """Create the seed's events as announced ones if the database has none yet."""
    svc = app.service(EventService)
    if svc.store.where():
        return 0
    now = app.clock.now()
    for entry in entries:
        hh, mm = (int(x) for x in str(entry["at"]).split(":"))
        day = now.date() + timedelta(days=int(entry["in_days"]))
        start = datetime.combine(day, time(hh, mm), now.tzinfo)
        svc.create(
            {
                "title": entry["title"],
                "kind": entry.get("kind", settings(app.config).kinds[0]),
                "starts_at": start,
                "ends_at": start + timedelta(hours=float(entry.get("hours", 2))),
                "place": entry.get("place"),
                "capacity": int(entry.get("capacity", 0)),
                "description": entry.get("description", ""),
                "status": ANNOUNCED,
                "announced_at": to_db(now),
            },
            now,
        )
    return len(entries)


def console_seed(services: Services, _args: str) -> str:
    """The console demo's start: the events of events.yaml beside the demo config."""
    path = services.base_dir / "events.yaml"
    if path.exists():
        seed_events(services, yaml.safe_load(path.read_text(encoding="utf-8"))["events"])
    return ""
