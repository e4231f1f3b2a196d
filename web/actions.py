"""Staff actions on a case, through the very handlers the staff room uses.

The web page composes the command a staff member would type (`回复 2026-0001 …`) and
runs the chat route as that staff member in their private chat with the bot: the same
lookups, rules, timeline events and notices. What the handler says back to the staff
member is shown on the page instead of being sent to WeChat; everything else (the
update in the enterprise's group, the notices to staff rooms or to an assignee) goes
into the durable outbox in the same transaction as the handler's writes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot.app import App
from bot.messages import Incoming, Outgoing
from bot.router import Context

__all__ = ["ACTIONS", "ActionResult", "run_action"]

# web action → chat command; "answer" is 回复, "resolve" 办结, …
ACTIONS = ("claim", "assign", "transfer", "answer", "resolve", "escalate", "note")


@dataclass(frozen=True)
class ActionResult:
    replies: list[str]  # what the chat would have said to the staff member
    queued: list[Outgoing]  # what went into the outbox for others
    refused: bool = False


def run_action(app: App, contact_id: str, command: str, args: str) -> ActionResult:
    """Run chat command `command` with `args` as staff member `contact_id`."""
    route = app.router.by_command[command]
    text = f"{app.router.keyword(command)} {args}".strip()
    msg = Incoming(
        message_id=f"web-{secrets.token_hex(8)}",
        conversation_id=contact_id,
        is_group=False,
        sender_id=contact_id,
        sender_name=app.staff_name(contact_id),
        text=text,
        time=app.clock.now(),
    )
    ctx = Context(app, msg, app.role_of(msg), args, route=route)
    if ctx.role < route.role:
        reply = ctx.say("refuse_staff", usage=app.router.usage(route))
        return ActionResult([reply.text], [], refused=True)
    with app.db.atomic():
        outs = route.handler(ctx)
        mine = [o for o in outs if o.conversation_id == contact_id]
        others = [o for o in outs if o.conversation_id != contact_id]
        app.outbox.enqueue(others)
    return ActionResult([o.text for o in mine], others)
