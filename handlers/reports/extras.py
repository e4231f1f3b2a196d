"""Figures of the other features, each only when its tables exist.

送政策 (handlers/broadcasts): `deliveries` rows are digests delivered to a group, and
`policy_sent` rows are policies sent to a group. 活动: an `events` table with `starts_at`
and a `registrations` table with `event_id`, `status` and `checked_in_at`, once that
feature lands; until then the report leaves the events figures out.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from handlers.reports.facts import Window

__all__ = ["EventFigures", "PolicyFigures", "event_figures", "policy_figures"]


@dataclass(frozen=True)
class PolicyFigures:
    digests: int  # digest deliveries (one per group and run)
    groups: int  # member groups reached
    policies: int  # policy-to-group sends
    distinct_policies: int


@dataclass(frozen=True)
class EventFigures:
    held: int
    registered: int
    checked_in: int

    @property
    def attendance(self) -> float | None:
        return round(100.0 * self.checked_in / self.registered, 1) if self.registered else None


def _has(db: Database, table: str, columns: set[str]) -> bool:
    return table in db.table_names() and columns <= set(db.table(table).columns_dict)


def policy_figures(db: Database, window: Window) -> PolicyFigures | None:
    if not (
        _has(db, "deliveries", {"conversation_id", "created_at"})
        and _has(db, "policy_sent", {"policy_id", "sent_at"})
    ):
        return None
    params = window.params
    digests, groups = db.execute(
        "select count(*), count(distinct conversation_id) from deliveries"
        " where created_at >= :start and created_at < :end",
        params,
    ).fetchone()
    sends, distinct = db.execute(
        "select count(*), count(distinct policy_id) from policy_sent"
        " where sent_at >= :start and sent_at < :end",
        params,
    ).fetchone()
    return PolicyFigures(digests, groups, sends, distinct)


def event_figures(db: Database, window: Window) -> EventFigures | None:
    if not (
        _has(db, "events", {"id", "starts_at"})
        and _has(db, "registrations", {"event_id", "status", "checked_in_at"})
    ):
        return None
    params = window.params
    held = db.execute(
        "select count(*) from events where starts_at >= :start and starts_at < :end", params
    ).fetchone()[0]
    registered, checked_in = db.execute(
        "select count(*), count(r.checked_in_at) from registrations r"
        " join events e on e.id = r.event_id"
        " where e.starts_at >= :start and e.starts_at < :end and r.status = 'registered'",
        params,
    ).fetchone()
    return EventFigures(held, registered, checked_in)
