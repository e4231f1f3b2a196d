"""The WeCom AI-bot server's bookkeeping and rules, without the network (server.py).

Touched on the emulator's loop only, except `records`, `refusals` and `counters`, which the
test thread reads under `lock`. Codes and limits: protocol.py.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.wecom import protocol as p

Body = dict[str, Any]


@dataclass
class Issued:
    """A callback the server sent: what a reply on its req_id may do."""

    kind: str  # "msg" | "enter_chat" | "click"
    user: str
    chat: str  # where replies land: the group's chatid, or the user for a single chat
    at: float
    task_id: str | None = None
    conn: object | None = None  # the connection it went out on; None: not delivered
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
    views: dict[str, Body] = field(default_factory=dict)  # user → the card as updated for them

    def seen_by(self, user: str) -> Body:
        return self.views.get(user, self.card)


@dataclass
class Click:
    """A click callback, kept so that it can be delivered again."""

    user: str
    chat: str
    task_id: str
    body: Body


@dataclass
class Ledger:
    bot_id: str
    bot_name: str
    clock: Callable[[], float]
    send_limits: tuple[tuple[int, float], ...] = ()
    lock: threading.Lock = field(default_factory=threading.Lock)
    records: list[Body] = field(default_factory=list)
    refusals: list[Body] = field(default_factory=list)
    counters: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    chats: dict[str, bool] = field(default_factory=dict)  # chat → is a group
    issued: dict[str, Issued] = field(default_factory=dict)
    callbacks: dict[str, tuple[str, str | None, Body]] = field(default_factory=dict)
    streams: dict[str, Stream] = field(default_factory=dict)
    cards: dict[str, Card] = field(default_factory=dict)
    clicks: dict[str, Click] = field(default_factory=dict)  # msgid → click
    sends: defaultdict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def count(self, name: str) -> None:
        with self.lock:
            self.counters[name] += 1

    def refusal(self, cmd: object, req_id: str, code: int, body: Body) -> None:
        row = {"cmd": cmd, "req_id": req_id, "errcode": code, "errmsg": p.ERRMSG[code]}
        with self.lock:
            self.counters["refused"] += 1
            self.refusals.append(row | {"body": body, "time": self.clock()})

    # --- what the bot sends: each rule returns an errcode ---------------------------------

    def command(self, cmd: object) -> Callable[[object, str, Body], int] | None:
        table = {
            p.RESPOND: self.respond,
            p.RESPOND_WELCOME: self.welcome,
            p.RESPOND_UPDATE: self.update,
            p.SEND: self.send,
        }
        return table.get(cmd) if isinstance(cmd, str) else None

    def reply_to(
        self, conn: object, req_id: str, kind: str, window: float | None
    ) -> Issued | None:
        issued = self.issued.get(req_id)
        if issued is None or issued.kind != kind or issued.conn is not conn:
            return None
        if window is not None and self.clock() - issued.at > window:
            return None
        return issued

    def check(self, body: Body, msgtypes: frozenset[str], *, new_card: bool = True) -> int:
        if body.get("msgtype") not in msgtypes:
            return p.ERR_INVALID_MSGTYPE
        text, card, _ = p.content_of(body)
        if p.too_long(text):
            return p.ERR_CONTENT_TOO_LONG
        if card is None:
            return p.OK
        if p.card_problem(card):
            return p.ERR_BAD_CARD
        if new_card and card.get("task_id") in self.cards:
            return p.ERR_DUPLICATE_TASK_ID
        return p.OK

    def keep(self, cmd: str, req_id: str, chat: str, body: Body) -> None:
        text, card, finish = p.content_of(body)
        userids = body.get("userids") if cmd == p.RESPOND_UPDATE else None
        if card is not None and isinstance(card.get("task_id"), str):
            if userids:  # the card changes for these users only (the others keep theirs)
                self.cards[card["task_id"]].views.update(dict.fromkeys(userids, card))
            else:
                self.cards[card["task_id"]] = Card(chat, card)
        stream = body.get("stream")
        record = {
            "cmd": cmd,
            "req_id": req_id,
            "chatid": chat,
            "msgtype": body.get("msgtype", "template_card"),
            "text": text,
            "card": card,
            "finish": finish,
            "time": self.clock(),
            "stream_id": stream.get("id") if isinstance(stream, dict) else None,
            "body": body,
        }
        with self.lock:
            self.counters[cmd.removeprefix("aibot_").removesuffix("_msg")] += 1
            self.records.append(record)

    def respond(self, conn: object, req_id: str, body: Body) -> int:
        issued = self.reply_to(conn, req_id, "msg", None)
        if issued is None:
            return p.ERR_INVALID_REQ_ID
        if code := self.check(body, p.RESPOND_TYPES):
            return code
        _, _, finish = p.content_of(body)
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

    def welcome(self, conn: object, req_id: str, body: Body) -> int:
        issued = self.reply_to(conn, req_id, "enter_chat", p.EVENT_REPLY_WINDOW)
        if issued is None or issued.answered:
            return p.ERR_INVALID_REQ_ID
        if code := self.check(body, p.WELCOME_TYPES):
            return code
        issued.answered = True
        self.keep(p.RESPOND_WELCOME, req_id, issued.chat, body)
        return p.OK

    def update(self, conn: object, req_id: str, body: Body) -> int:
        issued = self.reply_to(conn, req_id, "click", p.EVENT_REPLY_WINDOW)
        if issued is None:
            return p.ERR_INVALID_REQ_ID
        card = body.get("template_card")
        if body.get("response_type") != "update_template_card" or not isinstance(card, dict):
            return p.ERR_BAD_CARD
        if card.get("task_id") != issued.task_id:
            return p.ERR_BAD_CARD
        as_card = {"msgtype": "template_card", "template_card": card}
        if code := self.check(as_card, p.SEND_TYPES, new_card=False):
            return code
        self.keep(p.RESPOND_UPDATE, req_id, self.cards[card["task_id"]].chat, body)
        return p.OK

    def send(self, conn: object, req_id: str, body: Body) -> int:
        chat = body.get("chatid")
        if not isinstance(chat, str) or chat not in self.chats:
            return p.ERR_UNKNOWN_CHAT
        if body.get("chat_type") not in (None, 0, 2 if self.chats[chat] else 1):
            return p.ERR_UNKNOWN_CHAT
        if code := self.check(body, p.SEND_TYPES):
            return code
        now, sent = self.clock(), self.sends[chat]
        if any(sum(now - t < window for t in sent) >= n for n, window in self.send_limits):
            return p.ERR_RATE_LIMITED
        sent.append(now)
        while sent and now - sent[0] > max((w for _, w in self.send_limits), default=0.0):
            sent.popleft()
        self.keep(p.SEND, req_id, chat, body)
        return p.OK

    # --- what people do: the callback's body and what a reply to it may do ----------------

    def unfinished(self, user: str) -> int:
        now = self.clock()
        return sum(
            s.user == user and not s.finished and now - s.started <= p.STREAM_TTL
            for s in self.streams.values()
        )

    def body(self, user: str, group: str | None, msgid: str, msgtype: str) -> Body:
        self.chats[group or user] = group is not None
        now = int(time.time())
        return p.callback_body(
            msgid=msgid, bot_id=self.bot_id, user=user, group=group, now=now, msgtype=msgtype
        )

    def message(self, user: str, text: str, group: str | None, msgid: str) -> None:
        body = self.body(user, group, msgid, "text")
        body["text"] = {"content": f"@{self.bot_name} {text}" if group is not None else text}
        self.callbacks[msgid] = (user, group, body)

    def again(self, msgid: str) -> tuple[Body, Issued] | None:
        """The message callback `msgid` once more, or None when it is not to be delivered."""
        user, group, body = self.callbacks[msgid]
        if self.unfinished(user) >= p.MAX_UNFINISHED_STREAMS:
            self.count("dropped_messages")
            return None
        self.count("messages")
        return body, Issued("msg", user, group or user, self.clock())

    def entered(self, user: str) -> tuple[Body, Issued]:
        body = self.body(user, None, uuid.uuid4().hex, "event")
        body["event"] = {"eventtype": "enter_chat"}
        self.count("events")
        return body, Issued("enter_chat", user, user, self.clock())

    def clicked(
        self,
        user: str,
        task_id: str,
        key: str,
        chat: str | None,
        selected: Body | None,
        msgid: str | None = None,
    ) -> tuple[Body, Issued]:
        """`user` presses `key` on the card as they see it (an update for them shows)."""
        card = self.cards.get(task_id)
        if card is None or key not in p.card_keys(card.seen_by(user)):
            raise ValueError(f"no card {task_id!r} with a button {key!r} was sent to {user!r}")
        where = chat or card.chat
        group = where if self.chats.get(where, chat is not None) else None
        msgid = msgid or uuid.uuid4().hex
        body = self.body(user, group, msgid, "event")
        shown = card.seen_by(user)
        event: Body = {"card_type": shown["card_type"], "event_key": key, "task_id": task_id}
        if selected:
            event["selected_items"] = selected
        body["event"] = {"eventtype": "template_card_event", "template_card_event": event}
        self.clicks[msgid] = Click(user, where, task_id, body)
        self.count("events")
        return body, Issued("click", user, where, self.clock(), task_id)

    def clicked_again(self, msgid: str) -> tuple[Body, Issued]:
        """The click callback `msgid` once more (same msgid and body, a new req_id)."""
        click = self.clicks[msgid]
        self.count("events")
        return click.body, Issued("click", click.user, click.chat, self.clock(), click.task_id)
