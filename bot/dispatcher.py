"""The durable flow: inbound recorded once → handler → replies into the outbox, one transaction."""

from __future__ import annotations

import logging

from bot.app import App
from bot.db import to_db
from bot.messages import Incoming, Outgoing, Role
from bot.normalize import strip_address
from bot.router import Context

__all__ = ["Dispatcher"]

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, app: App) -> None:
        self.app = app

    def handle(self, msg: Incoming) -> list[Outgoing]:
        """Handle one inbound message exactly once; returns the replies it queued."""
        app = self.app
        with app.db.atomic():
            inserted = app.db.execute(
                "insert or ignore into inbound (message_id, conversation_id, sender_id,"
                " received_at, status) values (?, ?, ?, ?, 'handled')",
                [msg.message_id, msg.conversation_id, msg.sender_id, to_db(app.clock.now())],
            ).rowcount
            if not inserted:
                log.info("duplicate message %s ignored", msg.message_id)
                return []
            app.remember_conversation(msg)
            app.remember_contact(msg.sender_id, name=msg.sender_name)
            try:
                with app.db.atomic():
                    outs = self._route(msg)
            except Exception:
                log.exception("handler failed on message %s", msg.message_id)
                app.db.execute(
                    "update inbound set status = 'error' where message_id = ?", [msg.message_id]
                )
                outs = [self._context(msg, "").say("error")] if self._addressed(msg) else []
            app.outbox.enqueue(outs)
        return outs

    @staticmethod
    def _addressed(msg: Incoming) -> bool:
        return not msg.is_group or msg.mentions_bot

    def _context(self, msg: Incoming, args: str) -> Context:
        return Context(self.app, msg, self.app.role_of(msg), args)

    def _route(self, msg: Incoming) -> list[Outgoing]:
        app = self.app
        text = strip_address(msg.text)
        found = app.router.match(text, loose=not msg.is_group)
        if found is None:
            return self._not_a_command(msg, text)
        route, _keyword, args = found
        app.sessions.clear(msg.conversation_id, msg.sender_id)
        ctx = self._context(msg, args)
        ctx.route = route
        if ctx.role < route.role:
            template = "refuse_admin" if route.role == Role.ADMIN else "refuse_staff"
            return [ctx.say(template, usage=app.router.usage(route))]
        if route.staff_place_only and not app.is_staff_place(msg.conversation_id):
            return [ctx.say("refuse_place", usage=app.router.usage(route))]
        return route.handler(ctx)

    def _not_a_command(self, msg: Incoming, text: str) -> list[Outgoing]:
        """A pending prompt's answer, an expired prompt, or something we did not understand."""
        app = self.app
        now = app.clock.now()
        prompt = app.sessions.get(msg.conversation_id, msg.sender_id, now)
        ctx = self._context(msg, text)
        if prompt is not None:
            # The answer to the bot's question, or a late one: say so rather than drop it.
            app.sessions.clear(msg.conversation_id, msg.sender_id)
            if prompt.expired:
                return [ctx.say("prompt_expired", state=prompt.state, data=prompt.data)]
            ctx.prompt = prompt.data
            return app.router.prompts[prompt.state](ctx)
        if not ctx.addressed:
            return []
        if not text:
            return [ctx.say("hello", menu=app.router.keyword("menu"))]
        guess = app.router.mentioned_in(text)
        return [
            ctx.say(
                "unknown",
                text=text[:20],
                menu=app.router.keyword("menu"),
                guess=app.router.usage(guess) if guess else None,
            )
        ]
