"""The seam between the core and a chat network: what every adapter provides.

An adapter (channels/*) declares its channel name, delivers
inbound messages to `on_message`, and sends one `Outgoing` at a time, rendering its
mentions the network's way. Only adapters know a network's protocol and events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.messages import Incoming, Outgoing

__all__ = [
    "Names",
    "OnMessage",
    "Transport",
    "TransportError",
    "first_connection",
    "mention_prefix",
    "until_ready",
]

OnMessage = Callable[[Incoming], Awaitable[None]]
#: a contact's display name by id (the adapter renders mentions with it)
Names = Callable[[str], str]


class TransportError(Exception):
    """A send that did not go through. `permanent`: retrying cannot help. `unknown`: it
    may have been delivered all the same (no answer came); never retried. `retry_after`:
    the network refused it for now (a rate limit) and it must wait that many seconds; it
    was not delivered, is retried then, and such a refusal never fails the message. `held`:
    a reply window is closed: kept (`Outbox.release`), never failed for it."""

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool = False,
        unknown: bool = False,
        retry_after: float | None = None,
        held: bool = False,
    ) -> None:
        super().__init__(reason)
        self.permanent, self.unknown, self.held = permanent or unknown, unknown, held
        self.retry_after = None if self.permanent else retry_after


class Transport(Protocol):
    channel: str

    async def start(self, on_message: OnMessage) -> None:
        """Connect and begin delivering inbound messages to `on_message`."""
        ...

    async def send(self, out: Outgoing) -> None:
        """Deliver one message or raise TransportError."""
        ...

    async def stop(self) -> None: ...


def mention_prefix(out: Outgoing, names: Names, separator: str = "\u2005") -> str:
    """`@name` + separator for each mention, as WeChat shows a real @mention."""
    return "".join(f"@{names(m)}{separator}" for m in out.mention_ids)


async def first_connection(
    first: asyncio.Future[None],
    within: float,
    stop: Callable[[], Awaitable[None]],
    too_slow: Callable[[], Exception],
) -> None:
    """An adapter's start: wait for its first connection; a refusal (the future's error)
    or no answer `within` seconds (`too_slow()`) stops the adapter and is raised."""
    try:
        async with asyncio.timeout(within):
            await first
    except TimeoutError:
        await stop()
        raise too_slow() from None
    except Exception:
        await stop()
        raise


async def until_ready(ready: asyncio.Event, closing: asyncio.Event) -> None:
    """Wait until a send may go (`ready`); TransportError once the adapter is closing."""
    if not ready.is_set() and not closing.is_set():
        waits = [asyncio.ensure_future(e.wait()) for e in (ready, closing)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
    if closing.is_set():
        raise TransportError("the bot is stopping")
