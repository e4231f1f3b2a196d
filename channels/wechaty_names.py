"""Names the transport shows: group topics and display names, cached until WeChat says a
payload changed (a `dirty` event) or the bot logs in again."""

from __future__ import annotations

from typing import Any

from channels.wechaty_client import GatewayClient

__all__ = ["NameCache"]

# `dirty` payload types (wechaty-grpc puppet/event.proto).
DIRTY_CONTACT, DIRTY_ROOM, DIRTY_MEMBER = 2, 3, 4


class NameCache:
    def __init__(self, client: GatewayClient) -> None:
        self.client = client
        self.topics: dict[str, str] = {}
        self._names: dict[tuple[str, str], str] = {}  # (room or "", contact) → name

    def clear(self) -> None:
        self.topics.clear()
        self._names.clear()

    def forget(self, kind: int, item: str) -> None:
        if kind == DIRTY_ROOM:
            self.topics.pop(item, None)
        elif kind in (DIRTY_CONTACT, DIRTY_MEMBER):
            for key in [k for k in self._names if item in k]:
                del self._names[key]

    async def room(self, room: str) -> Any:
        return await self.client.call("RoomPayload", lambda r: r.room_payload(id=room))

    async def topic(self, room: str) -> str:
        if room not in self.topics:
            found = await self.room(room)
            if found is None:
                return ""
            self.topics[room] = found.topic
        return self.topics[room]

    async def name(self, room: str, contact_id: str) -> str:
        """The group nickname in a room, else the WeChat name, else the id."""
        key = (room, contact_id)
        if key not in self._names:
            name = ""
            if room:
                member = await self.client.call(
                    "RoomMemberPayload",
                    lambda r: r.room_member_payload(id=room, member_id=contact_id),
                )
                name = (member.room_alias or member.name) if member else ""
            if not name:
                found = await self.client.call(
                    "ContactPayload", lambda r: r.contact_payload(id=contact_id)
                )
                name = found.name if found else ""
            self._names[key] = name or contact_id
        return self._names[key]
