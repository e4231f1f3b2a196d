"""The WeCom AI-bot server's network side, on the emulator's own event loop: connections,
subscribe, one live connection per bot, delivering callbacks and outages. The bookkeeping
and rules are ledger.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.wecom import protocol as p
from tests.wecom.ledger import Body, Issued, Ledger


@dataclass(eq=False)
class Conn:
    ws: ServerConnection
    subscribed: bool = False


@dataclass
class BotServer:
    ledger: Ledger
    secret: str
    live: Conn | None = None
    conflicts: int = 0
    # Outages are real time (time.monotonic()), not the test's clock.
    refuse_until: float = 0.0
    stall_until: float = 0.0
    conns: set[Conn] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def gate(self, connection: ServerConnection, request: Request) -> Response | None:
        """The opening handshake: 503 during an outage (drop())."""
        if time.monotonic() < self.refuse_until:
            self.ledger.count("refused_handshakes")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "outage (emulated)\n")
        return None

    async def handle(self, ws: ServerConnection) -> None:
        conn = Conn(ws)
        self.conns.add(conn)
        try:
            async for raw in ws:
                if time.monotonic() < self.stall_until:
                    self.ledger.count("ignored_frames")
                else:
                    await self.on_frame(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self.conns.discard(conn)
            if self.live is conn:
                self.live = None

    async def on_frame(self, conn: Conn, raw: str | bytes) -> None:
        try:
            frame = json.loads(raw)
            req_id = frame["headers"]["req_id"]
            cmd, body = frame.get("cmd"), frame.get("body") or {}
            if not isinstance(req_id, str) or not isinstance(body, dict):
                raise TypeError(req_id)
        except (ValueError, TypeError, KeyError):
            await self.refuse(conn, None, "", p.ERR_BAD_FRAME, {"raw": str(raw)[:200]})
            return
        if cmd == p.SUBSCRIBE:
            await self.subscribe(conn, req_id, body)
        elif not conn.subscribed:
            await self.refuse(conn, cmd, req_id, p.ERR_NOT_SUBSCRIBED, body)
            await conn.ws.close(1008, "not subscribed")
        elif cmd == p.PING:
            self.ledger.count("pings")
            await self.send_frame(conn, p.ack(req_id))
        elif (command := self.ledger.command(cmd)) is None:
            await self.refuse(conn, cmd, req_id, p.ERR_UNKNOWN_CMD, body)
        elif self.conflicts > 0:
            self.conflicts -= 1
            await self.refuse(conn, cmd, req_id, p.ERR_COMMAND_CONFLICT, body)
        elif code := command(conn, req_id, body):
            await self.refuse(conn, cmd, req_id, code, body)
        else:
            await self.send_frame(conn, p.ack(req_id))

    async def subscribe(self, conn: Conn, req_id: str, body: Body) -> None:
        if body.get("bot_id") != self.ledger.bot_id or body.get("secret") != self.secret:
            await self.refuse(conn, p.SUBSCRIBE, req_id, p.ERR_INVALID_CREDENTIALS, body)
            # The real server was seen keeping such a connection open; closing it keeps the
            # emulator's connection count honest, and a client must not rely on either.
            await conn.ws.close(1008, "invalid bot_id or secret")
            return
        old, self.live = self.live, conn
        conn.subscribed = True
        self.ledger.count("subscribes")
        await self.send_frame(conn, p.ack(req_id))
        if old is not None and old is not conn:
            await self.replace(old)

    async def replace(self, old: Conn) -> None:
        """One live connection per bot: tell the old one, then cut it (no close frame, as
        measured)."""
        body = {
            "msgid": uuid.uuid4().hex,
            "create_time": int(time.time()),
            "aibotid": self.ledger.bot_id,
            "msgtype": "event",
            "event": {"eventtype": "disconnected_event"},
        }
        frame = {"cmd": p.EVENT_CALLBACK, "headers": {"req_id": uuid.uuid4().hex}, "body": body}
        await self.send_frame(old, frame)

        async def cut() -> None:
            await asyncio.sleep(p.REPLACED_CLOSE_DELAY)
            old.ws.transport.abort()

        task = asyncio.get_running_loop().create_task(cut())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drop(self, seconds: float) -> None:
        self.refuse_until = time.monotonic() + seconds
        self.live = None
        for conn in list(self.conns):
            conn.ws.transport.abort()

    async def stall(self, seconds: float) -> None:
        self.stall_until = time.monotonic() + seconds

    async def send_frame(self, conn: Conn, frame: Body) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.ws.send(p.dumps(frame))

    async def refuse(self, conn: Conn, cmd: object, req_id: str, code: int, body: Body) -> None:
        self.ledger.refusal(cmd, req_id, code, body)
        await self.send_frame(conn, p.ack(req_id, code))

    async def deliver(self, cmd: str, body: Body, issued: Issued) -> str:
        """Send a callback on the live connection; a reply may use its req_id there only."""
        req_id = uuid.uuid4().hex
        self.ledger.issued[req_id] = issued
        issued.conn = self.live if time.monotonic() >= self.stall_until else None
        if issued.conn is not None:
            frame = {"cmd": cmd, "headers": {"req_id": req_id}, "body": body}
            try:
                await issued.conn.ws.send(p.dumps(frame))
            except ConnectionClosed:
                issued.conn = None
        if issued.conn is None:
            self.ledger.count("undelivered")
        return req_id

    # --- what people do -------------------------------------------------------------------

    async def say(self, user: str, text: str, group: str | None, msgid: str) -> None:
        self.ledger.message(user, text, group, msgid)
        await self.redeliver(msgid)

    async def redeliver(self, msgid: str) -> None:
        if msgid in self.ledger.clicks:
            await self.deliver(p.EVENT_CALLBACK, *self.ledger.clicked_again(msgid))
        elif (callback := self.ledger.again(msgid)) is not None:
            await self.deliver(p.MSG_CALLBACK, *callback)

    async def enter_chat(self, user: str) -> str:
        return await self.deliver(p.EVENT_CALLBACK, *self.ledger.entered(user))

    async def click(
        self,
        user: str,
        task_id: str,
        key: str,
        chat: str | None,
        selected: Body | None,
        msgid: str | None,
    ) -> str:
        callback = self.ledger.clicked(user, task_id, key, chat, selected, msgid)
        return await self.deliver(p.EVENT_CALLBACK, *callback)
