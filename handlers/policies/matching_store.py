"""The matching tables (the policies feature's own migrations) and their one writer.

policy_eligibility   one row per policy: what it asks of an enterprise and its deadline;
                     `source` "rules" (recomputed when the policy changes) or "staff"
                     (edited on the console: kept as is, whatever a later fetch brings)
policy_pushes        what went to an enterprise: (enterprise, policy, kind) once — kind
                     "match" (the policy itself) or "reminder" (申报截止) — never twice
policy_push_days     (enterprise, day): the one private message of that day
policy_topics        per contact: 退订全部, the topics subscribed to and unsubscribed from
policy_applied       (enterprise, policy): the enterprise said 已申报
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.db import from_db, to_db, to_json
from handlers.policies.matching_rules import DIMENSIONS, Eligibility

__all__ = ["MIGRATIONS", "MatchingStore", "StoredEligibility", "Topics"]

MIGRATIONS = Migrations("chamberbot.policies")
RULES, STAFF = "rules", "staff"
MATCH, REMINDER = "match", "reminder"


@MIGRATIONS()
def m001_matching(db: Database) -> None:
    db.table("policy_eligibility").create(
        {
            "policy_id": int,
            "industries": str,
            "sizes": str,
            "regions": str,
            "qualifications": str,
            "deadline": str,  # ISO date, or null
            "source": str,
            "policy_updated_at": str,  # the policy's updated_at the rules read
            "rules": str,  # the fingerprint of the rules that read it
            "edited_by": str,
            "edited_at": str,
        },
        pk="policy_id",
        foreign_keys=[("policy_id", "policies", "id")],
    )
    db.table("policy_pushes").create(
        {
            "enterprise_id": int,
            "policy_id": int,
            "kind": str,
            "day": str,
            "sent_at": str,
        },
        pk=("enterprise_id", "policy_id", "kind"),
    )
    db.table("policy_push_days").create(
        {"enterprise_id": int, "day": str, "sent_at": str}, pk=("enterprise_id", "day")
    )
    db.table("policy_topics").create(
        {
            "contact_id": str,
            "opted_out": int,
            "subscribed": str,
            "unsubscribed": str,
            "updated_at": str,
        },
        pk="contact_id",
    )
    db.table("policy_applied").create(
        {"enterprise_id": int, "policy_id": int, "contact_id": str, "applied_at": str},
        pk=("enterprise_id", "policy_id"),
    )


@dataclass(frozen=True)
class StoredEligibility:
    eligibility: Eligibility
    source: str
    edited_by: str | None = None
    edited_at: datetime | None = None

    @property
    def by_staff(self) -> bool:
        return self.source == STAFF


@dataclass(frozen=True)
class Topics:
    """One contact's choices: 退订全部, and the topics subscribed to / unsubscribed from."""

    opted_out: bool = False
    subscribed: tuple[str, ...] = ()
    unsubscribed: tuple[str, ...] = ()

    def wants(self, tags: Iterable[str], matched: bool) -> bool:
        """Whether a policy with these tags goes to the contact: a matched one unless it
        is only about topics the contact unsubscribed from; a general one only when it is
        about a topic the contact subscribed to."""
        if self.opted_out:
            return False
        tags = set(tags)
        if tags & set(self.subscribed):
            return True
        if not matched:
            return False
        return not (tags and tags <= set(self.unsubscribed))


def _eligibility(row: dict[str, Any]) -> Eligibility:
    values = {d: tuple(json.loads(row[d] or "[]")) for d in DIMENSIONS}
    deadline = date.fromisoformat(row["deadline"]) if row["deadline"] else None
    return Eligibility(deadline=deadline, **values)


class MatchingStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- eligibility ------------------------------------------------------------------------

    def eligibility(self, policy_id: int) -> StoredEligibility | None:
        rows = list(
            self.db.query("select * from policy_eligibility where policy_id = ?", [policy_id])
        )
        if not rows:
            return None
        row = rows[0]
        edited = from_db(row["edited_at"]) if row["edited_at"] else None
        return StoredEligibility(_eligibility(row), row["source"], row["edited_by"], edited)

    def all_eligibility(self) -> dict[int, Eligibility]:
        return {
            r["policy_id"]: _eligibility(r)
            for r in self.db.query("select * from policy_eligibility")
        }

    def stale(self, rules: str) -> list[dict[str, Any]]:
        """Policies these rules (their fingerprint) have not read since the policy last
        changed (staff rows excepted)."""
        return list(
            self.db.query(
                "select p.* from policies p left join policy_eligibility e on e.policy_id = p.id"
                " where e.policy_id is null or (e.source = ? and"
                " (coalesce(e.policy_updated_at, '') != coalesce(p.updated_at, '')"
                " or coalesce(e.rules, '') != ?))",
                [RULES, rules],
            )
        )

    def save(
        self,
        policy_id: int,
        found: Eligibility,
        *,
        source: str,
        policy_updated_at: str | None = None,
        rules: str | None = None,
        by: str | None = None,
        now: datetime | None = None,
    ) -> None:
        row: dict[str, Any] = {d: to_json(list(getattr(found, d))) for d in DIMENSIONS}
        row.update(
            policy_id=policy_id,
            deadline=found.deadline.isoformat() if found.deadline else None,
            source=source,
            policy_updated_at=policy_updated_at,
            rules=rules,
            edited_by=by,
            edited_at=to_db(now) if now else None,
        )
        self.db.table("policy_eligibility").upsert(row, pk="policy_id")

    # -- what went where ----------------------------------------------------------------------

    def pushed(self, enterprise_id: int, kind: str) -> set[int]:
        rows = self.db.execute(
            "select policy_id from policy_pushes where enterprise_id = ? and kind = ?",
            [enterprise_id, kind],
        ).fetchall()
        return {int(r[0]) for r in rows}

    def had_day(self, enterprise_id: int, day: date) -> bool:
        return bool(
            self.db.table("policy_push_days").count_where(
                "enterprise_id = ? and day = ?", [enterprise_id, day.isoformat()]
            )
        )

    def record_day(
        self, enterprise_id: int, day: date, items: Sequence[tuple[int, str]], now: datetime
    ) -> None:
        stamp = to_db(now)
        self.db.execute(
            "insert or ignore into policy_push_days (enterprise_id, day, sent_at)"
            " values (?, ?, ?)",
            [enterprise_id, day.isoformat(), stamp],
        )
        for policy_id, kind in items:
            self.db.execute(
                "insert or ignore into policy_pushes"
                " (enterprise_id, policy_id, kind, day, sent_at) values (?, ?, ?, ?, ?)",
                [enterprise_id, policy_id, kind, day.isoformat(), stamp],
            )

    # -- members' choices -------------------------------------------------------------------

    def topics(self, contact_id: str) -> Topics:
        rows = list(
            self.db.query("select * from policy_topics where contact_id = ?", [contact_id])
        )
        if not rows:
            return Topics()
        row = rows[0]
        return Topics(
            bool(row["opted_out"]),
            tuple(json.loads(row["subscribed"] or "[]")),
            tuple(json.loads(row["unsubscribed"] or "[]")),
        )

    def set_topics(self, contact_id: str, topics: Topics, now: datetime) -> None:
        self.db.table("policy_topics").upsert(
            {
                "contact_id": contact_id,
                "opted_out": int(topics.opted_out),
                "subscribed": to_json(list(topics.subscribed)),
                "unsubscribed": to_json(list(topics.unsubscribed)),
                "updated_at": to_db(now),
            },
            pk="contact_id",
        )

    def applied(self, enterprise_id: int) -> set[int]:
        rows = self.db.execute(
            "select policy_id from policy_applied where enterprise_id = ?", [enterprise_id]
        ).fetchall()
        return {int(r[0]) for r in rows}

    def mark_applied(
        self, enterprise_id: int, policy_id: int, contact_id: str, now: datetime
    ) -> bool:
        """Record 已申报; False when it was already recorded."""
        cursor = self.db.execute(
            "insert or ignore into policy_applied"
            " (enterprise_id, policy_id, contact_id, applied_at) values (?, ?, ?, ?)",
            [enterprise_id, policy_id, contact_id, to_db(now)],
        )
        return bool(cursor.rowcount)
