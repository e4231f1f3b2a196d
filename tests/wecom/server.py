"""The WeCom AI-bot server's state and rules; runs on the emulator's own event loop.

Only `records`, `refusals` and `counters` are read from other threads (under `lock`);
everything else is touched on the loop only. Rules and codes: see protocol.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tests.wecom import protocol as p

Body = dict[str, Any]


@dataclass(eq=False)
class Conn:
    ws: ServerConnection
    subscribed: bool = False


@dataclass
class Issued:
    """A callback the server sent: what a reply on its req_id may do."""

    kind: str  # "msg" | "enter_chat" | "click"
    conn: Conn | None  # the connection it went out on; None: not delivered
    user: str
    chat: str  # where replies land: the group's chatid, or the user for a single chat
    at: float
    task_id: str | None = None
    answered: bool = False


@dataclass
class Stream:
    user: str
    started: float
    finished: bool = False


@dataclass
class Card:
    chat: str
    card: Body


@dataclass
class BotServer:
    bot_id: str
    secret: str
    bot_name: str
    clock: Callable[[], float]
    send_limits: tuple[tuple[int, float], ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[Body] = field(default_factory=list)
    refusals: list[Body] = field(default_factory=list)
    counters: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    live: Conn | None = None
    conflicts: int = 0
    refuse_until: float = 0.0  # time.monotonic(): outages are real time, not the test clock
    chats: dict[str, bool] = field(default_factory=dict)  # chat → is a group
    issued: dict[str, Issued] = field(default_factory=dict)
    callbacks: dict[str, tuple[str, str | None, Body]] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    sends: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    conns: set[Conn] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def count(self, name: str) -> None:
        with self.lock:
            self.counters[name] += 1

    # --- the connection -------------------------------------------------------------------

    def gate(self, connection: ServerConnection, request: Request) -> Response | None:
        """The opening handshake: 503 during an outage (drop())."""
        if time.monotonic() < self.refuse_until:
            self.count("refused_handshakes")
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "outage (emulated)\n")
        return None

    async def handle(self, ws: ServerConnection) -> None:
        conn = Conn(ws)
        self.conns.add(conn)
        try:
            async for raw in ws:
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
            self.count("pings")
            await self.send_frame(conn, p.ack(req_id))
        elif (command := self.command(cmd)) is None:
            await self.refuse(conn, cmd, req_id, p.ERR_UNKNOWN_CMD, body)
        elif self.conflicts > 0:
            self.conflicts -= 1
            await self.refuse(conn, cmd, req_id, p.ERR_COMMAND_CONFLICT, body)
        else:
            code = command(conn, req_id, body)
            if code:
                await self.refuse(conn, cmd, req_id, code, body)
            else:
                await self.send_frame(conn, p.ack(req_id))

    async def subscribe(self, conn: Conn, req_id: str, body: Body) -> None:
        if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
            await self.refuse(conn, p.SUBSCRIBE, req_id, p.ERR_INVALID_CREDENTIALS, body)
            # The real server was seen keeping such a connection open; closing it keeps the
            # emulator's connection count honest, and a client must not rely on either.
            await conn.ws.close(1008, "invalid bot_id or secret")
            return
        old, self.live = self.live, conn
        conn.subscribed = True
        self.count("subscribes")
        await self.send_frame(conn, p.ack(req_id))
        if old is not None and old is not conn:
            await self.replace(old)

    async def replace(self, old: Conn) -> None:
        """One live connection per bot: tell the old one, then cut it (no close frame, as
        measured)."""
        body = {
            "msgid": uuid.uuid4().hex,
            "create_time": int(time.time()),
            "aibotid": self.bot_id,
            "msgtype": "event",
            "event": {"eventtype": "disconnected_event"},
        }
        req_id = uuid.uuid4().hex
        await self.send_frame(
            old, {"cmd": p.EVENT_CALLBACK, "headers": {"req_id": req_id}, "body": body}
        )

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

    async def send_frame(self, conn: Conn, frame: Body) -> None:
        with contextlib.suppress(ConnectionClosed):
            await conn.ws.send(p.dumps(frame))

    async def refuse(self, conn: Conn, cmd: object, req_id: str, code: int, body: Body) -> None:
        with self.lock:
            self.counters["refused"] += 1
            self.refusals.append(
                {
                    "cmd": cmd,
                    "req_id": req_id,
                    "errcode": code,
                    "errmsg": p.ERRMSG[code],
                    "body": body,
                    "time": self.clock(),
                }
            )
        await self.send_frame(conn, p.ack(req_id, code))

    # --- what the bot sends ---------------------------------------------------------------

    def command(self, cmd: object) -> Callable[[Conn, str, Body], int] | None:
        table = {
            p.RESPOND: self.respond,
            p.RESPOND_WELCOME: self.welcome,
            p.RESPOND_UPDATE: self.update,
            p.SEND: self.send,
        }
        return table.get(cmd) if isinstance(cmd, str) else None

    def reply_to(self, conn: Conn, req_id: str, kind: str, window: float | None) -> Issued | None:
        issued = self.issued.get(req_id)
        if issued is None or issued.kind != kind or issued.conn is not conn:
            return None
        if window is not None and self.clock() - issued.at > window:
            return None
        return issued

    def check_card(self, card: Body | None, *, new: bool) -> int:
        if card is None:
            return p.OK
        if p.card_problem(card):
            return p.ERR_BAD_CARD
        if new and card.get("task_id") in self.cards:
            return p.ERR_DUPLICATE_TASK_ID
        return p.OK

    def keep(self, cmd: str, req_id: str, chat: str, body: Body) -> None:
        text, card, finish = p.content_of(body)
        if card is not None and isinstance(card.get("task_id"), str):
            self.cards[card["task_id"]] = Card(chat, card)
        stream = body.get("stream")
        stream_id = stream.get("id") if isinstance(stream, dict) else None
        record = {
            "cmd": cmd,
            "req_id": req_id,
            "chatid": chat,
            "msgtype": body.get("msgtype") or "template_card",
            "text": text,
            "card": card,
            "finish": finish,
            "time": self.clock(),
            "stream_id": stream_id,
            "body": body,
        }
        with self.lock:
            self.counters[cmd.removeprefix("aibot_").removesuffix("_msg")] += 1
            self.records.append(record)

    def respond(self, conn: Conn, req_id: str, body: Body) -> int:
        issued = self.reply_to(conn, req_id, "msg", None)
        if issued is None:
            return p.ERR_INVALID_REQ_ID
        if body.get("msgtype") not in p.RESPOND_TYPES:
            return p.ERR_INVALID_MSGTYPE
        text, card, finish = p.content_of(body)
        if p.too_long(text):
            return p.ERR_CONTENT_TOO_LONG
        if code := self.check_card(card, new=True):
            return code
        if finish is not None:
            stream_id = (body.get("stream") or {}).get("id")
            if not isinstance(stream_id, str) or not stream_id:
                return p.ERR_BAD_FRAME
            stream = self.streams.get(stream_id)
            if stream is None:
                stream = self.streams[stream_id] = Stream(issued.user, self.clock())
            elif stream.finished or self.clock() - stream.started > p.STREAM_TTL:
                return p.ERR_STREAM_CLOSED
            stream.finished = finish
        self.keep(p.RESPOND, req_id, issued.chat, body)
        return p.OK

    def welcome(self, conn: Conn, req_id: str, body: Body) -> int:
        issued = self.reply_to(conn, req_id, "enter_chat", p.EVENT_REPLY_WINDOW)
        if issued is None or issued.answered:
            return p.ERR_INVALID_REQ_ID
        if body.get("msgtype") not in p.WELCOME_TYPES:
            return p.ERR_INVALID_MSGTYPE
        text, card, _ = p.content_of(body)
        if p.too_long(text):
            return p.ERR_CONTENT_TOO_LONG
        if code := self.check_card(card, new=True):
            return code
        issued.answered = True
        self.keep(p.RESPOND_WELCOME, req_id, issued.chat, body)
        return p.OK

    def update(self, conn: Conn, req_id: str, body: Body) -> int:
        issued = self.reply_to(conn, req_id, "click", p.EVENT_REPLY_WINDOW)
        if issued is None:
            return p.ERR_INVALID_REQ_ID
        card = body.get("template_card")
        if body.get("response_type") != "update_template_card" or not isinstance(card, dict):
            return p.ERR_BAD_CARD
        if self.check_card(card, new=False) or card.get("task_id") != issued.task_id:
            return p.ERR_BAD_CARD
        self.keep(p.RESPOND_UPDATE, req_id, self.cards[card["task_id"]].chat, body)
        return p.OK

    def send(self, conn: Conn, req_id: str, body: Body) -> int:
        chat = body.get("chatid")
        group = self.chats.get(chat) if isinstance(chat, str) else None
        if group is None or body.get("chat_type") not in (None, 0, 2 if group else 1):
            return p.ERR_UNKNOWN_CHAT
        assert isinstance(chat, str)
        if body.get("msgtype") not in p.SEND_TYPES:
            return p.ERR_INVALID_MSGTYPE
        text, card, _ = p.content_of(body)
        if p.too_long(text):
            return p.ERR_CONTENT_TOO_LONG
        if code := self.check_card(card, new=True):
            return code
        now, sent = self.clock(), self.sends[chat]
        if any(sum(now - t < window for t in sent) >= n for n, window in self.send_limits):
            return p.ERR_RATE_LIMITED
        sent.append(now)
        while sent and now - sent[0] > max((w for _, w in self.send_limits), default=0.0):
            sent.popleft()
        self.keep(p.SEND, req_id, chat, body)
        return p.OK

    # --- what people do -------------------------------------------------------------------

    def unfinished(self, user: str) -> int:
        now = self.clock()
        return sum(
            s.user == user and not s.finished and now - s.started <= p.STREAM_TTL
            for s in self.streams.values()
        )

    async def deliver(self, cmd: str, body: Body, issued: Issued) -> str:
        req_id = uuid.uuid4().hex
        self.issued[req_id] = issued
        conn = issued.conn = self.live
        if conn is None:
            self.count("undelivered")
            return req_id
        frame = {"cmd": cmd, "headers": {"req_id": req_id}, "body": body}
        try:
            await conn.ws.send(p.dumps(frame))
        except ConnectionClosed:
            issued.conn = None
            self.count("undelivered")
        return req_id

    def body(self, user: str, group: str | None, msgid: str, msgtype: str) -> Body:
        self.chats[group or user] = group is not None
        now = int(time.time())
        return p.callback_body(
            msgid=msgid, bot_id=self.bot_id, user=user, group=group, now=now, msgtype=msgtype
        )

    async def say(self, user: str, text: str, group: str | None, msgid: str) -> None:
        body = self.body(user, group, msgid, "text")
        body["text"] = {"content": f"@{self.bot_name} {text}" if group is not None else text}
        self.callbacks[msgid] = (user, group, body)
        await self.redeliver(msgid)

    async def redeliver(self, msgid: str) -> None:
        user, group, body = self.callbacks[msgid]
        if self.unfinished(user) >= p.MAX_UNFINISHED_STREAMS:
            self.count("dropped_messages")
            return
        self.count("messages")
        await self.deliver(
            p.MSG_CALLBACK, body, Issued("msg", None, user, group or user, self.clock())
        )

    async def enter_chat(self, user: str) -> str:
        body = self.body(user, None, uuid.uuid4().hex, "event")
        body["event"] = {"eventtype": "enter_chat"}
        self.count("events")
        issued = Issued("enter_chat", None, user, user, self.clock())
        return await self.deliver(p.EVENT_CALLBACK, body, issued)

    async def click(
        self, user: str, task_id: str, key: str, chat: str | None, selected: Body | None
    ) -> str:
        card = self.cards.get(task_id)
        if card is None or key not in p.card_keys(card.card):
            raise ValueError(f"no card {task_id!r} with a button {key!r} was sent")
        where = chat or card.chat
        group = where if self.chats.get(where, chat is not None) else None
        body = self.body(user, group, uuid.uuid4().hex, "event")
        event: Body = {"card_type": card.card["card_type"], "event_key": key, "task_id": task_id}
        if selected:
            event["selected_items"] = selected
        body["event"] = {"eventtype": "template_card_event", "template_card_event": event}
        self.count("events")
        issued = Issued("click", None, user, where, self.clock(), task_id)
        return await self.deliver(p.EVENT_CALLBACK, body, issued)
