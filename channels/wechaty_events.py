"""What the Wechaty transport tells the application besides messages, and its small helpers.

No gRPC here: the application side (bot.runtime) implements `GatewayEvents` without
importing the gateway client.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

__all__ = [
    "Contact",
    "GatewayEvents",
    "GatewayStartError",
    "RoomInfo",
    "mentions_name",
    "message_time",
    "parse_endpoint",
    "strip_mentions",
]


class GatewayStartError(Exception):
    """The gateway could not be reached or refused us at start-up; the message says why."""


@dataclass(frozen=True)
class Contact:
    id: str
    name: str


@dataclass(frozen=True)
class RoomInfo:
    id: str
    topic: str
    member_count: int


class GatewayEvents(Protocol):
    """Room and friendship events, in the order the gateway sent them.

    `key` identifies one event, so that an event delivered twice acts once.
    """

    def bot_joined_room(self, room_id: str, topic: str, inviter_id: str) -> None: ...

    def members_joined(
        self, room_id: str, topic: str, members: Sequence[Contact], inviter_id: str, key: str
    ) -> None: ...

    def room_topic_changed(self, room_id: str, topic: str) -> None: ...

    def accept_room_invitation(self, inviter_id: str, topic: str) -> bool: ...

    def accept_friend_request(self, contact_id: str, hello: str) -> bool: ...

    def friend_added(self, contact: Contact, key: str) -> None: ...

    def own_message_seen(self, conversation_id: str, text: str) -> None:
        """WeChat echoed a message the bot sent that this run did not send: a send cut off
        by a restart arrived after all."""
        ...


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """`host:port` (or `[::1]:port`) → (host, port); ValueError with the reason."""
    host, sep, port = endpoint.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {endpoint!r}")
    return host.strip("[]"), int(port)


def _mention_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({n for n in names if n}, key=len, reverse=True)
    if not alternatives:
        return None
    joined = "|".join(re.escape(n) for n in alternatives)
    # WeChat writes a mention as `@name` followed by U+2005 (or a space, or the end).
    return re.compile(rf"[@＠](?:{joined})(?:[\u2005\u3000 ]+|$)")


def mentions_name(text: str, names: Iterable[str]) -> bool:
    pattern = _mention_pattern(names)
    return bool(pattern and pattern.search(text))


def strip_mentions(text: str, names: Iterable[str]) -> str:
    """The text without `@name` for any of the names (the bot's), wherever it stands."""
    pattern = _mention_pattern(names)
    if pattern is None:
        return text
    return pattern.sub(" ", text).strip()


def message_time(timestamp: int | float) -> datetime:
    """Gateways send milliseconds (wechaty-puppet 1.x) or seconds (older ones)."""
    if not timestamp:
        return datetime.now(UTC)
    seconds = timestamp / 1000 if timestamp > 10_000_000_000 else timestamp
    return datetime.fromtimestamp(seconds, tz=UTC)
