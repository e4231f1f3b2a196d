"""Staff actions on a case from the console: the cases feature's staff action table
(handlers/cases/actions.py), run as the logged-in staff member.

The same rules, refusals and notices as chat, by the same path as the dispatcher: one
transaction (`bot.db.transaction`) holds the staff check, the intent and the notices it
queues in the durable outbox; a `Refusal` rolls it back and comes back as the sentence its
template says, as chat would say it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db import transaction
from bot.refusal import Refusal
from bot.services import Services
from handlers.cases.actions import Asked, perform, staff_actor
from handlers.cases.service import Case, CaseService

__all__ = ["ActionResult", "refusal_text", "run_action"]


@dataclass(frozen=True)
class ActionResult:
    refusal: str = ""  # the polite refusal, as chat says it
    changed: bool = True
    case: Case | None = None  # the case after the intent
    previous: Case | None = None


def refusal_text(services: Services, refusal: Refusal) -> str:
    """A refusal in the words of its template (the chat's wording)."""
    return services.templates.render(refusal.template, **refusal.context)


def run_action(
    services: Services, contact_id: str | None, name: str, case: Case, asked: Asked
) -> ActionResult:
    """Run staff action `name` on `case` as the staff member `contact_id`."""
    try:
        with transaction(services.db):
            actor = staff_actor(services.people, contact_id)
            cases = services.service(CaseService)
            outcome = perform(cases, name, case, actor, asked, services.clock.now())
            services.outbox.enqueue(outcome.notices)
    except Refusal as refusal:
        return ActionResult(refusal=refusal_text(services, refusal), changed=False)
    return ActionResult(changed=outcome.changed, case=outcome.case, previous=outcome.previous)
