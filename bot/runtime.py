"""Running the bot: its transports, the dispatcher, one outbox sender per channel and
the scheduler. Knows no network: each transport is an adapter (channels/*)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot.dispatcher import Dispatcher
from bot.messages import Incoming, Outgoing
from bot.scheduler import build_scheduler, set_running_services
from bot.sender import Sender
from bot.services import Services
from bot.transport import Transport

__all__ = ["Companion", "Runtime", "serve_until_signalled"]

log = logging.getLogger(__name__)

# A service that runs next to the transports in the same event loop until `stop` is set
# (the web console); the composition root adds them to `Runtime.companions`.
Companion = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class Runtime:
    def __init__(self, services: Services, transports: Sequence[Transport]) -> None:
        self.services = services
        self.transports = list(transports)
        self.dispatcher = Dispatcher(services)
        self.senders = [
            Sender(
                services.outbox,
                t,
                services.config.pacing_for(t.channel),
                self._delivery_failed,
                on_unknown=self._delivery_unknown,
            )
            for t in self.transports
        ]
        self.companions: list[Companion] = []

    @property
    def sender(self) -> Sender:
        """The first channel's sender (the console demo has just one)."""
        return self.senders[0]

    async def on_message(self, msg: Incoming) -> None:
        self.dispatcher.handle(msg)

    def _delivery_failed(self, out: Outgoing, reason: str) -> None:
        self._tell_staff("delivery_failed", out, reason)

    def _delivery_unknown(self, out: Outgoing, reason: str) -> None:
        """Cut off mid-send: it may have arrived (未确认送达), which is not a failure."""
        self._tell_staff("delivery_unknown", out, reason)

    def _tell_staff(self, template: str, out: Outgoing, reason: str) -> None:
        s = self.services
        if s.people.is_staff_room(out.conversation_id):
            return  # do not report a failed report into the room that cannot receive it
        where = s.places.name(out.conversation_id)
        with s.db.atomic():
            s.outbox.enqueue(
                s.notices.to_staff(
                    template,
                    conversation=where,
                    text=out.text[:60],
                    reason=reason,
                    network=out.channel,
                )
            )

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; the outbox keeps whatever was not delivered."""
        set_running_services(self.services)
        scheduler = build_scheduler(self.services)
        scheduler.start()
        senders = [asyncio.create_task(sender.run()) for sender in self.senders]
        companions = [asyncio.create_task(c(stop)) for c in self.companions]
        try:
            for transport in self.transports:
                await transport.start(self.on_message)
            await stop.wait()
        finally:
            stop.set()
            for task in companions:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # The transports first: each lets a send in flight finish and releases a held
            # one as a temporary failure, so no row is left claimed mid-send.
            for transport in self.transports:
                await transport.stop()
            for task in senders:
                task.cancel()
            for task in senders:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            scheduler.shutdown(wait=False)
            set_running_services(None)
            queued = self.services.outbox.pending_count()
            log.info("stopped cleanly; %d messages stay queued in the outbox", queued)


async def serve_until_signalled(runtime: Runtime) -> None:
    """Serve until SIGINT or SIGTERM; then stop cleanly (the outbox keeps what is left)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping(sig: signal.Signals) -> None:
        log.info("%s received: shutting down", sig.name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping, sig)
    log.info("chamberbot started (pid %d)", os.getpid())
    try:
        await runtime.serve(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
