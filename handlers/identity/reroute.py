"""A status push its channel holds goes to the person's most recently active linked channel.

A channel may hold a message it cannot deliver now (微信客服: the reply window is closed;
the outbox row is `held`, see bot/outbox.py). A held row to a linked contact's private chat
that is a case's status push (its number in the text, into the case's conversation) is
released to the person's most recently active other contact (`IdentityService.links`),
prefixed with where it was meant to go, and the case's timeline records it (改送其他渠道).
Rows of unlinked contacts, and held messages that are not a case's push, stay held for
their channel. The job runs every `sweep_interval_seconds`, as the deadline sweep does.
"""

from __future__ import annotations

import logging

from apscheduler.triggers.interval import IntervalTrigger

from bot.db import transaction
from bot.feature import JobSpec
from bot.messages import Outgoing
from bot.scheduler import running_services
from bot.services import Services
from handlers.cases.service import CaseService
from handlers.identity.service import IdentityService

__all__ = ["JOBS", "reroute_held"]

log = logging.getLogger(__name__)


def reroute_held(services: Services) -> int:
    """Release each held case push of a linked contact to another linked channel; how many."""
    rows = services.db.execute(
        "select o.id, o.channel, o.conversation_id, o.text, p.contact_id, o.error from outbox o"
        " join person_contacts p on p.conversation_id = o.conversation_id"
        " and p.channel = o.channel where o.status = 'held' order by o.id"
    ).fetchall()
    identity, cases = services.service(IdentityService), services.service(CaseService)
    moved = 0
    for row_id, channel, conversation_id, text, contact_id, reason in rows:
        case = cases.pushed(channel, conversation_id, text)
        targets = [
            x
            for x in identity.links(contact_id)
            if (x.channel, x.conversation_id) != (channel, conversation_id)
        ]
        if case is None or not targets:
            continue
        to = targets[0]
        now = services.clock.now()
        shown = services.templates.render("identity_rerouted", origin=channel, text=text)
        out = Outgoing(to.conversation_id, shown.strip(), channel=to.channel)
        with transaction(services.db):
            services.outbox.release([row_id], [out])
            note = services.templates.render(
                "identity_rerouted_event", origin=channel, to=to.channel, reason=reason or ""
            )
            cases.rerouted(case, note.strip(), channel, to.channel, now)
        log.info(
            "held push %s for case %s rerouted %s -> %s", row_id, case.number, channel, to.channel
        )
        moved += 1
    return moved


async def reroute_job() -> None:
    """What APScheduler runs every `sweep_interval_seconds`."""
    reroute_held(running_services())


def _jobs(services: Services) -> list[JobSpec]:
    seconds = services.config.sweep_interval_seconds
    trigger = IntervalTrigger(seconds=seconds, timezone=services.config.tz)
    return [JobSpec("identity_reroute", "handlers.identity.reroute:reroute_job", trigger)]


JOBS = _jobs
