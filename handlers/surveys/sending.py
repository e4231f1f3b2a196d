"""Sending a survey: to member groups by tag (one notice in each group inviting its members
to answer in a private chat), to the enterprises a profile filter matches (a private
invitation to each reachable contact), or to everyone. Every message goes through the
durable outbox with a dedupe key, and each conversation is recorded once per survey, so
sending again (to more tags, after a restart) reaches only the new places. Invitations are
scheduled messages: paced, and held through the quiet hours. `SurveyService.send` is the
one way in (the console and the CLI call it)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from bot.db import to_db, transaction
from bot.people import Actor
from bot.services import Services
from bot.targeting import ALL, TargetError, parse_target
from handlers.enterprises.service import EnterpriseService, ProfileFilter
from handlers.surveys.model import SurveyRefused
from handlers.surveys.store import SENT, Survey, SurveyStore

__all__ = ["Audience", "Sent", "deliver"]

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


def deliver(
    app: Services, store: SurveyStore, survey: Survey, audience: Audience, by: Actor, now: datetime
) -> Sent:
    """Queue the invitations of a survey that may be sent (SurveyService.send checks that);
    raises SurveyRefused for a target that cannot be read, or nobody to send to."""
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
            if not store.add_send(
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
            if not store.add_send(
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
            store.set(survey.id, now, status=SENT, sent_at=to_db(now))
    log.info(
        "survey %s sent by %s: %d groups, %d contacts", survey.id, by.name,
        len(sent.groups), len(sent.contacts),
    )  # fmt: skip
    return sent
