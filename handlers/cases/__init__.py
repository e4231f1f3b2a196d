"""诉求 (cases): report, follow, answer, resolve and rate a problem; deadlines and the sweep.

Everything of the feature lives here: the one service (`CaseService`, service.py, with its
intents in *_intents.py checked against rules.py), the chat routes (intake, reporter,
staff), the route filter `CaseArg`, the deadline sweep and the calendar recount, the CLI.
Other features use it only through `services.service(CaseService)` and the names below.
"""

from __future__ import annotations

from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from bot.feature import Feature, JobSpec, WebPart
from bot.services import Services
from handlers.cases import (
    deadlines,
    follow_up,
    intake,
    register,
    reporter,
    staff,
    topic_chat,
    web_topics,
)
from handlers.cases import web as cases_web
from handlers.cases.calendar_watch import check_calendar
from handlers.cases.classify import warm
from handlers.cases.migrations import MIGRATIONS
from handlers.cases.service import (
    OPEN,
    RATINGS,
    SYSTEM,
    Actor,
    Case,
    CaseEvent,
    CaseService,
    Classification,
    EventKind,
    Outcome,
    Status,
)
from handlers.cases.settings import Cases, Categories

__all__ = [
    "FEATURE",
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

CALENDAR_JOB = "handlers.cases.calendar_watch:calendar_job"


def _service(services: Services) -> CaseService:
    s = services
    return CaseService(s.db, s.config, s.people, s.notices, s.calendar_file)


def _on_start(services: Services) -> None:
    """At the bot's start, before any channel connects: the calendar file, and the
    classifier's segmenter — loading it on the first 诉求 stalls the event loop ~0.3 s while
    messages wait unread in the socket, which a kill then loses (tests/test_chaos.py)."""
    check_calendar(services)
    warm(services.config)


def _jobs(services: Services) -> list[JobSpec]:
    # Hourly at :05: calendar.file re-read, fallback deadlines recounted, weekly notice.
    calendar = CronTrigger(minute=5, timezone=services.config.tz)
    return [*deadlines.JOBS(services), JobSpec("calendar", CALENDAR_JOB, calendar)]


FEATURE = Feature(
    templates=Path(__file__).resolve().parent / "templates",
    name="cases",
    routes=[
        *intake.ROUTES,
        *reporter.ROUTES,
        *staff.ROUTES,
        *register.ROUTES,
        *follow_up.ROUTES,
        *topic_chat.ROUTES,
    ],
    prompts={**intake.PROMPTS, **register.PROMPTS},
    jobs=_jobs,
    on_start=_on_start,
    cli=staff.CLI,
    console=deadlines.CONSOLE,
    service=_service,
    migrations=[MIGRATIONS],
    settings={"cases": Cases, "categories": Categories},
    web=WebPart(
        [cases_web.routes, web_topics.routes],
        [("/", "工作台"), ("/cases", "诉求台账"), ("/topics", "专题")],
    ),
)
