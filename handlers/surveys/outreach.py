"""The one reminder before a survey's deadline: a sweep over `remind_at` (the feature's
scheduler job) that queues once per survey — a private message to each contact who was
sent it or started it and has not submitted, and a notice in each group it went to — and
marks the survey reminded in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.db import to_db, transaction
from bot.messages import Outgoing
from bot.scheduler import running_services
from bot.services import Services
from handlers.surveys.service import SurveyService
from handlers.surveys.store import SENT, Survey

__all__ = ["console_sweep", "remind", "sweep_job"]

log = logging.getLogger(__name__)


def _unfinished(app: Services, survey: Survey) -> list[tuple[str, bool]]:
    """Contacts sent the survey or who started it and have not submitted; whether they
    started."""
    submitted = {  # who started: whether they submitted
        r.contact_id: r.submitted for r in app.service(SurveyService).store.responses(survey.id)
    }
    sent = app.db.execute(
        "select conversation_id from survey_sends where survey_id = ? and kind = 'contact'",
        [survey.id],
    ).fetchall()
    who = {str(r[0]) for r in sent} | set(submitted)
    return [(c, c in submitted) for c in sorted(who) if not submitted.get(c)]


def remind(app: Services, now: datetime | None = None) -> list[Outgoing]:
    """One pass: the reminder of every survey whose time has come, once; returns it."""
    now = now or app.clock.now()
    svc = app.service(SurveyService)
    stamp = to_db(now)
    outs: list[Outgoing] = []
    due = svc.store.where(
        "status = ? and reminded_at is null and remind_at <= ? and deadline_at > ?",
        [SENT, stamp, stamp],
    )
    for survey in due:
        with transaction(app.db):
            said = [
                app.notices.to_contact(
                    c, "surveys_reminder", survey=survey, private=True, started=started
                )
                for c, started in _unfinished(app, survey)
            ]
            said += [
                app.notices.to(g["conversation_id"], "surveys_reminder", survey=survey,
                               private=False, started=False)
                for g in svc.store.sends(survey.id, "group")
            ]  # fmt: skip
            app.outbox.enqueue(said, dedupe_key=f"survey:{survey.id}:remind", scheduled=True)
            svc.store.set(survey.id, now, reminded_at=stamp)
        outs += said
    if outs:
        log.info("survey reminders at %s: %d messages", now, len(outs))
    return outs


def console_sweep(services: Services, _args: str) -> str:
    """The demo's /sweep: survey reminders due at the demo clock."""
    remind(services)
    return ""


async def sweep_job() -> None:
    """What APScheduler runs every `sweep_interval_seconds`."""
    remind(running_services())
