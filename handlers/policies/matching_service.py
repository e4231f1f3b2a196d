"""What the member page (handlers/portal) and the chat commands ask of matching.

`PolicyMatching(services)` is cheap to build (it holds nothing but the services); the
portal imports this module only (the independence contract allows
`handlers.** -> handlers.policies.matching_service`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.services import Services
from handlers.enterprises.service import EnterpriseService, Profile
from handlers.policies.matching import matches, refresh_eligibility, rules_for
from handlers.policies.matching_store import MatchingStore
from policy_feeds.library import PolicyLibrary
from policy_feeds.model import Policy

__all__ = ["MatchedPolicy", "PolicyMatching"]


@dataclass(frozen=True)
class MatchedPolicy:
    """One policy matched to the member's enterprise."""

    policy: Policy
    deadline: date | None  # the application deadline, when the policy states one
    applied: bool  # the enterprise said 已申报


class PolicyMatching:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.store = MatchingStore(services.db)

    def profile_of(self, contact_id: str) -> Profile | None:
        return self.services.service(EnterpriseService).of_contact(contact_id)

    def matched(self, profile: Profile, *, open_only: bool = True) -> list[MatchedPolicy]:
        """The policies matching the profile, newest first; with open_only, not those
        whose deadline has passed."""
        rules = rules_for(self.services)
        refresh_eligibility(self.services, rules)
        today = self.services.clock.now().astimezone(self.services.config.tz).date()
        applied = self.store.applied(profile.id)
        library = self.services.service(PolicyLibrary).store
        out: list[MatchedPolicy] = []
        for policy_id, found in self.store.all_eligibility().items():
            if open_only and found.deadline and found.deadline < today:
                continue
            if not matches(rules, found, profile):
                continue
            policy = library.get(policy_id)
            if policy is not None:
                out.append(MatchedPolicy(policy, found.deadline, policy.id in applied))
        out.sort(
            key=lambda m: (m.policy.published_at is not None, m.policy.published_at, m.policy.id),
            reverse=True,
        )
        return out

    def matched_for(self, contact_id: str) -> list[MatchedPolicy]:
        """The policies matched to the enterprise the contact speaks for (none without
        one): newest first, each with its deadline and whether the enterprise applied."""
        profile = self.profile_of(contact_id)
        return self.matched(profile) if profile else []
