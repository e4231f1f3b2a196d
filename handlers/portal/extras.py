"""The member page's sections that other features fill: open surveys (handlers/surveys)
and the policies matched to the member's enterprise (handlers/policies).

Each is one function from the member to the rows the home page lists; wiring a feature in
is one import and one call here (its service, found by type as everywhere else).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.services import Services
from handlers.policies.matching_service import PolicyMatching
from handlers.portal.service import PREFIX
from handlers.surveys.service import SurveyService

__all__ = ["Item", "matched_policies", "open_surveys"]


@dataclass(frozen=True)
class Item:
    """One row of a section: a title, a line under it, and where it leads (a path on this
    site, or an address the feature gives)."""

    title: str
    note: str = ""
    href: str = ""


def open_surveys(app: Services, contact_id: str) -> list[Item]:
    """The surveys the member may still answer (the surveys feature), each to its page."""
    return [
        Item(s.title, app.templates.render("portal_survey_note", survey=s).strip(), href(s.id))
        for s in app.service(SurveyService).open_for(contact_id)
    ]


def href(survey_id: int) -> str:
    return f"{PREFIX}/surveys/{survey_id}"


def matched_policies(app: Services, contact_id: str) -> list[Item]:
    """The policies matched to the member's enterprise (policy matching), newest first,
    each with its application deadline and whether the enterprise said 已申报."""
    return [
        Item(m.policy.title, app.templates.render("portal_policy_note", m=m).strip(), m.policy.url)
        for m in PolicyMatching(app).matched_for(contact_id)
    ]
