"""Cases (诉求): the case service and what it works with.

`CaseService` is the only code that changes a case. Its intents (open, supplement, rate,
reopen, withdraw; claim, assign, transfer, answer, resolve, escalate, note, reclassify,
pause (待补充) and resume;
the 专题 intents over linked cases;
and the system's flag_response_overdue, remind, auto_close) are checked against one
transition table (handlers/cases/rules.py) and each writes one timeline event.
"""

from handlers.cases.core import Outcome
from handlers.cases.deadline_intents import DeadlineIntents
from handlers.cases.ledger import (
    LEDGER_COLUMNS,
    TIMELINE_COLUMNS,
    Ledger,
    as_text,
    ledger_labels,
    ledger_rows,
)
from handlers.cases.listing import CaseFilter, Selection, created_between
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
from handlers.cases.register_intents import RegisterIntents, Registration
from handlers.cases.reporter_intents import RATINGS, ReporterIntents
from handlers.cases.settings import Cases, case_settings
from handlers.cases.staff_intents import StaffIntents
from handlers.cases.topic_intents import Skipped, TopicIntents, TopicOutcome
from handlers.cases.topics import Topic, parse_topic_ref

__all__ = [
    "LEDGER_COLUMNS",
    "OPEN",
    "RATINGS",
    "SYSTEM",
    "TIMELINE_COLUMNS",
    "Actor",
    "Case",
    "CaseEvent",
    "CaseFilter",
    "CaseService",
    "Cases",
    "Classification",
    "EventKind",
    "Ledger",
    "Outcome",
    "Registration",
    "Selection",
    "Skipped",
    "Status",
    "Topic",
    "TopicOutcome",
    "as_text",
    "case_settings",
    "created_between",
    "ledger_labels",
    "ledger_rows",
    "parse_topic_ref",
]


class CaseService(ReporterIntents, RegisterIntents, TopicIntents, StaffIntents, DeadlineIntents):
    """Every intent on a case (see the modules of this package)."""
