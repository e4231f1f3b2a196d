"""Transport-neutral messages: what the core receives and what it asks to send."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

__all__ = ["Incoming", "Outgoing", "Role"]


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


@dataclass(frozen=True)
class Outgoing:
    """One message the bot wants delivered; mention_ids become real @mentions."""

    conversation_id: str
    text: str
    mention_ids: tuple[str, ...] = field(default=())
