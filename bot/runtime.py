"""Running the bot: one transport, the dispatcher, the outbox sender and the scheduler."""

from __future__ import annotations

import asyncio
import logging

from bot.app import App
from bot.dispatcher import Dispatcher
from bot.messages import Incoming, Outgoing
from bot.outbox import Sender
from bot.scheduler import build_scheduler, set_running_app
from bot.transports.base import Transport

__all__ = ["Runtime"]

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, app: App, transport: Transport) -> None:
        self.app = app
        self.transport = transport
        self.dispatcher = Dispatcher(app)
        self.sender = Sender(app.outbox, transport, app.config.pacing, self._delivery_failed)

    async def on_message(self, msg: Incoming) -> None:
        self.dispatcher.handle(msg)

    def _delivery_failed(self, out: Outgoing, reason: str) -> None:
        if out.conversation_id in self.app.config.staff_rooms:
            return  # do not report a failed report into the room that cannot receive it
        with self.app.db.atomic():
            self.app.outbox.enqueue(
                self.app.to_staff(
                    "delivery_failed",
                    conversation=out.conversation_id,
                    text=out.text[:60],
                    reason=reason,
                )
            )

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; the outbox keeps whatever was not delivered."""
        set_running_app(self.app)
        scheduler = build_scheduler(self.app)
        scheduler.start()
        sender = asyncio.create_task(self.sender.run())
        try:
            await self.transport.start(self.on_message)
            await stop.wait()
        finally:
            sender.cancel()
            scheduler.shutdown(wait=False)
            await self.transport.stop()
            set_running_app(None)
