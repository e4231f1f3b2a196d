"""The test transport (like Errbot's): push a message in, pop what was actually sent.

What it records is what a network would have received: the outbox row (after phone
masking), with mentions rendered as WeChat renders them, and its choices (buttons).
`deliver` drains due rows of its channel through the real outbox (claim → send → mark
sent), without pacing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar

from bot.messages import DEFAULT_CHANNEL, Outgoing
from bot.outbox import Outbox
from bot.transport import Names, OnMessage, mention_prefix

__all__ = ["TestTransport"]


@dataclass
class TestTransport:
    __test__: ClassVar[bool] = False  # not a pytest test class

    names: Names
    channel: str = DEFAULT_CHANNEL
    received: list[Outgoing] = field(default_factory=list)
    on_message: OnMessage | None = None

    async def start(self, on_message: OnMessage) -> None:
        self.on_message = on_message

    async def send(self, out: Outgoing) -> None:
        self.record(out)

    async def stop(self) -> None:
        self.on_message = None

    def record(self, out: Outgoing) -> Outgoing:
        text = mention_prefix(out, self.names) + out.text
        shown = replace(out, text=text)
        self.received.append(shown)
        return shown

    def deliver(self, outbox: Outbox, after_id: int = 0) -> list[Outgoing]:
        """Send every due row of this channel queued after `after_id`, in order."""
        sent: list[Outgoing] = []
        for item in outbox.due(outbox.clock.now(), self.channel, after_id):
            if outbox.claim(item.id):
                sent.append(self.record(item.out))
                outbox.mark_sent(item.id)
        return sent

    def pop(self) -> list[Outgoing]:
        """What was received since the last pop."""
        out, self.received = self.received, []
        return out
