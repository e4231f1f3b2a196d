"""RSS and Atom feeds, parsed by feedparser after our own conditional GET."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, tzinfo
from typing import Any

from policy_feeds.http import HttpFeed, ParseError, Response
from policy_feeds.model import Item, clean_text, parse_date, split_tags

__all__ = ["RssSource"]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# A date without a time ("2026-11-10") is a day in the chamber's time zone, not UTC midnight.
_DAY_ONLY = re.compile(r"\s*\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*")


def _published(entry: Any, tz: tzinfo) -> datetime | None:
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw and _DAY_ONLY.fullmatch(raw):
            return parse_date(raw, tz)
        parsed: time.struct_time | None = entry.get(f"{key}_parsed")
        if parsed:
            return datetime(*parsed[:6], tzinfo=UTC)
        if raw:
            return parse_date(raw, tz)
    return None


def _summary(entry: Any) -> str:
    text = entry.get("summary") or ""
    if not text and entry.get("content"):
        text = entry["content"][0].get("value", "")
    return clean_text(text)


class RssSource(HttpFeed):
    kind = "rss"
    accept = ACCEPT

    def _parse(self, answer: Response) -> tuple[list[Item], list[str]]:
        headers = {"content-type": answer.content_type} if answer.content_type else {}
        import feedparser  # only when a feed is fetched (its import is slow)

        parsed = feedparser.parse(answer.body, response_headers=headers)
        if not parsed.get("version") and not parsed.entries:
            reason = parsed.get("bozo_exception") or "unknown format"
            raise ParseError(f"not an RSS/Atom feed ({reason})")
        items: list[Item] = []
        problems: list[str] = []
        for n, entry in enumerate(parsed.entries, 1):
            title = clean_text(entry.get("title"), 300)
            if not title:
                problems.append(f"entry {n}: no title")
                continue
            link = str(entry.get("link") or "")
            items.append(
                Item(
                    title=title,
                    url=link,
                    issuer=clean_text(entry.get("author"), 100) or self.feed.issuer,
                    published_at=_published(entry, self.tz),
                    summary=_summary(entry),
                    tags=(
                        *split_tags([t.get("term") for t in entry.get("tags", [])]),
                        *self.feed.tags,
                    ),
                    entry_id=str(entry.get("id") or link) or None,
                )
            )
        return items, problems
