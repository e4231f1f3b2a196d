"""Transport-neutral messages: what the core receives and what it asks to send.

Every message carries its channel (`wechat`, `wecom_bot`, `console`, `test` …): a
conversation id is only unique within its channel. Mentions travel as contact ids; each
transport renders them its own way (WeChat writes `@name` plus a narrow space in front of
the text, WeCom `<@userid>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

__all__ = ["DEFAULT_CHANNEL", "Choice", "Incoming", "Outgoing", "Role"]

DEFAULT_CHANNEL = "wechat"


class Role(IntEnum):
    """What a contact may do; higher values include the lower ones."""

    MEMBER = 0
    STAFF = 1
    ADMIN = 2


@dataclass(frozen=True)
class Incoming:
    """One message as a transport delivers it."""

    message_id: str
    conversation_id: str
    is_group: bool
    sender_id: str
    sender_name: str
    text: str
    time: datetime
    room_topic: str | None = None
    mentions_bot: bool = False
    channel: str = DEFAULT_CHANNEL
    # read back from the inbound journal (bot/journal.py): handling marks its row
    journalled: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Choice:
    """An answer a message offers: a button where the channel has them (WeCom cards), its
    `command` delivered as if the person had typed it; elsewhere the text says what to type."""

    label: str
    command: str


@dataclass(frozen=True)
class Outgoing:
    """One message the bot wants delivered; mention_ids become real @mentions; `choices`
    (from the template's `choices`) become buttons on a channel that has them.

    `reply_to` is the id of the inbound message it answers, if any: a channel whose
    network threads replies (WeCom's AI bot answers on the callback) may use it; the
    others ignore it."""

    conversation_id: str
    text: str
    mention_ids: tuple[str, ...] = field(default=())
    channel: str = DEFAULT_CHANNEL
    choices: tuple[Choice, ...] = field(default=())
    reply_to: str | None = field(default=None, compare=False)
