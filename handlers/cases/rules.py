"""The case lifecycle as one table: which intent is allowed in which state, and where
it leads. Every intent of the case service is checked here before it writes.

    new ─claim/assign→ accepted ─answer→ in_progress ─resolve→ resolved ─rate 满意→ closed
     └──────────── answer ───────────────┘                       │  └─rate 不满意→ in_progress
    any open state ─withdraw→ withdrawn        resolved ─no rating in time→ closed (未评价)
    closed ─回访 未解决→ in_progress            closed, withdrawn ─回访→ (asked, answered, failed)
    open ─待补充→ (paused) ─补充, or max_pause_days passed→ (resumed): a clock, not a state
"""

from __future__ import annotations

from bot.refusal import Refusal
from handlers.cases.model import OPEN, Case, EventKind, Status

__all__ = ["ALLOWED", "NEXT", "RESPONDS", "check", "next_status"]

_HANDLING = OPEN | {Status.RESOLVED}  # staff may still act on a case awaiting its rating
_ALL = frozenset(Status)
_FINISHED = frozenset({Status.CLOSED, Status.WITHDRAWN})  # 回访 follows these up

ALLOWED: dict[EventKind, frozenset[Status]] = {
    EventKind.OPENED: frozenset(),
    EventKind.SUPPLEMENTED: _HANDLING,
    EventKind.CLAIMED: _HANDLING,
    EventKind.ASSIGNED: _HANDLING,
    EventKind.TRANSFERRED: _HANDLING,
    EventKind.ANSWERED: _HANDLING,
    EventKind.RESOLVED: OPEN,
    EventKind.RATED: frozenset({Status.RESOLVED}),
    EventKind.REOPENED: frozenset({Status.RESOLVED}),
    EventKind.CLOSED: frozenset({Status.RESOLVED}),
    EventKind.WITHDRAWN: OPEN,
    EventKind.ESCALATED: OPEN,
    EventKind.NOTED: _ALL,
    EventKind.RECLASSIFIED: _HANDLING,
    EventKind.REMINDED: OPEN,
    EventKind.RESPONSE_OVERDUE: frozenset({Status.NEW, Status.ACCEPTED}),
    EventKind.DEADLINES_RECOMPUTED: OPEN,
    EventKind.FOLLOW_UP_ASKED: _FINISHED,
    EventKind.FOLLOW_UP_ANSWERED: _FINISHED,
    EventKind.FOLLOW_UP_REOPENED: frozenset({Status.CLOSED}),
    EventKind.FOLLOW_UP_FAILED: _FINISHED,
    EventKind.TOPIC_JOINED: OPEN,
    EventKind.TOPIC_LEFT: _ALL,
    EventKind.TOPIC_CHANGED: OPEN,
    EventKind.PAUSED: OPEN,
    EventKind.RESUMED: OPEN,
    EventKind.REROUTED: _ALL,
}

NEXT: dict[EventKind, dict[Status, Status]] = {
    EventKind.CLAIMED: {Status.NEW: Status.ACCEPTED},
    EventKind.ASSIGNED: {Status.NEW: Status.ACCEPTED},
    EventKind.ANSWERED: {Status.NEW: Status.IN_PROGRESS, Status.ACCEPTED: Status.IN_PROGRESS},
    EventKind.RESOLVED: dict.fromkeys(OPEN, Status.RESOLVED),
    EventKind.REOPENED: {Status.RESOLVED: Status.IN_PROGRESS},
    EventKind.CLOSED: {Status.RESOLVED: Status.CLOSED},
    EventKind.WITHDRAWN: dict.fromkeys(OPEN, Status.WITHDRAWN),
    EventKind.FOLLOW_UP_REOPENED: {Status.CLOSED: Status.IN_PROGRESS},
}

#: intents that count as the first response (件件有回应): staff took the case in hand
RESPONDS = frozenset(
    {
        EventKind.CLAIMED,
        EventKind.ASSIGNED,
        EventKind.TRANSFERRED,
        EventKind.ANSWERED,
        EventKind.RESOLVED,
        EventKind.PAUSED,
    }
)

#: the polite answer when an intent is not allowed in the case's state
_REFUSALS = {
    EventKind.RATED: "reporter_not_resolved",
    EventKind.WITHDRAWN: "reporter_withdraw_refused",
    EventKind.SUPPLEMENTED: "intake_supplement_closed",
}


def check(case: Case, kind: EventKind) -> None:
    if case.status not in ALLOWED[kind]:
        raise Refusal(_REFUSALS.get(kind, "staff_state"), case=case)


def next_status(case: Case, kind: EventKind) -> Status:
    return NEXT.get(kind, {}).get(case.status, case.status)
