"""The WeChat transport: a Wechaty puppet-service gateway.

The only modules that use the gateway's gRPC client are this one and its parts:
wechaty_client (connection, event stream, reconnects), wechaty_send (sending),
wechaty_names (cached topics and display names) and
wechaty_events (what the runtime is told; no gRPC).

Inbound: every `message` event is journalled as it comes off the stream (channels/inbox.py,
bot/journal.py), then becomes an `Incoming` (text messages only; the bot's own messages,
which WeChat echoes back, are not: their echo confirms a send whose fate was unknown) and
is handled in arrival order. Room and friendship events are handled one at a time, in the
order the gateway sent them, off the stream reader; they go to a `GatewayEvents` (the
runtime), which decides and remembers; this module does the RPCs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from bot.db import open_db
from bot.journal import Journal
from bot.messages import Incoming, Outgoing
from bot.transport import Names, OnMessage, first_connection, mention_prefix
from channels.inbox import Inbox
from channels.wechaty_client import MAX_BACKOFF, GatewayClient, list_rooms
from channels.wechaty_events import (
    Contact,
    GatewayEvents,
    GatewayStartError,
    mentions_name,
    message_time,
    strip_mentions,
)
from channels.wechaty_names import NameCache
from channels.wechaty_send import Outbound

__all__ = ["GatewayStartError", "WechatyTransport", "list_rooms"]

log = logging.getLogger(__name__)

# Event types on the wire (wechaty-grpc puppet/event.proto).
MESSAGE, FRIENDSHIP, ROOM_INVITE, ROOM_JOIN, ROOM_LEAVE, ROOM_TOPIC = 2, 17, 18, 19, 20, 21
ERROR, SCAN, READY, LOGIN, LOGOUT, DIRTY = 16, 22, 23, 25, 26, 27
TEXT = 7  # wechaty-puppet types.Message.Text (not the old python enum's value)
FRIENDSHIP_RECEIVE = 2


class WechatyTransport:
    channel = "wechat"

    def __init__(
        self,
        endpoint: str,
        token: str,
        events: GatewayEvents | None = None,
        *,
        names: Names | None = None,
        connect_timeout: float = 10.0,
        rpc_timeout: float = 10.0,
        health_interval: float = 15.0,
        echo_grace: float = 3.0,
        journal: Journal | None = None,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.client = GatewayClient(
            endpoint,
            token,
            self._on_event,
            self._on_down,
            rpc_timeout=rpc_timeout,
            health_interval=health_interval,
            max_backoff=max_backoff,
        )
        self.outbound = Outbound(self.client, echo_grace)
        self.events = events
        self.connect_timeout = connect_timeout
        self.self_id = ""
        self.self_name = ""
        self.logged_in = asyncio.Event()
        self._on_message: OnMessage | None = None
        self._queue: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self.inbox = Inbox(journal or Journal(open_db(":memory:"), self.channel), self._resolve)
        self.names = NameCache(self.client)
        self.mention_names: Names = names or (lambda contact_id: contact_id)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, on_message: OnMessage) -> None:
        """Connect; raises GatewayStartError if the first connection fails."""
        self._on_message = on_message
        self.outbound.open()
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks = [
            asyncio.create_task(self.client.run(first)),
            asyncio.create_task(self._work()),
            asyncio.create_task(self.inbox.run(on_message)),
        ]
        await first_connection(
            first,
            self.connect_timeout,
            self.stop,
            lambda: GatewayStartError(
                f"the Wechaty gateway at {self.client.endpoint} did not answer"
                f" within {self.connect_timeout:g} s"
            ),
        )

    async def stop(self) -> None:
        """Let a send in flight finish, release held sends, close the channel.

        Never `Stop` on the gateway: that would stop the puppet and log WeChat out.
        """
        await self.outbound.close(self.client.rpc_timeout)
        self.inbox.flush()
        log.info("%s", self.inbox.summary())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self.client.close()

    async def wait_logged_in(self, within: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                await self.logged_in.wait()
        return self.logged_in.is_set()

    # -- the stream --------------------------------------------------------------------------

    async def _on_event(self, kind: int, payload: dict[str, Any]) -> None:
        """Called by the stream reader: cheap state changes here, RPC work queued."""
        if kind == LOGIN:
            self.self_id = str(payload.get("contactId") or "")
            self.logged_in.set()
            self.outbound.sendable.set()
            log.info("logged in to WeChat as %s", self.self_id)
        elif kind == LOGOUT:
            self.logged_in.clear()
            self.outbound.sendable.clear()
            log.warning(
                "logged out of WeChat (%s); sending waits for the next login",
                payload.get("data") or "no reason given",
            )
        elif kind == READY:
            log.info("WeChat is ready")
        elif kind == SCAN:
            log.warning("WeChat waits for a QR-code scan to log in: %s", payload.get("qrcode", ""))
        elif kind == ERROR:
            log.warning("the gateway reports an error: %s", payload.get("data", payload))
        elif kind == DIRTY:
            self.names.forget(
                int(payload.get("payloadType") or 0), str(payload.get("payloadId", ""))
            )
        elif kind == MESSAGE:
            message_id = str(payload.get("messageId", ""))
            if message_id and message_id not in self.outbound.own:
                self.inbox.read(message_id)
        if kind in (LOGIN, FRIENDSHIP, ROOM_INVITE, ROOM_JOIN, ROOM_LEAVE, ROOM_TOPIC):
            self._queue.put_nowait((kind, payload))

    def _on_down(self) -> None:
        """The session ended: the next one replays `login` if WeChat is still logged in."""
        self.logged_in.clear()
        self.outbound.sendable.clear()

    async def _work(self) -> None:
        while True:
            kind, payload = await self._queue.get()
            try:
                await self._handle(kind, payload)
            except Exception:  # one bad event must not stop the others
                log.exception("event %d %s failed", kind, payload)

    async def _handle(self, kind: int, p: dict[str, Any]) -> None:
        if kind == LOGIN:
            self.names.clear()
            me = await self.client.call(
                "ContactPayload", lambda r: r.contact_payload(id=self.self_id)
            )
            self.self_name = me.name if me else ""
            self.inbox.can_resolve.set()
        elif kind == ROOM_TOPIC:
            room, topic = str(p.get("roomId", "")), str(p.get("newTopic", ""))
            self.names.topics[room] = topic
            if self.events:
                self.events.room_topic_changed(room, topic)
        elif kind == ROOM_JOIN:
            await self._room_join(p)
        elif kind == ROOM_LEAVE:
            room = str(p.get("roomId", ""))
            if self.self_id in p.get("removeeIdList", []):
                self.outbound.gone.add(room)
                log.warning(
                    "the bot was removed from group %s 「%s」",
                    room,
                    self.names.topics.get(room, ""),
                )
        elif kind == ROOM_INVITE:
            await self._room_invite(str(p.get("roomInvitationId", "")))
        elif kind == FRIENDSHIP:
            await self._friendship(str(p.get("friendshipId", "")))

    # -- messages ----------------------------------------------------------------------------

    async def _resolve(self, message_id: str) -> Incoming | None:
        """The journalled message as the core sees it; None if it is not for the bot."""
        m = await self.client.call("MessagePayload", lambda r: r.message_payload(id=message_id))
        if m is None:
            return None
        if self.self_id and m.from_id == self.self_id:
            self.outbound.echoed(m.room_id or m.to_id, m.text)
            if self.events and message_id not in self.outbound.own:
                self.events.own_message_seen(m.room_id or m.to_id, m.text)
            return None
        if int(m.type) != TEXT:
            return None
        room = m.room_id
        names = [self.self_name]
        if room:
            self.outbound.gone.discard(room)  # a message from it: the bot is in it again
            names.append(await self.names.name(room, self.self_id))
        mentioned = self.self_id in m.mention_ids or mentions_name(m.text, names)
        return Incoming(
            message_id=message_id,
            conversation_id=room or m.from_id,
            is_group=bool(room),
            sender_id=m.from_id,
            sender_name=await self.names.name(room, m.from_id),
            text=strip_mentions(m.text, names) if mentioned else m.text,
            time=message_time(m.timestamp),
            room_topic=await self.names.topic(room) if room else None,
            mentions_bot=mentioned,
        )

    # -- rooms and friends -------------------------------------------------------------------

    async def _room_join(self, p: dict[str, Any]) -> None:
        room = str(p.get("roomId", ""))
        invitees = [str(i) for i in p.get("inviteeIdList", [])]
        inviter = str(p.get("inviterId", ""))
        self.names.topics.pop(room, None)
        topic = await self.names.topic(room)
        if self.events is None:
            return
        if self.self_id in invitees:
            self.outbound.gone.discard(room)
            self.events.bot_joined_room(room, topic, inviter)
        others = [i for i in invitees if i != self.self_id]
        if others:
            members = [Contact(i, await self.names.name(room, i)) for i in others]
            key = f"{room}:{p.get('timestamp', '')}:{','.join(others)}"
            self.events.members_joined(room, topic, members, inviter, key)

    async def _room_invite(self, invitation_id: str) -> None:
        found = await self.client.call(
            "RoomInvitationPayload", lambda r: r.room_invitation_payload(id=invitation_id)
        )
        if found is None or self.events is None:
            return
        if not self.events.accept_room_invitation(found.inviter_id, found.topic):
            return
        await self.client.call(
            "RoomInvitationAccept", lambda r: r.room_invitation_accept(id=invitation_id)
        )

    async def _friendship(self, friendship_id: str) -> None:
        found = await self.client.call(
            "FriendshipPayload", lambda r: r.friendship_payload(id=friendship_id)
        )
        if found is None or self.events is None or int(found.type) != FRIENDSHIP_RECEIVE:
            return
        if not self.events.accept_friend_request(found.contact_id, found.hello):
            return
        accepted = await self.client.call(
            "FriendshipAccept", lambda r: r.friendship_accept(id=friendship_id)
        )
        if accepted is not None:
            name = await self.names.name("", found.contact_id)
            self.events.friend_added(Contact(found.contact_id, name), f"friend:{friendship_id}")

    async def send(self, out: Outgoing) -> None:
        """Mentions as WeChat shows them: `@name` and a narrow space before the text."""
        text = mention_prefix(out, self.mention_names) + out.text
        await self.outbound.send(Outgoing(out.conversation_id, text, out.mention_ids, out.channel))
