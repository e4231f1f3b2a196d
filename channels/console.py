"""The console transport: what the bot sends is printed, labelled by conversation. It has
buttons, shown as numbered choices under the message (as a WeCom card would carry them);
the demo's `/1`, `/2` … press one on the conversation's latest card (`choices`)."""

from __future__ import annotations

from collections.abc import Callable

from bot.messages import Choice, Outgoing
from bot.transport import Names, OnMessage, mention_prefix

__all__ = ["ConsoleTransport"]


class ConsoleTransport:
    channel = "wechat"  # the demo plays the WeChat groups of the demo config

    def __init__(
        self,
        write: Callable[[str], None],
        label: Callable[[str], str],
        bot_name: str,
        names: Names,
        render: Callable[..., str],
    ) -> None:
        self.write = write
        self.label = label
        self.bot_name = bot_name
        self.names = names
        self.render = render
        self.on_message: OnMessage | None = None
        self.cards: dict[str, tuple[Choice, ...]] = {}  # conversation → its latest buttons

    def choices(self, conversation_id: str) -> tuple[Choice, ...]:
        return self.cards.get(conversation_id, ())

    async def start(self, on_message: OnMessage) -> None:
        self.on_message = on_message

    async def send(self, out: Outgoing) -> None:
        text = mention_prefix(out, self.names) + out.text
        head = f"  [{self.label(out.conversation_id)}] {self.bot_name}："
        if out.choices:
            self.cards[out.conversation_id] = out.choices
            text += "\n" + self.render("console_choices", choices=out.choices)
        # Continuation lines start under the first line's text, not at the margin.
        self.write(head + text.replace("\n", "\n    "))

    async def stop(self) -> None:
        self.on_message = None
