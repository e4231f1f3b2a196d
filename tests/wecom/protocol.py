"""The frames of WeCom's 智能机器人 long connection, as the emulator speaks them.

Followed: the vendor's SDKs `wecom-aibot-python-sdk` 1.0.2 (aibot/ws.py, client.py, types.py)
and `@wecom/aibot-node-sdk` 1.0.7 (dist/types/*.d.ts, dist/index.cjs.js), and the vendor's
page 智能机器人长连接 (developer.work.weixin.qq.com/document/path/101463). Facts the SDKs do
not state come from published measurements against the real server with SDK 1.0.2
(tangnie001-stack/corporate_rag, docs/agents/wecom-sdk-facts.md): the error codes 853000 and
846605, the shape of `template_card_event` and `disconnected_event`. `chat_type` 1/2 of
aibot_send_msg is what zhayujie/chatgpt-on-wechat (channel/wecom_bot) sends; errcode 6000
("command conflict", retry) is what AstrBot's long-connection client retries.

Every frame is `{"cmd", "headers": {"req_id"}, "body"}`; an answer to a frame the client sent
(subscribe, ping, a reply, a send) carries the request's req_id, `errcode` and `errmsg`, and
no `cmd`.
"""

from __future__ import annotations

import json
import re
from typing import Any

# Client → server.
SUBSCRIBE = "aibot_subscribe"
PING = "ping"
RESPOND = "aibot_respond_msg"
RESPOND_WELCOME = "aibot_respond_welcome_msg"
RESPOND_UPDATE = "aibot_respond_update_msg"
SEND = "aibot_send_msg"
# Server → client.
MSG_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"

# Error codes the vendor's SDKs or the measurements above name.
OK = 0
ERR_COMMAND_CONFLICT = 6000  # another command is in flight; the client retries
ERR_INVALID_REQ_ID = 846605  # "invalid req_id": unknown, stale (after a reconnect), wrong kind
ERR_INVALID_CREDENTIALS = 853000  # "invalid bot_id or secret"
ERR_INVALID_MSGTYPE = 40008  # WeCom's global 不合法的消息类型 (aibot_send_msg refuses text)
# WeCom's global 接口调用超过限制; not confirmed for this channel (see UNCONFIRMED_SEND_LIMITS).
ERR_RATE_LIMITED = 45009

# Codes nobody has published: chosen by the emulator, in a range WeCom does not use, so that
# nobody mistakes them for the vendor's. An adapter should treat them as "refused".
ERR_NOT_SUBSCRIBED = 990001  # a frame before a successful aibot_subscribe (then closed)
ERR_CONTENT_TOO_LONG = 990002  # stream / markdown content over MAX_CONTENT_BYTES
ERR_STREAM_CLOSED = 990003  # a refresh of a finished stream, or one older than STREAM_TTL
ERR_UNKNOWN_CHAT = 990004  # aibot_send_msg to a chat the bot was never in
ERR_BAD_CARD = 990005  # a template card without a known card_type, a task_id or its buttons
ERR_DUPLICATE_TASK_ID = 990006  # a new card reusing a task_id ("同一个机器人不能重复")
ERR_UNKNOWN_CMD = 990007
ERR_BAD_FRAME = 990008  # not a JSON object, or no headers.req_id

ERRMSG = {
    OK: "ok",
    ERR_COMMAND_CONFLICT: "command conflict, retry",
    ERR_INVALID_REQ_ID: "invalid req_id",
    ERR_INVALID_CREDENTIALS: "invalid bot_id or secret",
    ERR_INVALID_MSGTYPE: "invalid msgtype",
    ERR_RATE_LIMITED: "api freq out of limit",
    ERR_NOT_SUBSCRIBED: "not subscribed",
    ERR_CONTENT_TOO_LONG: "content exceeds 20480 bytes",
    ERR_STREAM_CLOSED: "stream finished or expired",
    ERR_UNKNOWN_CHAT: "invalid chatid",
    ERR_BAD_CARD: "invalid template_card",
    ERR_DUPLICATE_TASK_ID: "duplicate task_id",
    ERR_UNKNOWN_CMD: "unknown cmd",
    ERR_BAD_FRAME: "invalid frame",
}

# Limits. Stream content: "最长不超过 20480 个字节" (node SDK StreamReplyBody).
MAX_CONTENT_BYTES = 20480
STREAM_TTL = 6 * 60.0  # seconds a stream may be refreshed after its first frame
MAX_UNFINISHED_STREAMS = 3  # per user; that user's next message is not delivered
EVENT_REPLY_WINDOW = 5.0  # welcome after enter_chat, card update after a click (SDK docstrings)
REPLACED_CLOSE_DELAY = 0.5  # the real server waited 2.2 s to 313 s in the measurements
# aibot_send_msg per chat: (messages, window in seconds). Neither SDK nor the vendor's page
# states a limit, so the emulator enforces none unless a test asks for one
# (WecomEmulator(send_limits=...)); an unsourced developer's note says 30 a minute and 1000
# an hour, which is what a test can pass to see ERR_RATE_LIMITED.
UNCONFIRMED_SEND_LIMITS = ((30, 60.0), (1000, 3600.0))

