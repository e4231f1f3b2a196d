"""问卷: surveys staff define (YAML or the console's form) and send (to member groups by tag,
to enterprises matching a profile filter, or to everyone); members answer in a private chat
one question at a time or on the member page; one reminder before the deadline; results
with charts, per-question tables and an XLSX export.

Modules: model (a definition and its checks), answers (reading an answer), migrations and
store (tables, rows), profile_fill (answers into the enterprise profile),
service (the rules; `services.service(SurveyService)`), sending (invitations), outreach
(the reminder sweep),
chat (`问卷` and the answering prompt), results (tallies, XLSX), cli (`chamberbot surveys`),
web / web_form (the console's pages).
"""

from __future__ import annotations

from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from bot.feature import Feature, JobSpec, WebPart
from bot.router import Route
from bot.services import Services
from handlers.surveys import chat, cli
from handlers.surveys import web as surveys_web
from handlers.surveys.migrations import MIGRATIONS
from handlers.surveys.service import SurveyService
from handlers.surveys.settings import SurveysSettings, settings

__all__ = ["FEATURE", "SurveyService"]

ROUTES = [
    Route(
        "survey",
        ("问卷", "填问卷", "调查问卷"),
        chat.start,
        "问卷 [编号]",
        "私聊填写商会发来的问卷（可中途离开，下次接着填）",
    ),
]


def _service(services: Services) -> SurveyService:
    return SurveyService(services, settings(services.config))


def _jobs(services: Services) -> list[JobSpec]:
    """The reminder sweep: due reminders from `surveys.remind_at`."""
    return [
        JobSpec(
            "surveys_sweep",
            "handlers.surveys.outreach:sweep_job",
            IntervalTrigger(
                seconds=services.config.sweep_interval_seconds, timezone=services.config.tz
            ),
        ),
    ]


FEATURE = Feature(
    name="surveys",
    routes=ROUTES,
    prompts={chat.PROMPT: chat.answer},
    jobs=_jobs,
    cli=cli.register,
    settings={"surveys": SurveysSettings},
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    service=_service,
    web=WebPart([surveys_web.routes], [("/surveys", "问卷")]),
)
