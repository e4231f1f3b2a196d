"""Buttons on WeCom's AI bot: a message with choices as a `button_interaction` template card,
what a click turns the card into, and the cards the bot remembers for that.

Pure functions and a bounded memory, no network (the transport, wecom_bot.py, sends).

Followed: `@wecom/aibot-node-sdk` 1.0.7 (dist/types/api.d.ts: TemplateCard,
TemplateCardButton, UpdateTemplateCardBody), `wecom-aibot-python-sdk` 1.0.2 (aibot/client.py:
reply_template_card, update_template_card, send_message), and the vendor's pages 模板卡片类型
(document/path/101032) and 被动回复消息 (101031) for the limits: main title "建议不超过26个字",
its desc 30, sub_title_text 112, at most 6 buttons, a button's text 10 and its key "最长支持
1024字节，不可重复"; task_id "同一个机器人不能重复，只能由数字、字母和'_-@'组成，最长128字节";
userids of an update only in a group.

How a message with choices is shown (decided here):
- The card is the whole message when it fits and nobody is mentioned: the text's first line
  is the title, the rest the sub-title (`sub_title_text`).
- Otherwise the text goes first, whole, exactly as it would without buttons (markdown, with
  its `<@userid>` mentions: a card cannot @ anyone), and the card follows with the first
  line as its title (clipped with …) and the buttons; the text already says the rest.
- One button per choice, in order, at most 6 (the vendor's limit; the text still says what
  to type for any other): its text the choice's label (clipped to 10), its key the choice's
  command, style 1 (blue) for the first choice and 2 for the others. A command longer than
  1,024 bytes, or one already on the card, gets no button.
- task_id `c<hash of conversation, text, mentions, choices>_<ms>_<n>`: new for every card
  this process builds, so an identical message sent again (the same rating asked twice)
  never reuses one; the transport keeps it for a retry of the same message, so a resend
  after a refusal carries the same id.

A click (`template_card_event`) is answered within 5 s on its req_id
(`aibot_respond_update_msg`) with the card as the clicker now sees it: the same title and
sub-title, the line of the `card_pressed` template as the title's desc («张总 12:03
已选择：满意»), and one grey button (style 4) with the chosen label and the same key. The AI
bot's buttons have no "disabled" (text, style and key only), and a text_notice card would
need a jump link (card_action), so the grey button stands for "done"; pressing it says the
command once more, which answers with the current state. In a group the update is for the
clicker only (`userids`): the others keep their buttons (their own 报名, someone else's
refusal never takes the reporter's buttons away); a single chat's card is the user's own.
What the click did is the command's reply, sent as a message like any other.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bot.messages import Choice, Outgoing
from bot.templates import clip
from channels.wecom_bot_frames import (
    RESPOND,
    RESPOND_WELCOME,
    SEND,
    Frame,
    mentions,
    new_req_id,
    split_bytes,
)

__all__ = [
    "MAX_BUTTONS",
    "RESPOND_UPDATE",
    "CardBook",
    "CardPiece",
    "Piece",
    "card_for",
    "card_reply",
    "card_send",
    "card_update",
    "card_welcome",
    "message_pieces",
    "task_id_for",
]

RESPOND_UPDATE = "aibot_respond_update_msg"

MAX_BUTTONS = 6
TITLE_CHARS = 26
DESC_CHARS = 30
SUBTITLE_CHARS = 112
LABEL_CHARS = 10
KEY_BYTES = 1024
FIRST_STYLE, OTHER_STYLE, CHOSEN_STYLE = 1, 2, 4
CARDS_KEPT = 10_000  # cards remembered for a click (title, labels)

_serial = itertools.count(1)


@dataclass(frozen=True)
class CardPiece:
    """The card part of a message (the text part, if any, is plain markdown)."""

    card: dict[str, Any]


Piece = str | CardPiece  # one frame's worth of a message: markdown text, or a card


def message_pieces(out: Outgoing, max_bytes: int) -> list[Piece]:
    """A message as frames' worth: its text in parts (mentions in front), or its card
    (with the text before it when the card cannot carry it all)."""
    text = mentions(out.mention_ids) + out.text
    made = card_for(out, task_id_for(out)) if out.choices else None
    if made is None:
        return list(split_bytes(text, max_bytes))
    card, whole = made
    return [card] if whole else [*split_bytes(text, max_bytes), card]


def task_id_for(out: Outgoing) -> str:
    """A task_id new to the bot: the message's hash, the time and a serial (≤ 128 bytes of
    letters, digits and `_`)."""
    content = "\x1f".join(
        [out.conversation_id, out.text, *out.mention_ids, *(c.command for c in out.choices)]
    )
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"c{digest}_{int(time.time() * 1000)}_{next(_serial)}"


def _buttons(choices: tuple[Choice, ...]) -> list[dict[str, Any]]:
    buttons: list[dict[str, Any]] = []
    keys: set[str] = set()
    for choice in choices:
        key = choice.command.strip()
        if not key or key in keys or len(key.encode()) > KEY_BYTES:
            continue
        keys.add(key)
        style = FIRST_STYLE if not buttons else OTHER_STYLE
        text = clip(choice.label or key, LABEL_CHARS)
        buttons.append({"text": text, "style": style, "key": key})
        if len(buttons) == MAX_BUTTONS:
            break
    return buttons


def card_for(out: Outgoing, task_id: str) -> tuple[CardPiece, bool] | None:
    """The card for a message with choices, and whether it carries the whole text (else the
    text goes before it); None when no choice can be a button."""
    buttons = _buttons(out.choices)
    if not buttons:
        return None
    first, _, rest = out.text.strip().partition("\n")
    rest = rest.strip()
    whole = not out.mention_ids and len(first) <= TITLE_CHARS and len(rest) <= SUBTITLE_CHARS
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": clip(first, TITLE_CHARS)},
    }
    if whole and rest:
        card["sub_title_text"] = rest
    card |= {"button_list": buttons, "task_id": task_id}
    return CardPiece(card), whole


def card_reply(req_id: str, piece: CardPiece) -> Frame:
    """The card as the answer to a message callback (reply_template_card)."""
    body = {"msgtype": "template_card", "template_card": piece.card}
    return {"cmd": RESPOND, "headers": {"req_id": req_id}, "body": body}


def card_welcome(req_id: str, piece: CardPiece) -> Frame:
    """The card as the welcome on an `enter_chat` (within 5 s of it)."""
    body = {"msgtype": "template_card", "template_card": piece.card}
    return {"cmd": RESPOND_WELCOME, "headers": {"req_id": req_id}, "body": body}


def card_send(chatid: str, piece: CardPiece, is_group: bool | None) -> Frame:
    """The card as a message of its own (send_message with a template_card body)."""
    body: dict[str, Any] = {"chatid": chatid}
    if is_group is not None:
        body["chat_type"] = 2 if is_group else 1
    body |= {"msgtype": "template_card", "template_card": piece.card}
    return {"cmd": SEND, "headers": {"req_id": new_req_id(SEND)}, "body": body}


def card_update(req_id: str, card: dict[str, Any], userids: list[str] | None) -> Frame:
    """The answer to a click: the card replaced (for `userids` only, in a group)."""
    body: dict[str, Any] = {"response_type": "update_template_card"}
    if userids:
        body["userids"] = userids
    body["template_card"] = card
    return {"cmd": RESPOND_UPDATE, "headers": {"req_id": req_id}, "body": body}


@dataclass
class _Sent:
    title: str
    sub_title: str | None
    labels: dict[str, str]  # key → label
    pressed: set[str] = field(default_factory=set)  # users whose card was updated


class CardBook:
    """The cards this process sent, newest last, for what a click turns them into. A card
    sent before a restart is not known: its update shows the line and the command."""

    def __init__(self, kept: int = CARDS_KEPT) -> None:
        self.kept = kept
        self._cards: OrderedDict[str, _Sent] = OrderedDict()

    def sent(self, piece: CardPiece) -> None:
        card = piece.card
        labels = {b["key"]: b["text"] for b in card["button_list"]}
        title = card["main_title"]["title"]
        self._cards[card["task_id"]] = _Sent(title, card.get("sub_title_text"), labels)
        while len(self._cards) > self.kept:
            self._cards.popitem(last=False)

    def label(self, task_id: str, key: str) -> str:
        """The text of the button that carries `key` (the key itself when unknown)."""
        sent = self._cards.get(task_id)
        return sent.labels.get(key, key) if sent else key

    def first_press(self, task_id: str, user: str) -> bool:
        """True the first time `user` presses a button of this card (as far as known)."""
        sent = self._cards.get(task_id)
        if sent is None:
            return True
        if user in sent.pressed:
            return False
        sent.pressed.add(user)
        return True

    def pressed(self, task_id: str, key: str, line: str) -> dict[str, Any]:
        """The card as the clicker sees it after the click: `line` under the title, one grey
        button with the chosen label and key."""
        sent = self._cards.get(task_id)
        label = clip(self.label(task_id, key), LABEL_CHARS)
        if sent is not None:
            main = {"title": sent.title, "desc": clip(line, DESC_CHARS)}
        else:
            main = {"title": clip(line, TITLE_CHARS)}
        card: dict[str, Any] = {"card_type": "button_interaction", "main_title": main}
        if sent is not None and sent.sub_title:
            card["sub_title_text"] = sent.sub_title
        card |= {
            "button_list": [{"text": label, "style": CHOSEN_STYLE, "key": key}],
            "task_id": task_id,
        }
        return card
