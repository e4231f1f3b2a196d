"""The 微信客服 (WeChat customer service) transport: any WeChat user chats one-to-one with
the chamber's 客服账号.

In: the vendor calls the bot's callback URL (channels/wecom_kf_app.py checks and decrypts
it) with a token; `notify(token)` wakes the reader, which pulls `kf/sync_msg` from the
stored cursor until `has_more` is false. Each page is journalled (bot/journal.py: a msgid
once) before its cursor is stored, so a restart reads nothing twice and skips nothing. A
customer's message opens a reply window and releases what the outbox held for them; an
`enter_session` event gets the welcome (`send_msg_on_event`); `转人工` hands the session to a
staff servicer (`service_state/trans` to 3) and a `session_status_change` (the servicer
ends or passes it back in WeCom) is read back with `service_state/get`. While a servicer
has the session, the customer's messages are theirs: journalled, not handled by the bot.

Out: `kf/send_msg` (text; a message with choices is a `msgmenu`, each click's id the command
it stands for). The window (at most `window_messages` within `window_hours` of the
customer's last message) is counted here and kept by the outbox: a message that cannot go
is `held` (TransportError(held=True)), never sent against the limit, and goes out collapsed
when the customer writes again. The last message a window allows says how to continue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.journal import Journal
from bot.messages import Incoming, Outgoing
from bot.normalize import normalize
from bot.outbox import Outbox
from bot.transport import OnMessage, TransportError
from channels.wecom_bot_inbox import WholeInbox
from channels.wecom_kf_api import SESSION_STATE_INVALID, WINDOW_EXCEEDED, ApiError, KfApi
from channels.wecom_kf_store import HUMAN, QUEUED, KfStore

__all__ = ["CHANNEL", "MAX_TEXT_BYTES", "KfTransport"]

log = logging.getLogger(__name__)

CHANNEL = "wecom_kf"
MAX_TEXT_BYTES = 2048  # kf/send_msg: text.content
_MENU_ID_BYTES = 128  # msgmenu click.id
CUSTOMER, EVENT = 3, 4  # sync_msg `origin`: the WeChat customer, a system event
HANDOVER_WORDS = ("转人工", "人工客服", "人工")

Render = Callable[..., str]


class _Inbox(WholeInbox):
    """The shared handling loop over the journal; the reader journals whole pages itself."""

    def wake(self) -> None:
        self._more.set()


class KfTransport:
    channel = CHANNEL

    def __init__(
        self,
        api: KfApi,
        store: KfStore,
        journal: Journal,
        outbox: Outbox,
        *,
        open_kfid: str,
        render: Render,
        clock: Clock,
        servicers: list[str],
        window_hours: float = 48.0,
        window_messages: int = 5,
        on_outage: Callable[[str], None] | None = None,
        retry_seconds: float = 1.0,
        retry_max_seconds: float = 60.0,
    ) -> None:
        self.api, self.store, self.outbox, self.clock = api, store, outbox, clock
        self.open_kfid, self.render, self.servicers = open_kfid, render, servicers
        self.window_hours, self.window_messages = window_hours, window_messages
        self.on_outage = on_outage
        self.retry_seconds, self.retry_max_seconds = retry_seconds, retry_max_seconds
        self.inbox = _Inbox(journal)
        self.journal = journal
        self._token: str | None = None
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.syncs = 0  # sync passes completed (tests wait on it)

    # -- the transport seam ---------------------------------------------------------------

    async def start(self, on_message: OnMessage) -> None:
        self._tasks = [
            asyncio.create_task(self.inbox.run(on_message)),
            asyncio.create_task(self._reader()),
        ]
        self._wake.set()  # catch up on what came while the bot was down

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.api.close()

    def notify(self, token: str) -> None:
        """A callback said messages wait: read them with its token."""
        self._token = token
        self._wake.set()

    async def send(self, out: Outgoing) -> None:
        user = out.conversation_id
        session = self.store.session(user)
        left = session.window_left(self.clock.now(), self.window_hours, self.window_messages)
        if session.state == HUMAN:
            raise TransportError("客服会话由人工接待中", held=True)
        if left <= 0:
            raise TransportError("客服窗口已过（48小时/5条）", held=True)
        text = out.text
        if left == 1:
            text = f"{text}\n\n{self.render('kf_window_last').strip()}"
        try:
            await self.api.send_msg(self._body(user, text, out))
        except ApiError as exc:
            if exc.errcode == WINDOW_EXCEEDED:
                self.store.window_used_up(user, self.window_messages)
                raise TransportError(str(exc), held=True) from None
            if exc.errcode == SESSION_STATE_INVALID:
                raise TransportError(str(exc), held=True) from None
            raise TransportError(str(exc), permanent=not exc.transient) from None
        self.store.sent_one(user)

    def _body(self, user: str, text: str, out: Outgoing) -> dict[str, Any]:
        """A text, or a `msgmenu` whose clicks come back as their commands (click ids)."""
        body: dict[str, Any] = {"touser": user, "open_kfid": self.open_kfid}
        if out.choices and all(len(c.command.encode()) <= _MENU_ID_BYTES for c in out.choices):
            body["msgtype"] = "msgmenu"
            body["msgmenu"] = {
                "head_content": _fit(text),
                "list": [
                    {"type": "click", "click": {"id": c.command, "content": c.label}}
                    for c in out.choices
                ],
            }
            return body
        body["msgtype"] = "text"
        body["text"] = {"content": _fit(text)}
        return body

    # -- reading --------------------------------------------------------------------------

    async def _reader(self) -> None:
        failures = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.sync()
            except ApiError as exc:
                failures += 1
                delay = min(self.retry_max_seconds, self.retry_seconds * 2 ** (failures - 1))
                log.warning("微信客服 sync_msg failed (%s); again in %.1f s", exc, delay)
                if failures == 3 and self.on_outage is not None:
                    self.on_outage(str(exc))  # staff told once per outage
                self._wake.set()
                await asyncio.sleep(delay)
                continue
            except Exception:
                log.exception("微信客服: reading messages failed")
                self._wake.set()
                await asyncio.sleep(self.retry_seconds)
                continue
            if failures >= 3:
                log.info("微信客服 sync_msg works again after %d failures", failures)
            failures = 0
            self.syncs += 1

    async def sync(self) -> None:
        """Every page from the stored cursor: journalled, then the cursor stored."""
        more = True
        while more:
            cursor = self.store.cursor(self.open_kfid)
            page = await self.api.sync_msg(cursor, self._token, self.open_kfid)
            arrivals = [(str(m.get("msgid", "")), m) for m in page.messages if m.get("msgid")]
            incoming = {msgid: self._incoming(m) for msgid, m in arrivals}
            new = self.journal.append_resolved(
                [(msgid, self.clock.now().timestamp(), incoming[msgid]) for msgid, _ in arrivals]
            )
            for msgid, message in arrivals:
                if msgid in new:
                    await self._act(message, incoming[msgid])
            self.inbox.wake()  # the journal has rows for the handler
            self.store.set_cursor(self.open_kfid, page.next_cursor)
            more = page.has_more

    def _incoming(self, m: dict[str, Any]) -> Incoming | None:
        """What a synced message is for the bot (None: an event, a servicer's chat, 转人工)."""
        if m.get("origin") != CUSTOMER or m.get("msgtype") != "text":
            return None
        user = str(m.get("external_userid", ""))
        text = m.get("text") or {}
        content = str(text.get("menu_id") or text.get("content") or "")
        if self.store.session(user).state == HUMAN or not content or _handover(content):
            return None
        return Incoming(
            message_id=str(m["msgid"]),
            conversation_id=user,
            is_group=False,
            sender_id=user,
            sender_name="微信用户",
            text=content,
            time=self._sent_at(m),
            channel=CHANNEL,
        )

    async def _act(self, m: dict[str, Any], msg: Incoming | None) -> None:
        """What a new synced message does before it is handled: window, held, events."""
        user = str(m.get("external_userid", ""))
        if m.get("origin") == CUSTOMER:
            self.store.customer_wrote(user, self._sent_at(m))
            text = (m.get("text") or {}).get("content") or ""
            if _handover(str(text)) and self.store.session(user).state != HUMAN:
                await self._hand_over(user)
            elif msg is not None:
                self.release(user)
        elif m.get("msgtype") == "event":
            event = m.get("event") or {}
            user = str(event.get("external_userid", user))
            kind = event.get("event_type")
            if kind == "enter_session" and event.get("welcome_code"):
                await self.api.send_on_event(str(event["welcome_code"]), self.render("kf_welcome"))
            elif kind == "session_status_change":
                state, servicer = await self.api.service_state(self.open_kfid, user)
                self.store.set_state(user, state, servicer)
                log.info("微信客服: %s's session is now in state %d", user, state)

    def release(self, user: str) -> None:
        """What the window held for `user` goes out now, collapsed, newest first."""
        held = self.outbox.held_for(user)
        if not held:
            return
        texts = [q.out.text for q in reversed(held)]
        text = self.render("kf_held", texts=texts, count=len(texts)).strip()
        self.outbox.release([q.id for q in held], [Outgoing(user, text, channel=CHANNEL)])
        log.info("微信客服: %d held messages to %s released, collapsed", len(held), user)

    async def _hand_over(self, user: str) -> None:
        """转人工: the session to the first staff servicer, or to the queue when none is
        named; the customer is told with the event code the change answers."""
        servicer = self.servicers[0] if self.servicers else ""
        state = HUMAN if servicer else QUEUED
        code = await self.api.trans(self.open_kfid, user, state, servicer)
        self.store.set_state(user, state, servicer)
        log.info("微信客服: %s handed to %s (state %d)", user, servicer or "the queue", state)
        if code:
            await self.api.send_on_event(code, self.render("kf_handover", queued=not servicer))

    def _sent_at(self, m: dict[str, Any]) -> datetime:
        now = self.clock.now()
        sent = m.get("send_time")
        if not isinstance(sent, int):
            return now
        at = datetime.fromtimestamp(sent, tz=now.tzinfo)
        return min(at, now)


def _handover(text: str) -> bool:
    return normalize(text).strip() in HANDOVER_WORDS


def _fit(text: str) -> str:
    """Within the 2,048 bytes of a 客服 text (cut at a line, with a note, when longer)."""
    if len(text.encode()) <= MAX_TEXT_BYTES:
        return text
    note = "\n……（内容较长，请发送「帮助」查看其他方式）"
    room = MAX_TEXT_BYTES - len(note.encode())
    cut = text.encode()[:room].decode(errors="ignore")
    if "\n" in cut:
        cut = cut[: cut.rindex("\n")]
    return cut + note
