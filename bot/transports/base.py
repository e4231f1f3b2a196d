"""The seam between the core and a chat network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.messages import Incoming, Outgoing

__all__ = ["OnMessage", "Transport", "TransportError"]

OnMessage = Callable[[Incoming], Awaitable[None]]


class TransportError(Exception):
    """A send that did not go through. `permanent`: retrying cannot help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Transport(Protocol):
    async def start(self, on_message: OnMessage) -> None:
        """Connect and begin delivering inbound messages to `on_message`."""
        ...

    async def send(self, out: Outgoing) -> None:
        """Deliver one message or raise TransportError."""
        ...

    async def stop(self) -> None: ...
