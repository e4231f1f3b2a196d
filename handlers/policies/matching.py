"""Policies that find the enterprise: which profiles a policy's eligibility fits, and the
daily private push of matched policies and 申报截止 reminders.

A policy matches a profile when every dimension the policy names is satisfied by the
profile (industries, sizes: the profile's one value is among them; regions: the
profile's region lies in one of them; qualifications: the profile has at least one of
them). A policy naming no industry, size or qualification (only a region, or nothing) is
general unless `matching.region_alone_targets`: it stays in the group digests and reaches
a contact privately only when the contact subscribed (订阅) to one of its topics.

The daily run (`run_matching`, the `policy_matching` job at `matching.cron`), for each
enterprise that has had no message today, in one transaction per enterprise:

    new policies (published within `matching.since_days`, deadline not past) that match
    the profile and were never pushed to the enterprise (policy_pushes, kind match)
  + reminders: matched policies whose deadline is `matching.reminder_workdays` working
    days away or nearer (bot/workdays calendar), not yet reminded, not 已申报
  → per reachable contact (a profile contact with a chat id), filtered by the contact's
    topics (退订 / 退订全部), at most `matching.max_items` new policies (the rest go the
    next day): ONE private message, queued as a scheduled message (held through the
    quiet hours, paced by the sender like the digests)
  → policy_pushes and policy_push_days rows, committed with the outbox rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.db import to_db
from bot.services import Services
from bot.workdays import WorkCalendar
from handlers.enterprises.service import EnterpriseService, Profile
from handlers.policies.matching_rules import Eligibility, Rules, read_eligibility
from handlers.policies.matching_settings import matching_settings
from handlers.policies.matching_store import MATCH, REMINDER, RULES, MatchingStore
from policy_feeds.library import PolicyLibrary
from policy_feeds.model import Policy

__all__ = [
    "MatchReport",
    "ProfileLike",
    "matches",
    "refresh_eligibility",
    "reminder_day",
    "rules_for",
    "run_matching",
]

log = logging.getLogger(__name__)


class ProfileLike(Protocol):
    """What matching reads of a profile (handlers.enterprises.service.Profile)."""

    @property
    def industry(self) -> str | None: ...

    @property
    def size(self) -> str | None: ...

    @property
    def region(self) -> str | None: ...

    @property
    def qualifications(self) -> tuple[str, ...]: ...


def _same(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    return a == b or a.removesuffix("型") == b.removesuffix("型")


def _among(value: str | None, wanted: Sequence[str]) -> bool:
    return bool(value) and any(_same(str(value), w) for w in wanted)


def matches(rules: Rules, found: Eligibility, profile: ProfileLike) -> bool:
    """Whether the profile satisfies every dimension the policy names (and it names one)."""
    if not rules.targeted(found):
        return False
    if found.industries and not _among(profile.industry, found.industries):
        return False
    if found.sizes and not _among(profile.size, found.sizes):
        return False
    if found.regions and not any(
        rules.profile_in_region(profile.region or "", r) for r in found.regions
    ):
        return False
    return not found.qualifications or any(
        _among(q, found.qualifications) for q in profile.qualifications
    )


def rules_for(services: Services) -> Rules:
    regions = services.service(EnterpriseService).settings.regions
    return Rules(matching_settings(services.config), tuple(regions or ()))


def refresh_eligibility(services: Services, rules: Rules | None = None) -> int:
    """Read the eligibility of every policy that is new or changed since the rules last
    read it; rows staff edited are left alone. Returns how many were read."""
    rules = rules or rules_for(services)
    store = MatchingStore(services.db)
    library = services.service(PolicyLibrary).store
    stale = store.stale(rules.fingerprint)
    with services.db.atomic():
        for row in stale:
            policy = library.get(int(row["id"]))
            if policy is None:
                continue
            found = read_eligibility(
                rules, policy.title, policy.summary, policy.issuer, policy.published_at
            )
            store.save(
                policy.id,
                found,
                source=RULES,
                policy_updated_at=row["updated_at"],
                rules=rules.fingerprint,
            )
    return len(stale)


def reminder_day(calendar: WorkCalendar, deadline: date, workdays: int) -> date:
    """The working day `workdays` working days before the deadline."""
    day = deadline
    left = workdays
    while left > 0:
        day -= timedelta(days=1)
        if calendar.is_workday(day):
            left -= 1
    return day


@dataclass
class MatchReport:
    day: date
    #: enterprise id → the contacts a message was queued for
    messages: dict[int, list[str]] = field(default_factory=dict)
    pushed: int = 0
    reminded: int = 0


@dataclass(frozen=True)
class _Candidates:
    new: list[tuple[Policy, Eligibility]]
    general: list[Policy]
    deadlines: list[tuple[Policy, Eligibility]]


def _candidates(services: Services, rules: Rules, now: datetime) -> _Candidates:
    settings = matching_settings(services.config)
    library = services.service(PolicyLibrary).store
    found = MatchingStore(services.db).all_eligibility()
    today = now.date()
    since = now - timedelta(days=settings.since_days)
    recent = {p.id: p for p in library.candidates(since=since, limit=1000)}
    new: list[tuple[Policy, Eligibility]] = []
    general: list[Policy] = []
    for policy in recent.values():
        elig = found.get(policy.id)
        if elig is None or (elig.deadline and elig.deadline < today):
            continue
        if rules.targeted(elig):
            new.append((policy, elig))
        else:
            general.append(policy)
    deadlines: list[tuple[Policy, Eligibility]] = []
    for policy_id, elig in found.items():
        if rules.targeted(elig) and elig.deadline and elig.deadline >= today:
            stored = recent.get(policy_id) or library.get(policy_id)
            if stored is not None:
                deadlines.append((stored, elig))
    return _Candidates(new, general, deadlines)


def run_matching(services: Services) -> MatchReport:
    """One daily run (see the module docstring); a second run the same day sends nothing."""
    settings = matching_settings(services.config)
    now = services.clock.now().astimezone(services.config.tz)
    today = now.date()
    report = MatchReport(today)
    rules = rules_for(services)
    refresh_eligibility(services, rules)
    found = _candidates(services, rules, now)
    calendar = services.calendar_file.calendar
    due = [
        (p, e)
        for p, e in found.deadlines
        if e.deadline and reminder_day(calendar, e.deadline, settings.reminder_workdays) <= today
    ]
    store = MatchingStore(services.db)
    for profile in services.service(EnterpriseService).all():
        try:
            _push_one(services, store, rules, profile, found, due, now, report)
        except Exception:
            log.exception("policy matching: enterprise %s failed", profile.id)
    log.info(
        "policy matching %s: %d enterprises, %d policies, %d reminders",
        today,
        len(report.messages),
        report.pushed,
        report.reminded,
    )
    return report


def _push_one(
    services: Services,
    store: MatchingStore,
    rules: Rules,
    profile: Profile,
    found: _Candidates,
    due: list[tuple[Policy, Eligibility]],
    now: datetime,
    report: MatchReport,
) -> None:
    contacts = [c.contact_id for c in profile.contacts if c.contact_id]
    settings = matching_settings(services.config)
    today = now.date()
    if not contacts:
        return
    with services.db.atomic():
        if store.had_day(profile.id, today):
            return
        pushed = store.pushed(profile.id, MATCH)
        reminded = store.pushed(profile.id, REMINDER)
        applied = store.applied(profile.id)
        new = [p for p, e in found.new if p.id not in pushed and matches(rules, e, profile)]
        general = [p for p in found.general if p.id not in pushed]
        remind = [
            (p, e)
            for p, e in due
            if p.id not in reminded and p.id not in applied and matches(rules, e, profile)
        ]
        sent: dict[tuple[int, str], None] = {}
        queued: list[str] = []
        for contact in contacts:
            topics = store.topics(contact)
            items = [p for p in new if topics.wants(p.tags, True)]
            items += [p for p in general if topics.wants(p.tags, False)]
            items = items[: settings.max_items]
            reminders = [(p, e) for p, e in remind if topics.wants(p.tags, True)]
            if not items and not reminders:
                continue
            message = services.notices.to_contact(
                contact,
                "policy_matched",
                enterprise=profile.name,
                items=items,
                deadlines={p.id: e.deadline for p, e in found.new if e.deadline},
                reminders=[{"policy": p, "deadline": e.deadline} for p, e in reminders],
                applied_keyword=services.router.keyword("policy_applied"),
                unsubscribe_keyword=services.router.keyword("policy_unsubscribe"),
                today=now,
            )
            services.outbox.enqueue(
                [message],
                dedupe_key=f"matching:{profile.id}:{today.isoformat()}:{contact}",
                scheduled=True,
            )
            queued.append(contact)
            sent.update({(p.id, MATCH): None for p in items})
            sent.update({(p.id, REMINDER): None for p, _ in reminders})
        if not queued:
            return
        store.record_day(profile.id, today, list(sent), now)
    report.messages[profile.id] = queued
    report.pushed += sum(1 for _, kind in sent if kind == MATCH)
    report.reminded += sum(1 for _, kind in sent if kind == REMINDER)
    log.debug("policy matching: %s queued at %s", profile.name, to_db(now))
