"""专题: what a topic is, and the named reads of the `topics` and `topic_cases` tables
(migration m003_topics). The topic intents (topic_intents.py) are the only writers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.normalize import SEPARATORS
from bot.refusal import Refusal
from handlers.cases.model import Case

__all__ = ["Topic", "TopicStore", "parse_topic_ref"]


@dataclass(frozen=True)
class Topic:
    id: int
    name: str
    owner_id: str
    owner_name: str
    department: str
    deadline: str | None  # a local date, YYYY-MM-DD
    deadline_set: int  # set by staff (专题 期限), else the latest due date of its cases
    created_by_id: str
    created_by_name: str
    created_at: str
    closed_at: str | None
    outcome: str | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @classmethod
    def from_row(cls, names: tuple[str, ...], row: Any) -> Topic:
        return cls(**dict(zip(names, row, strict=True)))


def parse_topic_ref(text: str) -> int | None:
    """`3`, `#3`, `专题3` → 3; anything else → None."""
    text = text.strip(SEPARATORS).removeprefix("专题").lstrip("#＃").strip()
    return int(text) if text.isdigit() and text.isascii() and len(text) < 9 else None


class TopicStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _topics(self, where: str, params: list[Any], tail: str = "") -> list[Topic]:
        cursor = self.db.execute(f"select * from topics where {where} {tail}", params)
        names = tuple(c[0] for c in cursor.description)
        return [Topic.from_row(names, r) for r in cursor.fetchall()]

    def get(self, topic_id: int) -> Topic:
        """The topic, or the refusal a number that does not exist gets."""
        found = self._topics("id = ?", [topic_id])
        if not found:
            raise Refusal("topic_not_found", ref=topic_id)
        return found[0]

    def listing(self, limit: int = 50) -> list[Topic]:
        """Open topics first (newest first), then the closed ones."""
        return self._topics("1", [], f"order by closed_at is not null, id desc limit {int(limit)}")

    def member_ids(self, topic_id: int) -> list[int]:
        """The cases linked to the topic now (left ones left out), in the order they joined."""
        rows = self.db.execute(
            "select case_id from topic_cases where topic_id = ? and left_at is null"
            " order by joined_at, case_id",
            [topic_id],
        ).fetchall()
        return [int(r[0]) for r in rows]

    def open_topic_of(self, case: Case) -> Topic | None:
        """The open topic the case is linked to, if any (a case is in at most one)."""
        found = self._topics(
            "closed_at is null and id in (select topic_id from topic_cases"
            " where case_id = ? and left_at is null)",
            [case.id],
        )
        return found[0] if found else None

    def counts(self) -> dict[int, tuple[int, int]]:
        """Per topic: linked cases and distinct enterprises (for the list)."""
        rows = self.db.execute(
            "select l.topic_id, count(*),"
            " count(distinct coalesce(nullif(c.enterprise, ''), c.reporter_id))"
            " from topic_cases l join cases c on c.id = l.case_id"
            " where l.left_at is null group by l.topic_id"
        ).fetchall()
        return {int(t): (int(n), int(e)) for t, n, e in rows}
