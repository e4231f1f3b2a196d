"""Staff actions on a case: the case service's intent methods, as the logged-in staff member.

The same rules and notices as chat: the actor on the timeline is the web user's staff
contact; a `Refusal` comes back as the same polite sentence chat would give; the notices
(the update in the enterprise's group, the staff rooms, an assignee) go into the durable
outbox in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Outgoing
from bot.refusal import Refusal
from bot.services import Services
from handlers.cases import CaseService
from handlers.cases.service import Actor, Case

__all__ = ["ACTIONS", "ActionResult", "run_action"]

ACTIONS = ("claim", "assign", "transfer", "answer", "resolve", "escalate", "note", "reclassify")


@dataclass(frozen=True)
class ActionResult:
    refusal: str = ""  # the polite refusal, as chat says it
    changed: bool = True
    queued: list[Outgoing] = field(default_factory=list)
    case: Case | None = None  # the case after the intent
    previous: Case | None = None


def run_action(
    services: Services,
    contact_id: str,
    action: str,
    case: Case,
    choice: str,
    text: str,
    *,
    new_deadline: bool = False,
) -> ActionResult:
    """Run one intent (`answer`, `resolve` …) on `case` as staff member `contact_id`.

    `choice` is the assignee, the department, or `分类[/方面]` for `reclassify` (whose due
    date follows the new category's limit only with `new_deadline`)."""
    cases = services.service(CaseService)
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
            elif action == "reclassify":
                category, _, aspect = choice.partition("/")
                outcome = cases.reclassify(
                    case, actor, category, aspect, now, new_deadline=new_deadline
                )
            else:
                outcome = cases.note(case, actor, text, now)
            services.outbox.enqueue(outcome.notices)
    except Refusal as refusal:
        text = services.templates.render(refusal.template, **refusal.context)
        return ActionResult(refusal=text, changed=False)
    return ActionResult(
        changed=outcome.changed,
        queued=outcome.notices,
        case=outcome.case,
        previous=outcome.previous,
    )
