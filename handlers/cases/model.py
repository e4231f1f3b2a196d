"""Cases (诉求): what a case is, its states and the kinds of its timeline events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from bot.db import from_db
from bot.people import SYSTEM, Actor

__all__ = [
    "CHAT_ROUTES",
    "OPEN",
    "SYSTEM",
    "Actor",
    "Case",
    "CaseEvent",
    "Classification",
    "EventKind",
    "Status",
    "classified",
]


class Status(StrEnum):
    NEW = "new"  # 待受理
    ACCEPTED = "accepted"  # 已受理
    IN_PROGRESS = "in_progress"  # 办理中
    RESOLVED = "resolved"  # 已办结待评价
    CLOSED = "closed"  # 已销号
    WITHDRAWN = "withdrawn"  # 已撤回


OPEN = frozenset({Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS})


class EventKind(StrEnum):
    """What happened to a case; one intent of the case service writes one of these."""

    OPENED = "opened"
    SUPPLEMENTED = "supplemented"
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    TRANSFERRED = "transferred"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    RATED = "rated"
    REOPENED = "reopened"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    ESCALATED = "escalated"
    NOTED = "noted"
    RECLASSIFIED = "reclassified"
    REMINDED = "reminded"
    RESPONSE_OVERDUE = "response_overdue"
    DEADLINES_RECOMPUTED = "deadlines_recomputed"
    FOLLOW_UP_ASKED = "follow_up_asked"
    FOLLOW_UP_ANSWERED = "follow_up_answered"
    FOLLOW_UP_REOPENED = "follow_up_reopened"
    FOLLOW_UP_FAILED = "follow_up_failed"
    TOPIC_JOINED = "topic_joined"  # linked into a 专题 (data: topic id and name)
    TOPIC_LEFT = "topic_left"  # taken out of its 专题
    TOPIC_CHANGED = "topic_changed"  # its 专题's deadline or owner changed (data: what)
    PAUSED = "paused"  # 待补充: the enterprise is asked for materials, the clock stops
    RESUMED = "resumed"  # the enterprise answered (or max_pause_days passed): it runs again
    REROUTED = "rerouted"  # a push its channel held went to a linked channel (data: where)


#: the route of a case from chat: CHAT_ROUTES[is_group]
CHAT_ROUTES = ("私聊", "群聊")


@dataclass(frozen=True)
class Classification:
    category: str
    aspect: str
    department: str
    limit_days: int


def classified(category: str, aspect: str | None) -> str:
    """`分类/方面`, or the category alone: the one spelling of a case's classification."""
    return f"{category}/{aspect}" if aspect else category


@dataclass(frozen=True)
class Case:
    id: int
    number: str
    year: int
    seq: int
    reporter_id: str
    reporter_name: str
    enterprise: str | None
    channel: str
    conversation_id: str
    conversation_is_group: int
    description: str
    category: str
    aspect: str | None
    department: str
    assignee_id: str | None
    assignee_name: str | None
    status: Status
    escalation: int
    reopen_count: int
    rating: str | None
    rating_reason: str | None
    created_at: str
    updated_at: str
    first_response_at: str | None
    response_due_at: str
    response_flagged_at: str | None
    due_at: str
    reminded_at: str | None
    level2_due_at: str
    resolved_at: str | None
    rate_due_at: str | None
    closed_at: str | None
    close_reason: str | None
    # where it came from (a route of `cases.routes`) and when the chamber collected it
    route: str | None = None
    collected_on: str | None = None
    # a case staff registered for an enterprise (代录): who, and the enterprise's contact
    registered_by_id: str | None = None
    registered_by_name: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    # 回访 after closing (handlers/cases/follow_up_intents.py)
    follow_up_due_at: str | None = None
    follow_up_asked_at: str | None = None
    follow_up_expires_at: str | None = None
    follow_up_result: str | None = None
    follow_up_at: str | None = None
    # 待补充: since when the deadline clock stands still, when it restarts by itself at the
    # latest, and the working days it stood still in all (handlers/cases/pause_intents.py)
    paused_at: str | None = None
    pause_until: str | None = None
    paused_days: int = 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Case:
        values = {name: row[name] for name in _CASE_FIELDS}
        values["status"] = Status(values["status"])
        return cls(**values)

    @classmethod
    def from_tuple(cls, names: tuple[str, ...], row: Sequence[Any]) -> Case:
        """A case from a row of `select *` (columns `names`): the hot path's reader, which
        fills the frozen instance directly instead of through 33 checked assignments."""
        case = object.__new__(cls)
        values = case.__dict__
        for name, i in _positions(names):
            values[name] = row[i]
        values["status"] = Status(values["status"])
        return case

    @property
    def classified(self) -> str:
        """Its category and aspect as staff and reporters read them: `分类/方面`."""
        return classified(self.category, self.aspect)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def relayed(self) -> bool:
        """Registered by staff for an enterprise the bot cannot reach: its status updates
        go to the staff member who registered it, to pass on."""
        return self.registered_by_id is not None and self.reporter_id == self.registered_by_id

    def overdue(self, now: datetime) -> bool:
        return self.is_open and from_db(self.due_at) <= now


_CASE_FIELDS = tuple(f.name for f in fields(Case))


@lru_cache(maxsize=64)
def _positions(names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """Where each field of Case is in a row with columns `names`."""
    where = {name: i for i, name in enumerate(names)}
    return tuple((name, where[name]) for name in _CASE_FIELDS)


@dataclass(frozen=True)
class CaseEvent:
    kind: str
    actor_id: str
    actor_name: str
    at: str
    text: str
    data: dict[str, Any]
