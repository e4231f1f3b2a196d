"""Staff actions on a case: the case service's intent methods, as the logged-in staff member.

The same rules and notices as chat: the actor on the timeline is the web user's staff
contact; a `Refusal` comes back as the same polite sentence chat would give; the notices
(the update in the enterprise's group, the staff rooms, an assignee) go into the durable
outbox in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.cases import Actor, Case
from bot.messages import Outgoing
from bot.refusal import Refusal
from bot.services import Services

__all__ = ["ACTIONS", "ActionResult", "run_action"]

ACTIONS = ("claim", "assign", "transfer", "answer", "resolve", "escalate", "note")


@dataclass(frozen=True)
class ActionResult:
    refusal: str = ""  # the polite refusal, as chat says it
    changed: bool = True
    queued: list[Outgoing] = field(default_factory=list)


def run_action(
    services: Services, contact_id: str, action: str, case: Case, choice: str, text: str
) -> ActionResult:
    """Run one intent (`answer`, `resolve` …) on `case` as staff member `contact_id`."""
    cases = services.cases
    actor = Actor(contact_id, services.people.staff_name(contact_id))
    now = services.clock.now()
    try:
        with services.db.atomic():
            if action == "claim":
                outcome = cases.claim(case, actor, now)
            elif action == "assign":
                outcome = cases.assign(case, actor, choice, text, now)
            elif action == "transfer":
                outcome = cases.transfer(case, actor, choice, text, now)
            elif action == "answer":
                outcome = cases.answer(case, actor, text, now)
            elif action == "resolve":
                outcome = cases.resolve(case, actor, text, now)
            elif action == "escalate":
                outcome = cases.escalate(case, actor, text, now)
            else:
                outcome = cases.note(case, actor, text, now)
            services.outbox.enqueue(outcome.notices)
    except Refusal as refusal:
        text = services.templates.render(refusal.template, **refusal.context)
        return ActionResult(refusal=text, changed=False)
    return ActionResult(changed=outcome.changed, queued=outcome.notices)
