"""The policies feature's one service: the policy library.

`PolicyLibrary` holds the one store of policies (`PolicyStore`) with the `policies`
settings it is filled and searched by: the configured sources, the tagging rules and the
search limit. Built once by the services (handlers/policies declares it); chat, CLI, web
pages and the fetch job find it with `services.service(PolicyLibrary)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from pathlib import Path

from sqlite_utils import Database

from policy_feeds.folder import FolderSource
from policy_feeds.jsonapi import JsonSource
from policy_feeds.model import Policy, Source
from policy_feeds.rss import RssSource
from policy_feeds.settings import PolicySettings
from policy_feeds.store import PolicyStore
from policy_feeds.tagging import Tagger

__all__ = ["PolicyLibrary", "build_sources"]


def build_sources(
    policies: PolicySettings, tz: tzinfo, base_dir: Path | None = None
) -> list[Source]:
    """The configured folder (if any) and feeds, relative paths against `base_dir`."""
    sources: list[Source] = []
    if policies.folder:
        sources.append(FolderSource(policies.folder, tz, base_dir))
    for feed in policies.feeds:
        sources.append(
            JsonSource(feed, tz, base_dir)
            if feed.kind == "json"
            else RssSource(feed, tz, base_dir)
        )
    return sources


class PolicyLibrary:
    def __init__(
        self, db: Database, settings: PolicySettings, tz: tzinfo, base_dir: Path | None = None
    ) -> None:
        self.store = PolicyStore(db)
        self.settings = settings
        self.tagger = Tagger(settings.tag_rules)
        self.tz = tz
        self.base_dir = base_dir  # the config file's folder: relative paths start here

    def sources(self, base_dir: Path | None = None) -> list[Source]:
        """The configured folder and feeds (relative paths against `base_dir` if given)."""
        return build_sources(self.settings, self.tz, base_dir or self.base_dir)

    def search(self, words: Sequence[str], limit: int | None = None) -> list[Policy]:
        """The policies matching every word, newest first — the newest of all without a
        word; at most `limit` (default `policies.search_limit`)."""
        limit = limit or self.settings.search_limit
        return self.store.search(words, limit) if words else self.store.recent(limit)
