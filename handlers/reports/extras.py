"""Figures of the other features, each only when its tables exist.

送政策 (handlers/broadcasts): `deliveries` rows are digests delivered to a group, and
`policy_sent` rows are policies sent to a group. 活动 (handlers/events): events starting
in the period that were not cancelled (or left as drafts) were held; 报名 counts the
registrations holding a seat (`registered`), 签到 every check-in (walk-ins included), and
the attendance rate is checked-in registrations ÷ registrations. 专题 (handlers/cases,
`topics` and `topic_cases`): 专题 set up in the period, the enterprises of the cases linked
to them (and not taken out), and the cases closed (销号) in the period whose last 办结 was
their 专题's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from handlers.reports.facts import Window

__all__ = [
    "EventFigures",
    "PolicyFigures",
    "TopicFigures",
    "event_figures",
    "policy_figures",
    "topic_figures",
]


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
    registered_checked_in: int

    @property
    def attendance(self) -> float | None:
        if not self.registered:
            return None
        return round(100.0 * self.registered_checked_in / self.registered, 1)


@dataclass(frozen=True)
class TopicFigures:
    topics: int  # 专题 set up in the period
    enterprises: int  # enterprises their cases cover
    closed: int  # cases closed in the period through a 专题's 办结


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
        _has(db, "events", {"id", "starts_at", "status"})
        and _has(db, "registrations", {"event_id", "status", "checked_in_at"})
    ):
        return None
    params = window.params
    held_events = (
        "select id from events where starts_at >= :start and starts_at < :end"
        " and status not in ('cancelled', 'draft')"
    )
    held = db.execute(f"select count(*) from ({held_events})", params).fetchone()[0]
    registered, checked_in, both = db.execute(
        "select sum(status = 'registered'), count(checked_in_at),"
        " sum(status = 'registered' and checked_in_at is not null)"
        f" from registrations where event_id in ({held_events})",
        params,
    ).fetchone()
    return EventFigures(held, registered or 0, checked_in or 0, both or 0)


def topic_figures(db: Database, window: Window) -> TopicFigures | None:
    if not (
        _has(db, "topics", {"id", "created_at"})
        and _has(db, "topic_cases", {"topic_id", "case_id", "left_at", "resolved_at"})
    ):
        return None
    params = window.params
    topics, enterprises = db.execute(
        "select count(distinct t.id),"
        " count(distinct coalesce(nullif(c.enterprise, ''), c.reporter_id))"
        " from topics t left join topic_cases l on l.topic_id = t.id and l.left_at is null"
        " left join cases c on c.id = l.case_id"
        " where t.created_at >= :start and t.created_at < :end",
        params,
    ).fetchone()
    closed = db.execute(
        "select count(distinct c.id) from topic_cases l join cases c on c.id = l.case_id"
        " where c.status = 'closed' and c.closed_at >= :start and c.closed_at < :end"
        " and l.resolved_at = c.resolved_at",
        params,
    ).fetchone()[0]
    return TopicFigures(topics, enterprises, closed)
