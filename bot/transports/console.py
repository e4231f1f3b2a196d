"""The console transport: what the bot sends is printed, labelled by conversation."""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Outgoing
from bot.transports.base import OnMessage

__all__ = ["ConsoleTransport"]


class ConsoleTransport:
    def __init__(
        self, write: Callable[[str], None], label: Callable[[str], str], bot_name: str
    ) -> None:
        self.write = write
        self.label = label
        self.bot_name = bot_name
        self.on_message: OnMessage | None = None

    async def start(self, on_message: OnMessage) -> None:
        self.on_message = on_message

    async def send(self, out: Outgoing) -> None:
        self.write(f"  [{self.label(out.conversation_id)}] {self.bot_name}：{out.text}")

    async def stop(self) -> None:
        self.on_message = None
