"""Cases (诉求): the case service and what it works with.

`CaseService` is the only code that changes a case. Its intents (open, supplement, rate,
reopen, withdraw; claim, assign, transfer, answer, resolve, escalate, note, reclassify;
and the system's flag_response_overdue, remind, auto_close) are checked against one
transition table (bot/cases/rules.py) and each writes one timeline event.
"""

from handlers.cases.core import Outcome
from handlers.cases.deadline_intents import DeadlineIntents
from handlers.cases.model import (
    OPEN,
    SYSTEM,
    Actor,
    Case,
    CaseEvent,
    Classification,
    EventKind,
    Status,
)
from handlers.cases.reporter_intents import RATINGS, ReporterIntents
from handlers.cases.staff_intents import StaffIntents

__all__ = [
    "OPEN",
    "RATINGS",
    "SYSTEM",
    "Actor",
    "Case",
    "CaseEvent",
    "CaseService",
    "Classification",
    "EventKind",
    "Outcome",
    "Status",
]


class CaseService(ReporterIntents, StaffIntents, DeadlineIntents):
    """Every intent on a case (see the modules of this package)."""
