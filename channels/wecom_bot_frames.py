"""The frames of WeCom's 智能机器人 (AI bot) long connection, and what they mean to the bot.

Pure functions, no network: what the adapter sends (subscribe, ping, a reply on a callback,
a welcome, a message nobody asked for) and how a callback becomes an `Incoming`.

Followed: the vendor's SDKs `wecom-aibot-python-sdk` 1.0.2 (aibot/ws.py, client.py,
types.py) and `@wecom/aibot-node-sdk` 1.0.7 (dist/types, dist/index.cjs.js). Every frame is
`{"cmd", "headers": {"req_id"}, "body"}`; the answer to a frame the client sent carries its
req_id, `errcode` and `errmsg`, and no `cmd`. A reply to a callback reuses the callback's
req_id; the client's own frames get a fresh one, `<cmd>_<milliseconds>_<random>` as the SDKs
make them.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.messages import Incoming

__all__ = [
    "CARD_EVENT",
    "CHANNEL",
    "CONFLICT",
    "EVENT_CALLBACK",
    "MAX_BYTES",
    "MSG_CALLBACK",
    "PING",
    "REPLY_EXPIRED",
    "RESPOND",
    "RESPOND_WELCOME",
    "SEND",
    "SUBSCRIBE",
    "TRANSIENT",
    "Callback",
    "Frame",
    "callback",
    "dumps",
    "markdown_send",
    "mentions",
    "new_req_id",
    "ping",
    "split_bytes",
    "stream_reply",
    "subscribe",
    "welcome_text",
]

CHANNEL = "wecom_bot"

# Client → server.
SUBSCRIBE = "aibot_subscribe"
PING = "ping"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
SEND = "aibot_send_msg"
# Server → client.
MSG_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
CARD_EVENT = "template_card_event"  # a click on a button of a card the bot sent

#: content of a stream reply or a markdown message: "最长不超过 20480 个字节" (node SDK)
MAX_BYTES = 20480
CONFLICT = 6000  # "command conflict": another command is in flight; send it again
#: a reply on this req_id is no longer possible (846605 invalid req_id, e.g. after a
#: reconnect; 846608 stream message update expired): send it as a message instead
REPLY_EXPIRED = frozenset({846605, 846608})
#: refusals worth another try later (45009: WeCom's "api freq out of limit")
TRANSIENT = frozenset({45009})

Frame = dict[str, Any]


def new_req_id(prefix: str) -> str:
    return f"{prefix}_{int(time.time() * 1000)}_{secrets.token_hex(4)}"


def dumps(frame: Frame) -> str:
    return json.dumps(frame, ensure_ascii=False)


def subscribe(bot_id: str, secret: str) -> Frame:
    return {
        "cmd": SUBSCRIBE,
        "headers": {"req_id": new_req_id(SUBSCRIBE)},
        "body": {"bot_id": bot_id, "secret": secret},
    }


def ping() -> Frame:
    return {"cmd": PING, "headers": {"req_id": new_req_id(PING)}}


def stream_reply(req_id: str, content: str) -> Frame:
    """A reply on a message callback: one finished stream (markdown content)."""
    stream = {"id": new_req_id("stream"), "finish": True, "content": content}
    return {
        "cmd": RESPOND,
        "headers": {"req_id": req_id},
        "body": {"msgtype": "stream", "stream": stream},
    }


def welcome_text(req_id: str, content: str) -> Frame:
    """The welcome on an `enter_chat` event (within 5 s of it; text, not markdown)."""
    body = {"msgtype": "text", "text": {"content": content}}
    return {"cmd": RESPOND_WELCOME, "headers": {"req_id": req_id}, "body": body}


def markdown_send(chatid: str, content: str, is_group: bool | None) -> Frame:
    """A message nobody asked for. `chat_type` 1 single / 2 group when known; the SDKs
    send none (the server then decides)."""
    body: dict[str, Any] = {"chatid": chatid}
    if is_group is not None:
        body["chat_type"] = 2 if is_group else 1
    body |= {"msgtype": "markdown", "markdown": {"content": content}}
    return {"cmd": SEND, "headers": {"req_id": new_req_id(SEND)}, "body": body}


def mentions(mention_ids: tuple[str, ...]) -> str:
    """Mentions as WeCom's markdown writes them: `<@userid>` (its robots' `<@userid>`
    extended syntax), each followed by a space, in front of the text."""
    return "".join(f"<@{m}> " for m in mention_ids)


def split_bytes(text: str, limit: int = MAX_BYTES) -> list[str]:
    """The text in parts of at most `limit` UTF-8 bytes, cut between lines where a line
    fits, else between characters."""
    if len(text.encode()) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if len((current + line).encode()) <= limit:
            current += line
            continue
        if current:
            parts.append(current)
            current = ""
        while len(line.encode()) > limit:
            head = line.encode()[:limit].decode(errors="ignore")  # whole characters only
            parts.append(head)
            line = line[len(head) :]
        current = line
    if current:
        parts.append(current)
    return [p.rstrip("\n") for p in parts if p.strip()]


@dataclass(frozen=True)
class Callback:
    """A callback as the adapter keeps it: what to journal, and how to answer it."""

    msgid: str
    req_id: str
    kind: str  # "msg", "enter_chat", CARD_EVENT, or another event type
    chatid: str  # the conversation: a group's chatid, or the user's id
    is_group: bool
    user: str
    incoming: Incoming | None  # the message for the core (None: nothing to handle)
    task_id: str | None = None  # a click: the card's task_id


def _time(value: object) -> datetime:
    """`create_time`: seconds (or milliseconds) since the epoch; now when absent."""
    if not isinstance(value, int | float) or value <= 0:
        return datetime.now(UTC)
    seconds = value / 1000 if value > 10_000_000_000 else value
    return datetime.fromtimestamp(seconds, tz=UTC)


def _text(body: dict[str, Any]) -> str | None:
    """The words of a message: text, a voice message's transcript, a mixed message's text
    items. None for what carries no words (an image, a file)."""
    msgtype = body.get("msgtype")
    if msgtype in ("text", "voice"):
        content = (body.get(msgtype) or {}).get("content")
        return str(content) if content is not None else None
    if msgtype == "mixed":
        items = (body.get("mixed") or {}).get("msg_item") or []
        words = [
            str((i.get("text") or {}).get("content", ""))
            for i in items
            if isinstance(i, dict) and i.get("msgtype") == "text"
        ]
        return "\n".join(w for w in words if w) or None
    return None


def _without_address(text: str, names: tuple[str, ...]) -> str:
    """A group message without the `@<robot name> ` WeCom puts in front of it."""
    for name in sorted((n for n in names if n), key=len, reverse=True):
        found = re.match(rf"\s*[@＠]{re.escape(name)}(?:[\s\u2005\u3000]+|$)", text)
        if found:
            return text[found.end() :]
    return text


def callback(frame: Frame, names: tuple[str, ...]) -> Callback | None:
    """A message or event callback as the adapter keeps it; None if it is malformed.

    In a group only messages that @ the robot arrive: each is addressed to the bot
    (`mentions_bot`), without the `@<name> ` in front. A single chat's conversation is
    the user's id, as a private chat's is on every channel. A click on a card's button
    (`template_card_event`) is a message from the one who clicked, in the chat where the
    card is, whose text is the button's key — the command the button stands for — and in a
    group it is addressed to the bot, as typing it after an @ would be.
    """
    body = frame.get("body")
    req_id = (frame.get("headers") or {}).get("req_id")
    if not isinstance(body, dict) or not isinstance(req_id, str):
        return None
    msgid, user = body.get("msgid"), (body.get("from") or {}).get("userid")
    if not isinstance(msgid, str) or not msgid or not isinstance(user, str) or not user:
        return None
    group = body.get("chatid") if body.get("chattype") == "group" else None
    chatid = str(group) if group else user

    def said(text: str) -> Incoming:
        return Incoming(
            message_id=msgid,
            conversation_id=chatid,
            is_group=bool(group),
            sender_id=user,
            sender_name="",  # WeCom sends the userid only; a known name is kept
            text=text,
            time=_time(body.get("create_time")),
            mentions_bot=bool(group),
            channel=CHANNEL,
        )

    if frame.get("cmd") == EVENT_CALLBACK:
        event = body.get("event")
        event = event if isinstance(event, dict) else {}
        kind = str(event.get("eventtype") or "event")
        if kind != CARD_EVENT:
            return Callback(msgid, req_id, kind, chatid, bool(group), user, None)
        key, task_id = _clicked(event)
        incoming = said(key) if key else None
        return Callback(msgid, req_id, kind, chatid, bool(group), user, incoming, task_id)
    text = _text(body)
    incoming = said(_without_address(text, names) if group else text) if text is not None else None
    return Callback(msgid, req_id, "msg", chatid, bool(group), user, incoming)


def _clicked(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(event_key, task_id) of a click: in `event.template_card_event` as the server was
    measured sending it, or in `event` itself as the node SDK's types have it."""
    inner = event.get(CARD_EVENT)
    found = inner if isinstance(inner, dict) else event
    key, task_id = found.get("event_key"), found.get("task_id")
    return (
        key if isinstance(key, str) and key.strip() else None,
        task_id if isinstance(task_id, str) and task_id else None,
    )
