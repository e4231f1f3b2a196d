"""The durable flow: inbound recorded once → handler → replies into the outbox, one transaction.

The same transaction marks the message's row of the inbound journal (bot/journal.py)
handled, so a journalled message is handled exactly once across kills and restarts.

A handler leaves early by raising `Refusal`; the dispatcher says its template. A handler
that fails rolls the whole transaction back; a second one records the message (status
error) and queues the asker's apology, and a third tells the staff rooms, so the notice
survives whatever failed. One transaction per message, no savepoint on the hot path.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.db import to_db, transaction
from bot.journal import mark_handled
from bot.messages import Incoming, Outgoing, Role
from bot.normalize import strip_address
from bot.refusal import Refusal
from bot.router import Context, Route
from bot.services import Services

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, services: Services) -> None:
        self.services = services

    def handle(self, msg: Incoming) -> list[Outgoing]:
        """Handle one inbound message exactly once; returns the replies it queued."""
        s = self.services
        if s.db.conn.in_transaction:  # a failure must roll back this message alone
            raise RuntimeError("Dispatcher.handle runs in a transaction of its own")
        try:
            with transaction(s.db):
                if not self._record(msg, "handled"):
                    log.info("duplicate message %s ignored", msg.message_id)
                    return []
                outs = self._route(msg)
                s.outbox.enqueue(outs)
            return outs
        except Exception:
            log.exception("handler failed on message %s", msg.message_id)
        # Rolled back, handler and all: the memos may be ahead of the tables.
        s.people.forget()
        s.places.forget()
        s.sessions.forget()
        with transaction(s.db):
            if not self._record(msg, "error"):
                return []
            outs = [self._context(msg, "").say("error")] if self._addressed(msg) else []
            s.outbox.enqueue(outs)
        self._tell_staff_of_failure(msg)
        return outs

    def _record(self, msg: Incoming, status: str) -> bool:
        """The message's id in `inbound` (and its journal row handled), its conversation
        and sender remembered; False if it was seen before."""
        s = self.services
        inserted = s.db.conn.execute(
            "insert or ignore into inbound (message_id, channel, conversation_id, sender_id,"
            " received_at, status) values (?, ?, ?, ?, ?, ?)",
            (
                msg.message_id,
                msg.channel,
                msg.conversation_id,
                msg.sender_id,
                to_db(s.clock.now()),
                status,
            ),
        ).rowcount
        mark_handled(s.db, msg)  # a journalled duplicate is done too
        if not inserted:
            return False
        s.places.remember(msg)
        s.people.remember(msg.sender_id, name=msg.sender_name, channel=msg.channel)
        return True

    def _tell_staff_of_failure(self, msg: Incoming) -> None:
        """error.j2 promises 已通知工作人员: keep the promise."""
        s = self.services
        where = s.places.topic(msg.conversation_id) if msg.is_group else None
        notices = s.notices.to_staff(
            "error_staff", where=where, who=s.people.name(msg.sender_id), text=msg.text[:40]
        )
        with s.db.atomic():
            s.outbox.enqueue(notices, dedupe_key=f"error:{msg.message_id}")

    def _addressed(self, msg: Incoming) -> bool:
        """Private, @-mentioned, or starting with a command keyword (SPEC: addressed)."""
        if not msg.is_group or msg.mentions_bot:
            return True
        return self.services.router.match(strip_address(msg.text), loose=False) is not None

    def _context(self, msg: Incoming, args: str) -> Context:
        return Context(self.services, msg, self.services.people.role_of(msg), args)

    def _route(self, msg: Incoming) -> list[Outgoing]:
        s = self.services
        text = strip_address(msg.text)
        found = s.router.match(text, loose=not msg.is_group)
        if found is None:
            return self._not_a_command(msg, text)
        route, _keyword, args = found
        s.sessions.clear(msg.conversation_id, msg.sender_id)
        ctx = self._context(msg, args)
        ctx.route = route
        if ctx.role < route.role:
            template = "refuse_admin" if route.role == Role.ADMIN else "refuse_staff"
            return [ctx.say(template, usage=s.router.usage(route))]
        if route.staff_place_only and not ctx.in_staff_place:
            return [ctx.say("refuse_place", usage=s.router.usage(route))]
        return self._run(ctx, route)

    def _run(self, ctx: Context, route: Route) -> list[Outgoing]:
        try:
            found: dict[str, Any] = {}
            for check in route.filters:
                passed = check(ctx)
                if passed is False:
                    raise ctx.refuse_usage(understood=ctx.args.strip()[:20])
                if isinstance(passed, dict):
                    found.update(passed)
            return route.handler(ctx, **found)
        except Refusal as refusal:
            context = {"usage": ctx.usage_line(), **refusal.context}
            return [ctx.say(refusal.template, **context)]

    def _not_a_command(self, msg: Incoming, text: str) -> list[Outgoing]:
        """A pending prompt's answer, an expired prompt, or something we did not understand."""
        s = self.services
        now = s.clock.now()
        prompt = s.sessions.get(msg.conversation_id, msg.sender_id, now)
        ctx = self._context(msg, text)
        if prompt is not None:
            # The answer to the bot's question, or a late one: say so rather than drop it.
            s.sessions.clear(msg.conversation_id, msg.sender_id)
            if prompt.expired:
                return [ctx.say("prompt_expired", state=prompt.state, data=prompt.data)]
            ctx.prompt = prompt.data
            try:
                return s.router.prompts[prompt.state](ctx)
            except Refusal as refusal:
                return [ctx.say(refusal.template, **refusal.context)]
        if not ctx.addressed:
            return []
        if not text:
            return [ctx.say("hello")]
        guess = s.router.mentioned_in(text)
        return [ctx.say("unknown", text=text[:20], guess=s.router.usage(guess) if guess else None)]
