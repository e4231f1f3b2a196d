"""A policy added by hand (`chamberbot policy add`, the web console's 政策 page)."""

from __future__ import annotations

from bot.services import Services
from policy_feeds.library import PolicyLibrary
from policy_feeds.model import Item, Policy
from policy_feeds.store import Stored

__all__ = ["MANUAL", "add_manual"]

MANUAL = "manual"


def add_manual(app: Services, item: Item) -> tuple[Stored, Policy]:
    """Tag the item with the configured rules and store it once (dedupe as for feeds)."""
    library = app.service(PolicyLibrary)
    tagged = library.tagger.tag(item)
    store = library.store
    with app.db.atomic():
        stored = store.upsert(tagged, MANUAL, app.clock.now())
    policy = store.get(stored.policy_id)
    assert policy is not None
    return stored, policy
