"""Who is told about a survey: the send (to member groups by tag, to enterprises matching a
profile filter, or to everyone) and the one reminder before the deadline.

A member group gets one notice inviting its members to answer in a private chat; each
reachable contact of a matching enterprise gets a private message. Every message goes
through the durable outbox with a dedupe key, and each conversation is recorded once per
survey, so sending again (to more tags, after a restart) reaches only the new places.
The reminder is a sweep over `remind_at`: it queues once per survey — a private message
to each contact who was sent it or started it and has not submitted, and a notice in
each group it went to — and marks the survey reminded in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.db import to_db, transaction
from bot.messages import Outgoing
from bot.people import Actor
from bot.scheduler import running_services
from bot.services import Services
from bot.targeting import ALL, TargetError, parse_target
from handlers.enterprises.service import EnterpriseService, ProfileFilter
from handlers.surveys.service import SurveyRefused, SurveyService
from handlers.surveys.store import SENT, Survey

__all__ = ["Audience", "Sent", "console_sweep", "remind", "send", "sweep_job"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Audience:
    """Where a survey goes: member groups by a tag expression (`all`: every member group),
    enterprises matching a profile filter (privately), or both; `everyone` is every member
    group and every enterprise with a reachable contact."""

    groups: str | None = None
    profile: ProfileFilter | None = None
    everyone: bool = False

    def describe(self) -> str:
        if self.everyone:
            return "everyone"
        parts = [f"groups:{self.groups}"] if self.groups else []
        if self.profile is not None:
            parts.append("profile")
        return " ".join(parts)


@dataclass
class Sent:
    """What a send reached: group names and contacts newly told (and those told before)."""

    groups: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)
    already: int = 0


def _profile_contacts(app: Services, flt: ProfileFilter | None) -> list[tuple[str, str]]:
    """(contact id, enterprise name) of every reachable contact of a matching enterprise."""
    enterprises = app.service(EnterpriseService)
    found: dict[str, str] = {}
    for profile in enterprises.matching(flt or ProfileFilter()):
        for contact in profile.contacts:
            if contact.contact_id and contact.contact_id not in app.people.staff:
                found.setdefault(contact.contact_id, profile.name)
    return sorted(found.items())


def send(app: Services, survey_id: int, audience: Audience, by: Actor) -> Sent:
    """Send a survey (the console's and the CLI's one way); raises SurveyRefused (a survey
    that cannot be sent, a target that cannot be read, nobody to send to)."""
    svc = app.service(SurveyService)
    survey = svc.get(survey_id)
    if survey is None:
        raise SurveyRefused("no_survey", id=survey_id)
    svc.check_intent("send", survey)
    now = app.clock.now()
    if survey.deadline_at and survey.deadline_at <= to_db(now):
        raise SurveyRefused("closed", title=survey.title, deadline=survey.deadline_at)
    expr = ALL if audience.everyone else audience.groups
    try:
        target = parse_target(expr) if expr else None
    except TargetError as error:
        raise SurveyRefused("bad_target", target=expr, reason=str(error)) from None
    groups = [g for g in app.places.member_groups() if target and target.matches(g.tags)]
    people = (
        _profile_contacts(app, audience.profile)
        if audience.everyone or audience.profile is not None
        else []
    )
    if not groups and not people:
        raise SurveyRefused("nobody", title=survey.title)
    sent = Sent()
    count = len(survey.definition.questions)
    with transaction(app.db):
        for group in groups:
            if not svc.store.add_send(
                survey.id, "group", group.id, group.channel, audience.describe(), by.name, now
            ):
                sent.already += 1
                continue
            out = app.notices.to(group.id, "surveys_group_notice", survey=survey, count=count)
            app.outbox.enqueue(
                [out], dedupe_key=f"survey:{survey.id}:send:{group.id}", scheduled=True
            )
            sent.groups.append(group.name)
        for contact_id, enterprise in people:
            channel = app.places.channel_of(contact_id)
            if not svc.store.add_send(
                survey.id, "contact", contact_id, channel, audience.describe(), by.name, now
            ):
                sent.already += 1
                continue
            out = app.notices.to_contact(
                contact_id, "surveys_invite", survey=survey, count=count, enterprise=enterprise
            )
            app.outbox.enqueue(
                [out], dedupe_key=f"survey:{survey.id}:send:{contact_id}", scheduled=True
            )
            sent.contacts.append(contact_id)
        if survey.status != SENT:
            svc.store.set(survey.id, now, status=SENT, sent_at=to_db(now))
    log.info(
        "survey %s sent by %s: %d groups, %d contacts", survey.id, by.name,
        len(sent.groups), len(sent.contacts),
    )  # fmt: skip
    return sent


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
