"""The one writer of the `policies` table, and the queries the chat commands need.

Dedupe: an item is the policy already stored when it has the same (source, feed entry id),
else the same canonical URL, else the same normalised title (at least MIN_TITLE characters
once punctuation and spaces are gone). Matched by its own source's entry id (or re-added by
hand), a changed title/summary/date/issuer/URL updates the row (an empty field does not
erase one); matched by URL or title, a second source only fills what the row lacks. Tags
only accumulate. So two sources never take turns overwriting each other.

Callers own the transaction: `ingest` wraps each source's upserts in `db.atomic()`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlite_utils import Database

from bot.db import from_db, to_db, to_json
from policy_feeds.identity import canonical_url, squash
from policy_feeds.model import Item, Policy
from policy_feeds.tagging import clean_tags

__all__ = ["MIN_TITLE", "Outcome", "PolicyStore", "Stored", "search_words"]

MIN_TITLE = 6
_ORDER = "coalesce(published_at, created_at) desc, id desc"
_WORDS = re.compile(r"[\s,，、;；]+")


class Outcome(StrEnum):
    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    policy_id: int


def search_words(text: str | Sequence[str]) -> list[str]:
    """Query words, normalised like the stored text (full width, Traditional, punctuation)."""
    parts = (
        _WORDS.split(text) if isinstance(text, str) else [w for t in text for w in _WORDS.split(t)]
    )
    return list(dict.fromkeys(w for w in (squash(p) for p in parts) if w))


def _search_text(values: dict[str, Any]) -> str:
    tags = json.loads(values["tags"] or "[]")
    parts = [values["title"], values["summary"] or "", values["issuer"] or "", *tags]
    return "\n".join(squash(p) for p in parts)


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _policy(row: dict[str, Any]) -> Policy:
    return Policy(
        id=row["id"],
        title=row["title"],
        url=row["url"] or "",
        issuer=row["issuer"] or "",
        published_at=from_db(row["published_at"]) if row["published_at"] else None,
        summary=row["summary"] or "",
        tags=tuple(json.loads(row["tags"] or "[]")),
        source=row["source"],
    )


class PolicyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writing --------------------------------------------------------------------------

    def _one(self, where: str, params: Sequence[Any]) -> dict[str, Any] | None:
        rows = list(
            self.db.query(f"select * from policies where {where} order by id limit 1", params)
        )
        return rows[0] if rows else None

    def find(self, item: Item, source: str) -> tuple[dict[str, Any] | None, bool]:
        """The stored row this item duplicates, and whether it is that row's own identity."""
        if item.entry_id:
            row = self._one("source = ? and entry_id = ?", [source, item.entry_id])
            if row:
                return row, True
        row = None
        canon = canonical_url(item.url)
        if canon:
            row = self._one("canonical_url = ?", [canon])
        norm = squash(item.title)
        if row is None and len(norm) >= MIN_TITLE:
            row = self._one("norm_title = ?", [norm])
        if row is None:
            return None, False
        return row, row["source"] == source and item.entry_id is None

    def upsert(self, item: Item, source: str, now: datetime) -> Stored:
        """Store one item (tags already applied); see the module docstring for dedupe."""
        values: dict[str, Any] = {
            "title": item.title,
            "url": item.url,
            "canonical_url": canonical_url(item.url),
            "norm_title": squash(item.title),
            "issuer": item.issuer,
            "published_at": to_db(item.published_at) if item.published_at else None,
            "summary": item.summary,
            "tags": to_json(list(clean_tags(item.tags))),
        }
        row, own = self.find(item, source)
        stamp = to_db(now)
        if row is None:
            values.update(
                source=source, entry_id=item.entry_id, created_at=stamp, updated_at=stamp
            )
            values["search_text"] = _search_text(values)
            columns = ", ".join(values)
            marks = ", ".join("?" * len(values))
            cursor = self.db.execute(
                f"insert into policies ({columns}) values ({marks})", list(values.values())
            )
            return Stored(Outcome.ADDED, int(cursor.lastrowid or 0))
        new_tags = json.loads(values.pop("tags"))
        if own:
            # The source's own entry: what it says now wins, but a field it leaves empty does
            # not erase what another source filled in.
            if item.entry_id:
                values["entry_id"] = item.entry_id
            changes = {k: v for k, v in values.items() if v not in (None, "") and row[k] != v}
        else:
            # Someone else's policy: only fill what the row lacks.
            changes = {
                k: values[k]
                for k in ("issuer", "summary", "published_at")
                if not row[k] and values[k]
            }
            if not row["canonical_url"] and values["canonical_url"]:
                changes.update(url=values["url"], canonical_url=values["canonical_url"])
        old_tags = json.loads(row["tags"] or "[]")
        tags = list(clean_tags([*old_tags, *new_tags]))
        if tags != old_tags:
            changes["tags"] = to_json(tags)
        if not changes:
            return Stored(Outcome.UNCHANGED, row["id"])
        changes["search_text"] = _search_text({**row, **changes})
        changes["updated_at"] = stamp
        self.db.table("policies").update(row["id"], changes)
        return Stored(Outcome.UPDATED, row["id"])

    # -- reading --------------------------------------------------------------------------

    def get(self, policy_id: int) -> Policy | None:
        row = self._one("id = ?", [policy_id])
        return _policy(row) if row else None

    def count(self) -> int:
        return int(self.db.execute("select count(*) from policies").fetchone()[0])

    def _select(self, where: list[str], params: list[Any], limit: int) -> list[Policy]:
        sql = "select * from policies"
        if where:
            sql += " where " + " and ".join(where)
        sql += f" order by {_ORDER} limit ?"
        return [_policy(r) for r in self.db.query(sql, [*params, limit])]

    def recent(self, limit: int = 10, source: str | None = None) -> list[Policy]:
        """Newest first (publish date, else the day it was stored)."""
        where, params = (["source = ?"], [source]) if source else ([], [])
        return self._select(where, params, limit)

    def search(self, words: str | Sequence[str], limit: int = 5) -> list[Policy]:
        """Policies whose title, summary, issuer or tags contain every word; newest first.

        Words are split at spaces and commas and normalised, so `融資`, `ＡＩ`, `《专精特新》`
        find 融资, ai, 专精特新. No words, no results.
        """
        terms = search_words(words)
        if not terms:
            return []
        where = ["coalesce(search_text, lower(title)) like ? escape '\\'"] * len(terms)
        return self._select(where, [_like(t) for t in terms], limit)

    def candidates(
        self,
        since: datetime | None = None,
        tags: Iterable[str] | None = None,
        limit: int = 50,
        *,
        not_sent_to: str | None = None,
    ) -> list[Policy]:
        """What a digest may carry, newest first.

        since: published (or, without a date, stored) at or after this time; None = any.
        tags: at least one of these tags (normalised like stored tags); None or empty = any.
        not_sent_to: leave out what `policy_sent` records as sent to this conversation.
        """
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("coalesce(published_at, created_at) >= ?")
            params.append(to_db(since))
        wanted = clean_tags(tags or ())
        if wanted:
            marks = ", ".join("?" * len(wanted))
            where.append(
                f"exists (select 1 from json_each(policies.tags) where value in ({marks}))"
            )
            params += wanted
        if not_sent_to is not None:
            where.append(
                "not exists (select 1 from policy_sent s"
                " where s.conversation_id = ? and s.policy_id = policies.id)"
            )
            params.append(not_sent_to)
        return self._select(where, params, limit)
