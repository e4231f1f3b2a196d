"""What every policy source produces and what the store hands back.

A source (RSS/Atom feed, JSON endpoint, local folder, `chamberbot policy add`) turns its
input into `Item`s; the store turns items into stored `Policy` rows. A source never writes
to the database: `fetch(state)` returns a `FetchResult`, and `policy_feeds.ingest` does the
writes and the staff-room notices in one transaction per source.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Protocol

__all__ = [
    "FeedState",
    "FetchResult",
    "Item",
    "Policy",
    "Source",
    "Status",
    "clean_text",
    "parse_date",
    "split_tags",
]

SUMMARY_CHARS = 1000


@dataclass(frozen=True)
class Item:
    """One policy as a source read it, before dedupe and tagging."""

    title: str
    url: str = ""
    issuer: str = ""  # 发文机关
    published_at: datetime | None = None
    summary: str = ""
    tags: tuple[str, ...] = ()
    entry_id: str | None = None  # the feed's own id (RSS guid, Atom id, JSON id, file path)


@dataclass(frozen=True)
class Policy:
    """One stored policy."""

    id: int
    title: str
    url: str
    issuer: str
    published_at: datetime | None
    summary: str
    tags: tuple[str, ...]
    source: str  # a feed id, "folder" or "manual"


class Status(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not modified"  # 304, or a local file unchanged since the last fetch
    GONE = "gone"  # 410: the feed is disabled and the staff room told
    WARNING = "warning"  # an answer that is no feed (HTML page, empty body): nothing stored
    ERROR = "error"  # timeout, connection refused, 4xx/5xx, unreadable file
    DISABLED = "disabled"  # not fetched: disabled earlier


@dataclass(frozen=True)
class FeedState:
    """What the `feeds` table remembers about a source between fetches."""

    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    status: Status
    items: tuple[Item, ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    moved_to: str | None = None  # new permanent URL after a 301/308
    message: str = ""
    problems: tuple[str, ...] = field(default_factory=tuple)  # entries skipped, with why


class Source(Protocol):
    """A place policies come from. `fetch` does I/O only and is safe to run in a thread."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def url(self) -> str:
        """Where the configuration says the source is (feed URL or folder)."""
        ...

    def fetch(self, state: FeedState) -> FetchResult: ...


# Inline elements vanish (`民营企业<b>贷款</b>` stays one word); other tags become a space.
_TAG = re.compile(r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)?[^>]*>", re.DOTALL)
_INLINE = frozenset({"a", "b", "i", "u", "em", "strong", "span", "font", "sub", "sup", "small"})
_SPACE = re.compile(r"\s+")
_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def _tag_gap(match: re.Match[str]) -> str:
    return "" if (match.group(2) or "").lower() in _INLINE else " "


def clean_text(text: object, limit: int = SUMMARY_CHARS) -> str:
    """Plain one-line text from text or HTML: tags dropped, entities decoded, spaces folded."""
    if text is None:
        return ""
    value = html.unescape(_TAG.sub(_tag_gap, str(text)))
    value = _SPACE.sub(" ", value.replace("\u3000", " ")).strip()
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    return value


def split_tags(value: object) -> tuple[str, ...]:
    """Tags from a list or a `a,b，c` / `a、b` string."""
    if value is None:
        return ()
    parts: list[str] = []
    if isinstance(value, list | tuple | set):
        for part in value:
            parts.extend(split_tags(part))
        return tuple(parts)
    return tuple(p for p in _TAG_SPLIT.split(str(value).strip()) if p)


_DATE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?)?"
)


def parse_date(value: object, tz: tzinfo) -> datetime | None:
    """An aware datetime from what feeds and files carry; naive values are in `tz`.

    Accepts datetime/date objects, epoch seconds or milliseconds, ISO 8601, RFC 822
    (`Tue, 10 Nov 2026 09:00:00 +0800`), and `2026-11-10` / `2026/11/10` / `2026年11月10日`
    with an optional `HH:MM[:SS]`. Anything else is None.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    if text.isdigit():
        return parse_date(int(text), tz)
    match = _DATE.fullmatch(text)
    if match:
        y, m, d, hh, mm, ss = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(y, m, d, hh, mm, ss, tzinfo=tz)
        except ValueError:
            return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    return when if when.tzinfo else when.replace(tzinfo=tz)
