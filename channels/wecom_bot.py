"""The WeCom transport: the 智能机器人 (AI bot) over its long connection.

Its parts: wecom_bot_client (the connection, subscribe, heartbeat, reconnects),
wecom_bot_frames (the frames, and a callback as an `Incoming`), wecom_bot_inbox (the
journal), wecom_bot_cards and wecom_bot_clicks (buttons), wecom_bot_app (settings, and the
events the application is told).

Inbound: every callback is journalled as it comes off the connection (deduplicated by
msgid, before anything is done with it), then handled in arrival order. In a group WeCom
delivers only the messages that @ the robot: each is addressed to the bot. `enter_chat`
(a user opens the private chat, once a day) is journalled too and told to `events`, which
queues the bot's hello as the answer to it. A click on a card's button is a message too:
the button's command, said by the one who clicked; once journalled, the card shows it.

Outbound, one message at a time from the outbox sender (the channel's own pacing):
- the answer to a callback goes out on it (`aibot_respond_msg`, one finished stream of
  markdown; `aibot_respond_welcome_msg` for an `enter_chat`, text, within 5 s) when the
  callback is fresh: received on this connection, less than `reply_window` seconds ago,
  not answered yet. Everything else — status pushes, reminders, digests, a second answer,
  an answer after a reconnect — is a message of its own (`aibot_send_msg`, markdown), and
  so is an answer the server refuses on the callback (846605 after a reconnect).
- mentions are WeCom's markdown `<@userid>`; a text over 20,480 bytes goes in parts.
- a message with choices is a `button_interaction` card (wecom_bot_cards), after its text
  when the card cannot carry it all; on a fresh message callback, or as a message.
- a message in parts cut off midway is taken up again, when retried, at the part that
  failed (a card keeps its task_id).
- offline (before the connection, during an outage, after another instance took over), a
  send waits; stopping the bot releases it as a temporary failure (the row stays queued).
- 6000 (command conflict) is sent again; 45009 (rate limit) is a temporary failure; any
  other refusal is permanent (the outbox tells the staff). No answer: delivery unknown,
  never sent twice (the outbox reports it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.db import open_db
from bot.journal import Journal
from bot.messages import Outgoing
from bot.transport import Names, OnMessage, TransportError, first_connection, until_ready
from channels.wecom_bot_cards import (
    MAX_BUTTONS,
    CardPiece,
    Piece,
    card_reply,
    card_send,
    card_welcome,
    message_pieces,
)
from channels.wecom_bot_clicks import Clicks
from channels.wecom_bot_client import MAX_BACKOFF, NoAnswer, NotSent, WecomClient, WecomStartError
from channels.wecom_bot_frames import (
    CARD_EVENT,
    CHANNEL,
    MAX_BYTES,
    REPLY_EXPIRED,
    TRANSIENT,
    Frame,
    callback,
    markdown_send,
    stream_reply,
    welcome_text,
)
from channels.wecom_bot_inbox import WholeInbox

__all__ = ["WecomBotTransport", "WecomEvents", "WecomStartError"]

log = logging.getLogger(__name__)

RECONNECT_POLL = 0.2  # seconds between looks while a dropped connection is noticed
WELCOME_WINDOW = 4.5  # seconds: the server takes a welcome within 5 s of enter_chat
ASKED_KEPT = 10_000  # callbacks remembered for answering on them
PENDING_KEPT = 1_000  # messages cut off midway, remembered for their retry


class WecomEvents(Protocol):
    """What the application is told besides messages."""

    def chat_entered(self, user_id: str, event_id: str) -> None:
        """A user opened the private chat with the robot (`enter_chat`, once a day); an
        answer with reply_to=event_id goes out as the welcome."""
        ...


@dataclass
class _Asked:
    """A callback the bot may answer on."""

    req_id: str
    kind: str
    chatid: str
    generation: int
    at: float
    answered: bool = False


class WecomBotTransport:
    channel = CHANNEL
    max_bytes = MAX_BYTES
    max_buttons = MAX_BUTTONS  # choices shown as buttons on one message (a card)

    def __init__(
        self,
        url: str,
        bot_id: str,
        secret: str,
        *,
        names: Iterable[str] = (),
        events: WecomEvents | None = None,
        journal: Journal | None = None,
        groups: Iterable[str] = (),
        ssl_context: ssl.SSLContext | None = None,
        heartbeat: float = 30.0,
        max_backoff: float = MAX_BACKOFF,
        reply_window: float = 300.0,
        connect_timeout: float = 15.0,
        ack_timeout: float = 5.0,
        render: Callable[..., str] | None = None,
        people: Names | None = None,
    ) -> None:
        """`names`: the robot's own names (a group message starts with `@<name>`); `render`
        (a template and its values → text) and `people` (a contact's name by id) write the
        line a clicked card shows; without `render` a click changes no card."""
        self.client = WecomClient(
            url,
            bot_id,
            secret,
            self._on_callback,
            ssl_context=ssl_context,
            heartbeat=heartbeat,
            max_backoff=max_backoff,
            open_timeout=connect_timeout,
        )
        self.names = tuple(n for n in names if n)
        self.events = events
        self.inbox = WholeInbox(journal or Journal(open_db(":memory:"), self.channel))
        self.groups = set(groups)  # chats known to be groups (settings, callbacks)
        self.singles: set[str] = set()  # chats known to be single (callbacks)
        self.reply_window = reply_window
        self.connect_timeout = connect_timeout
        self.ack_timeout = ack_timeout
        self.asked: OrderedDict[str, _Asked] = OrderedDict()  # msgid → callback, newest last
        self._closing = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.clicks = Clicks(self.client, render, people or str, ack_timeout)
        # a message cut off midway (its parts, and the first not sent), for its retry
        self._pending: OrderedDict[tuple[object, ...], tuple[list[Piece], int]] = OrderedDict()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, on_message: OnMessage) -> None:
        """Connect; raises WecomStartError if the first connection fails or is refused."""
        self._closing.clear()
        first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tasks = [
            asyncio.create_task(self.client.run(first)),
            asyncio.create_task(self.inbox.run(on_message)),
        ]
        await first_connection(
            first,
            self.connect_timeout,
            self.stop,
            lambda: WecomStartError(
                f"WeCom at {self.client.url} did not answer within {self.connect_timeout:g} s"
            ),
        )

    async def stop(self) -> None:
        """Release held sends, journal what was read, close the connection."""
        self._closing.set()
        self.inbox.flush()
        log.info("%s", self.inbox.summary())
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        await self.clicks.stop()
        await self.client.close()

    # -- inbound -----------------------------------------------------------------------------

    def _on_callback(self, frame: Frame) -> None:
        found = callback(frame, self.names)
        if found is None:
            log.warning("WeCom sent a callback the bot cannot read: %.200s", frame)
            return
        (self.groups if found.is_group else self.singles).add(found.chatid)
        loop = asyncio.get_running_loop()
        new = found.msgid not in self.asked
        if new:
            generation = self.client.generation
            self.asked[found.msgid] = _Asked(
                found.req_id, found.kind, found.chatid, generation, loop.time()
            )
            while len(self.asked) > ASKED_KEPT:
                self.asked.popitem(last=False)
        self.inbox.arrived(found.msgid, found.incoming)
        if found.kind == "enter_chat" and self.events is not None:
            self.inbox.flush()  # journalled before acting on it
            self.events.chat_entered(found.user, found.msgid)
        elif found.kind == CARD_EVENT and new and found.incoming is not None:
            self.inbox.flush()  # journalled before the card shows it
            self.clicks.clicked(found)
        elif found.kind not in ("msg", "enter_chat", CARD_EVENT):
            log.info("WeCom event %s from %s (not handled)", found.kind, found.user)

    # -- outbound ----------------------------------------------------------------------------

    async def send(self, out: Outgoing) -> None:
        key = (out.conversation_id, out.text, out.mention_ids, out.choices)
        pending = self._pending.pop(key, None)
        pieces, done = pending or (message_pieces(out, self.max_bytes), 0)
        for i in range(done, len(pieces)):
            piece = pieces[i]
            try:
                await self._send_part(out, piece, may_answer=i == 0)
            except TransportError as exc:
                if not exc.permanent:  # a retry starts with the part that failed
                    self._pending[key] = (pieces, i)
                    while len(self._pending) > PENDING_KEPT:
                        self._pending.popitem(last=False)
                raise
            if isinstance(piece, CardPiece):
                self.clicks.book.sent(piece)

    async def _send_part(self, out: Outgoing, piece: Piece, *, may_answer: bool) -> None:
        asked = self._fresh(out) if may_answer else None
        while True:
            await self._until_online()
            frame = self._frame(out, piece, asked)
            try:
                answer = await self.client.answered(frame, self.ack_timeout)
            except NotSent:  # certainly not delivered: again once the connection is back
                await asyncio.sleep(RECONNECT_POLL)
                asked = self._fresh(out) if asked else None
                continue
            except NoAnswer as exc:
                raise TransportError(
                    f"delivery unknown, not sent again: no answer from WeCom ({exc})",
                    unknown=True,
                ) from exc
            code = int(answer.get("errcode") or 0)
            if asked is not None:
                asked.answered = True
            if code == 0:
                return
            if asked is not None and (code in REPLY_EXPIRED or asked.kind == "enter_chat"):
                log.info(
                    "WeCom refused the answer on %s (%s %s); sending it as a message",
                    frame["cmd"],
                    code,
                    answer.get("errmsg"),
                )
                asked = None
                continue
            reason = f"WeCom refused {frame['cmd']}: errcode {code} ({answer.get('errmsg')})"
            raise TransportError(reason, permanent=code not in TRANSIENT)

    def _fresh(self, out: Outgoing) -> _Asked | None:
        """The callback this message answers, if the answer may still go out on it."""
        found = self.asked.get(out.reply_to) if out.reply_to else None
        if found is None or found.answered:
            return None
        if found.chatid != out.conversation_id or found.generation != self.client.generation:
            return None
        window = WELCOME_WINDOW if found.kind == "enter_chat" else self.reply_window
        age = asyncio.get_running_loop().time() - found.at
        return found if found.kind in ("msg", "enter_chat") and age < window else None

    def _frame(self, out: Outgoing, piece: Piece, asked: _Asked | None) -> Frame:
        welcome = asked is not None and asked.kind == "enter_chat"
        if asked is not None:
            if isinstance(piece, CardPiece):
                return (card_welcome if welcome else card_reply)(asked.req_id, piece)
            return (welcome_text if welcome else stream_reply)(asked.req_id, piece)
        chat = out.conversation_id
        kind = True if chat in self.groups else False if chat in self.singles else None
        if isinstance(piece, CardPiece):
            return card_send(chat, piece, kind)
        return markdown_send(chat, piece, kind)

    async def _until_online(self) -> None:
        await until_ready(self.client.online, self._closing)
