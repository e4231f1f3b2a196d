"""A loopback emulator of WeCom's 智能机器人 (AI bot) long-connection server, for tests.

It serves wss://127.0.0.1:<port> (a throw-away trustme CA; the vendor's endpoint is TLS too)
from a background thread with its own asyncio loop, so sync tests and `chamberbot run`
subprocesses can use it. Every public method is synchronous and thread-safe.

The protocol followed — wecom-aibot-python-sdk 1.0.2, @wecom/aibot-node-sdk 1.0.7 and the
vendor's page 101463, with the measured error codes — and the error codes the emulator had to
choose itself are in tests/wecom/protocol.py; tests/wecom/README.md has the overview.

A test plays the people (say, enter_chat, click), the network (drop, a second connection)
and reads what the bot sent (sent, sent_to, wait_sent, refused, stats).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import trustme
from websockets.asyncio.server import Server, serve

from tests.wecom.ledger import Ledger
from tests.wecom.server import BotServer

# The server's own log stays in its thread: a line written after a test's log capture has
# closed its stream would otherwise print a logging traceback into the run.
_QUIET = logging.getLogger("tests.wecom.emulator")
_QUIET.propagate = False
_QUIET.addHandler(logging.NullHandler())

T = TypeVar("T")


class WecomEmulator:
    url: str  # "wss://127.0.0.1:<port>", once started
    ca_file: Path  # PEM of the CA the client must trust, once started

    def __init__(
        self,
        bot_id: str = "aibot-test",
        secret: str = "s3cret",
        bot_name: str = "商会助手",
        *,
        clock: Callable[[], float] = time.monotonic,
        send_limits: tuple[tuple[int, float], ...] = (),
    ) -> None:
        """`clock` (seconds) times the 5-second event windows, the 6-minute stream life and
        `send_limits` ((messages, seconds) per chat for aibot_send_msg; none by default, see
        protocol.UNCONFIRMED_SEND_LIMITS); a test may pass a clock it advances."""
        self.bot_id, self.bot_name = bot_id, bot_name
        self._ledger = Ledger(bot_id, bot_name, clock, send_limits)
        self._server = BotServer(self._ledger, secret)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ws: Server | None = None
        self._dir: Path | None = None

    # --- life -----------------------------------------------------------------------------

    def start(self) -> WecomEmulator:
        self._dir = Path(tempfile.mkdtemp(prefix="wecom-emulator-"))
        ca = trustme.CA()
        self.ca_file = self._dir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(tls)
        # No TLS 1.3 session tickets: with them, about one handshake in a hundred from
        # websockets' sync client never reached the server (the ticket arrives while the
        # client writes its request), and the client timed out after 10 s.
        tls.num_tickets = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="wecom-emulator", daemon=True
        )
        self._thread.start()
        self._ws = self._call(self._serve(tls))
        port = self._ws.sockets[0].getsockname()[1]
        self.url = f"wss://127.0.0.1:{port}"
        return self

    async def _serve(self, tls: ssl.SSLContext) -> Server:
        return await serve(
            self._server.handle,
            "127.0.0.1",
            0,
            ssl=tls,
            process_request=self._server.gate,
            ping_interval=None,  # the protocol's heartbeat is the client's `ping` frame
            logger=_QUIET,
        )

    async def _shutdown(self) -> None:
        for task in list(self._server.tasks):
            task.cancel()
        if self._ws is not None:
            self._ws.close()
            await self._ws.wait_closed()

    def close(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> WecomEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("the WeCom emulator is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def client_ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts the emulator's CA (and verifies the host)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    # --- people and chats -----------------------------------------------------------------

    def say(
        self, user: str, text: str, chat: str | None = None, *, msgid: str | None = None
    ) -> str:
        """`user` writes to the bot: in a single chat (chat None) or, @-ing the bot, in the
        group `chat`. Returns the msgid. Not delivered while the user has 3 unfinished streams
        (stats["dropped_messages"]) or while no connection is live (stats["undelivered"])."""
        msgid = msgid or uuid.uuid4().hex
        self._call(self._server.say(user, text, chat, msgid))
        return msgid

    def redeliver(self, msgid: str) -> None:
        """The same message or click callback again (same msgid and body, a new req_id)."""
        self._call(self._server.redeliver(msgid))

    def enter_chat(self, user: str) -> str:
        """`user` opens the single chat with the bot; returns the event's req_id."""
        return self._call(self._server.enter_chat(user))

    def click(
        self,
        user: str,
        task_id: str,
        event_key: str,
        chat: str | None = None,
        *,
        selected: dict[str, Any] | None = None,
        msgid: str | None = None,
    ) -> str:
        """`user` presses the button `event_key` of the card `task_id` the bot sent (in the
        chat it landed in unless `chat` says otherwise), as the card shows to them (an
        update with `userids` changes it for those users only); returns the event's req_id.
        `selected` becomes the event's selected_items (vote/multiple cards); `msgid` the
        callback's msgid (for `redeliver`), a new one by default."""
        return self._call(self._server.click(user, task_id, event_key, chat, selected, msgid))

    def add_chat(self, chat: str, *, group: bool = True) -> None:
        """Make a chat known without a message (aibot_send_msg refuses unknown chats)."""

        async def add() -> None:
            self._ledger.chats[chat] = group

        self._call(add())

    # --- what the bot sent ----------------------------------------------------------------

    def sent(self) -> list[dict[str, Any]]:
        """Every accepted respond / send / welcome / update, oldest first: cmd, req_id,
        chatid (group chatid or the user of a single chat), msgtype, text, card, finish,
        time (the clock), stream_id, body."""
        with self._ledger.lock:
            return list(self._ledger.records)

    def sent_to(self, chat: str) -> list[dict[str, Any]]:
        return [r for r in self.sent() if r["chatid"] == chat]

    def wait_sent(self, chat: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(records := self.sent_to(chat)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(records)} of {count} messages to {chat!r} within {timeout} s; "
                    f"sent: {[(r['chatid'], r['text']) for r in self.sent()]}; "
                    f"refused: {[(r['cmd'], r['errcode']) for r in self.refused()]}"
                )
            time.sleep(0.02)
        return records

    def refused(self) -> list[dict[str, Any]]:
        """Frames answered with a non-zero errcode: cmd, req_id, errcode, errmsg, body, time."""
        with self._ledger.lock:
            return list(self._ledger.refusals)

    def clear(self) -> None:
        with self._ledger.lock:
            self._ledger.records.clear()
            self._ledger.refusals.clear()

    # --- connections and faults -----------------------------------------------------------

    def connections(self) -> int:
        return 0 if self._server.live is None else 1

    def wait_connected(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.connections():
            if time.monotonic() > deadline:
                raise AssertionError(f"no subscribed connection within {timeout} s")
            time.sleep(0.02)

    def drop(self, seconds: float) -> None:
        """Cut every connection and answer new handshakes with HTTP 503 for `seconds`."""
        self._call(self._server.drop(seconds))

    def stall(self, seconds: float) -> None:
        """A black hole for `seconds`: connections stay open, but frames from the bot are
        ignored (no acks, not even to pings) and callbacks are not delivered."""
        self._call(self._server.stall(seconds))

    def conflict(self, count: int = 1) -> None:
        """Answer the next `count` reply/send frames with errcode 6000 (command conflict)."""

        async def arm() -> None:
            self._server.conflicts += count

        self._call(arm())

    def subscribes(self) -> int:
        return self.stats["subscribes"]

    @property
    def stats(self) -> dict[str, int]:
        """Counters: subscribes, pings, respond, respond_welcome, respond_update, send,
        refused, messages, events, dropped_messages, undelivered, refused_handshakes,
        ignored_frames."""
        with self._ledger.lock:
            return {**dict.fromkeys(STATS, 0), **self._ledger.counters}


STATS = (
    "subscribes", "pings", "respond", "respond_welcome", "respond_update", "send", "refused",
    "messages", "events", "dropped_messages", "undelivered", "refused_handshakes",
    "ignored_frames",
)  # fmt: skip