CARD_TYPES = frozenset(
    {
        "text_notice",
        "news_notice",
        "button_interaction",
        "vote_interaction",
        "multiple_interaction",
    }
)
INTERACTIVE_CARDS = frozenset({"button_interaction", "vote_interaction", "multiple_interaction"})
# Template cards (node SDK TemplateCard; the vendor's page 模板卡片类型, 101032): a task_id
# "只能由数字、字母和'_-@'组成，最长128字节"; button_list "列表长度不超过6", a key "最长支持1024
# 字节，不可重复"; "main_title.title和二级普通文本sub_title_text必须有一项填写".
TASK_ID = re.compile(r"[A-Za-z0-9_@-]{1,128}")
MAX_BUTTONS = 6
MAX_KEY_BYTES = 1024
RESPOND_TYPES = frozenset({"stream", "stream_with_template_card", "template_card", "markdown"})
WELCOME_TYPES = frozenset({"text", "template_card"})
SEND_TYPES = frozenset({"markdown", "template_card"})
CHAT_TYPE = {"single": 1, "group": 2}  # aibot_send_msg body.chat_type


def ack(req_id: str, errcode: int = OK) -> dict[str, Any]:
    return {"headers": {"req_id": req_id}, "errcode": errcode, "errmsg": ERRMSG[errcode]}


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False)


def callback_body(
    *, msgid: str, bot_id: str, user: str, group: str | None, now: int, msgtype: str
) -> dict[str, Any]:
    """The fields every callback body has; `chatid` only in a group."""
    body: dict[str, Any] = {"msgid": msgid, "aibotid": bot_id}
    if group is not None:
        body["chatid"] = group
    body |= {
        "chattype": "group" if group is not None else "single",
        "from": {"userid": user},
        "create_time": now,
        "msgtype": msgtype,
    }
    return body


def card_keys(card: dict[str, Any]) -> set[str]:
    """The event keys a click on this card can carry."""
    keys = {b.get("key") for b in card.get("button_list") or () if isinstance(b, dict)}
    submit = card.get("submit_button")
    if isinstance(submit, dict):
        keys.add(submit.get("key"))
    menu = card.get("action_menu")
    if isinstance(menu, dict):
        keys |= {a.get("key") for a in menu.get("action_list") or () if isinstance(a, dict)}
    return {k for k in keys if isinstance(k, str)}


def card_problem(card: object) -> str | None:
    """Why this template card would be refused, or None."""
    if not isinstance(card, dict) or card.get("card_type") not in CARD_TYPES:
        return "card_type"
    if card["card_type"] in INTERACTIVE_CARDS:
        task_id = card.get("task_id")
        if not isinstance(task_id, str) or not TASK_ID.fullmatch(task_id):
            return "task_id"
        if not card_keys(card):
            return "buttons"
    if card["card_type"] == "button_interaction":
        return button_problem(card)
    return None


def button_problem(card: dict[str, Any]) -> str | None:
    """Why a button_interaction card would be refused, or None."""
    buttons = card.get("button_list")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        return "buttons"
    keys = [b.get("key") if isinstance(b, dict) else None for b in buttons]
    if any(not isinstance(k, str) or not k or len(k.encode()) > MAX_KEY_BYTES for k in keys):
        return "buttons"
    if len(set(keys)) < len(keys) or any(not b.get("text") for b in buttons):
        return "buttons"
    if not (card.get("main_title") or {}).get("title") and not card.get("sub_title_text"):
        return "title"
    return None


def card_text(card: dict[str, Any]) -> str:
    """A card's main title and description, one per line."""
    main = card.get("main_title") or {}
    return "\n".join(str(main[k]) for k in ("title", "desc") if main.get(k))


def content_of(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None, bool | None]:
    """(text, card, stream finish flag) of an outbound body."""
    msgtype = body.get("msgtype")
    card = body.get("template_card") if isinstance(body.get("template_card"), dict) else None
    if msgtype in ("stream", "stream_with_template_card"):
        stream = body.get("stream") or {}
        return stream.get("content"), card, bool(stream.get("finish", False))
    if msgtype in ("markdown", "text"):
        return (body.get(msgtype) or {}).get("content"), None, None
    if card is not None:
        return card_text(card), card, None
    return None, None, None


def too_long(text: str | None) -> bool:
    return text is not None and len(text.encode()) > MAX_CONTENT_BYTES
