"""The long connection to WeCom's AI-bot endpoint: one WebSocket, subscribe, heartbeat,
reconnects, and the answers to the frames the bot sends.

Built on `websockets` (its asyncio client), not on the vendor's `wecom-aibot-python-sdk`
1.0.2: that one is "Development Status :: 4 - Beta", builds its TLS context from certifi's
bundle at import time with no way to pass a CA or an SSL context, doubles its reconnect
delay up to a private 30-s cap and gives up after 10 attempts by default, and keeps its own
in-memory reply queue beside our durable outbox. The frames are the SDK's (see
wecom_bot_frames).

`WecomClient.run()` keeps one session at a time: connect (wss, verified against the
system's CAs and an optional extra CA file), send `aibot_subscribe`, then read frames:
callbacks go to `on_callback`, answers (no `cmd`) to whoever waits for that req_id. A ping
goes out every `heartbeat` seconds (the vendor asks for 30); two unanswered in a row end
the session, as the SDKs do. A lost session is retried with a doubling delay capped at
`max_backoff` (1 s by default: the bot is back about a second after any outage ends);
a refused subscription (wrong secret) waits `REFUSED_BACKOFF` between tries. Only the
first session's failure is final: `run()`'s caller gets a `WecomStartError` with a
sentence an operator can act on.

One live connection per robot: when another instance subscribes, the server tells this
one with a `disconnected_event` and cuts it. Policy (the vendor's SDKs do the same): the
newest connection wins; this instance logs it as an error, stops using WeCom and does not
reconnect (reconnecting would cut the other one, and the two would take turns for ever).
Its WeCom messages stay queued in the outbox; restarting it takes the connection back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Callable

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from channels.wecom_bot_frames import (
    CONFLICT,
    EVENT_CALLBACK,
    MSG_CALLBACK,
    Frame,
    dumps,
    ping,
    subscribe,
)

__all__ = ["MAX_BACKOFF", "NoAnswer", "NotSent", "WecomClient", "WecomStartError"]

log = logging.getLogger(__name__)

MIN_BACKOFF = 0.2
MAX_BACKOFF = 1.0  # a refused connect is cheap: try every second, back within ~1 s
REFUSED_BACKOFF = 30.0  # between subscriptions the server refused (credentials)
STABLE_SECONDS = 10.0  # a session that lasted this long resets the backoff
MISSED_PINGS = 2  # unanswered heartbeats in a row that end a session (the SDKs' rule)
MAX_FRAME = 4 * 1024 * 1024


class WecomStartError(Exception):
    """The first connection failed or was refused; the message says why."""


class NotSent(Exception):
    """The frame did not go out (no connection): certainly not delivered."""


class NoAnswer(Exception):
    """The frame went out and no answer came: it may have been delivered."""


class _Replaced(Exception):
    """Another instance subscribed with the same robot."""


class _Refused(Exception):
    """The server answered the subscription with an error code."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode


def describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class WecomClient:
    def __init__(
        self,
        url: str,
        bot_id: str,
        secret: str,
        on_callback: Callable[[Frame], None],
        *,
        ssl_context: ssl.SSLContext | None = None,
        heartbeat: float = 30.0,
        max_backoff: float = MAX_BACKOFF,
        open_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.bot_id = bot_id
        self.secret = secret
        self.on_callback = on_callback
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.heartbeat = heartbeat
        self.max_backoff = max_backoff
        self.open_timeout = open_timeout
        self.online = asyncio.Event()  # subscribed
        self.generation = 0  # sessions subscribed so far: a callback's req_id lives in one
        self.replaced = False
        self._ws: ClientConnection | None = None
        self._waiting: dict[str, asyncio.Future[Frame]] = {}

    # -- requests ---------------------------------------------------------------------------

    async def request(self, frame: Frame, within: float) -> Frame:
        """Send a frame and wait for its answer (errcode and errmsg).

        NotSent: there was no connection to send it on. NoAnswer: it went out, and the
        connection ended or `within` seconds passed before the answer."""
        ws = self._ws
        req_id = str(frame["headers"]["req_id"])
        if ws is None or req_id in self._waiting:
            raise NotSent("not connected")
        answer: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._waiting[req_id] = answer
        try:
            try:
                await ws.send(dumps(frame))
            except ConnectionClosed as exc:
                raise NotSent(describe(exc)) from exc
            try:
                async with asyncio.timeout(within):
                    return await answer
            except TimeoutError:
                raise NoAnswer(f"no answer within {within:g} s") from None
        finally:
            self._waiting.pop(req_id, None)

    async def answered(self, frame: Frame, within: float, conflicts: int = 5) -> Frame:
        """`request`, sent again after a short pause while the server answers 6000
        (command conflict, "retry")."""
        for attempt in range(conflicts):
            answer = await self.request(frame, within)
            if answer.get("errcode") != CONFLICT:
                return answer
            await asyncio.sleep(0.1 * 2**attempt)
        return await self.request(frame, within)

    # -- sessions ---------------------------------------------------------------------------

    async def run(self, first: asyncio.Future[None]) -> None:
        """Sessions until cancelled or replaced. `first` settles with the first session's
        outcome."""
        loop = asyncio.get_running_loop()
        backoff = MIN_BACKOFF
        while True:
            began = loop.time()
            wait: float | None = None
            try:
                await self._session(first)
                problem = "the server closed the connection"
            except asyncio.CancelledError:
                raise
            except _Replaced:
                self.replaced = True
                log.error(
                    "another instance connected with WeCom robot %s and took over the"
                    " connection (disconnected_event): this instance stops using WeCom and"
                    " does not reconnect; its WeCom messages stay queued until it is"
                    " restarted (the newest connection wins)",
                    self.bot_id,
                )
                return
            except Exception as exc:  # any failure of a session ends in a reconnect
                if not first.done():
                    first.set_exception(WecomStartError(self.explain(exc)))
                    return
                problem = describe(exc)
                if isinstance(exc, _Refused):
                    log.error("WeCom refused robot %s: %s", self.bot_id, exc)
                    wait = REFUSED_BACKOFF
            finally:
                self._ended()
            if loop.time() - began > STABLE_SECONDS:
                backoff = MIN_BACKOFF
            wait = wait or backoff
            log.warning("lost WeCom at %s (%s); reconnecting in %.1f s", self.url, problem, wait)
            await asyncio.sleep(wait)
            backoff = min(backoff * 2, self.max_backoff)

    async def _session(self, first: asyncio.Future[None]) -> None:
        async with connect(
            self.url,
            ssl=self.ssl_context,
            ping_interval=None,  # the protocol's own `ping` frames keep it alive
            ping_timeout=None,
            open_timeout=self.open_timeout,
            close_timeout=2,
            max_size=MAX_FRAME,
        ) as ws:
            self._ws = ws
            reader = asyncio.create_task(self._read(ws))
            heartbeat: asyncio.Task[None] | None = None
            try:
                answer = await self._subscribed(reader)
                if answer.get("errcode") != 0:
                    raise _Refused(int(answer.get("errcode") or -1), str(answer.get("errmsg")))
                self.generation += 1
                self.online.set()
                log.info("connected to WeCom as robot %s (%s)", self.bot_id, self.url)
                if not first.done():
                    first.set_result(None)
                heartbeat = asyncio.create_task(self._heartbeat(ws))
                await reader
            finally:
                for task in (reader, heartbeat):
                    if task is not None and not task.done():
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await task

    async def _subscribed(self, reader: asyncio.Task[None]) -> Frame:
        """The answer to the subscription (the reader may end the session first)."""
        request = asyncio.create_task(self.answered(subscribe(self.bot_id, self.secret), 10.0))
        await asyncio.wait({request, reader}, return_when=asyncio.FIRST_COMPLETED)
        if not request.done():
            request.cancel()
            await reader  # raises what ended the session
            raise ConnectionError("the server closed the connection before subscribing")
        return request.result()

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            try:
                frame = json.loads(raw)
            except ValueError:
                log.warning("WeCom sent a frame that is not JSON: %.200r", raw)
                continue
            if not isinstance(frame, dict):
                continue
            cmd = frame.get("cmd")
            if cmd in (MSG_CALLBACK, EVENT_CALLBACK):
                event = (frame.get("body") or {}).get("event") or {}
                if isinstance(event, dict) and event.get("eventtype") == "disconnected_event":
                    raise _Replaced
                try:
                    self.on_callback(frame)
                except Exception:  # one bad callback must not end the session
                    log.exception("callback %.200s failed", dumps(frame))
                continue
            req_id = (frame.get("headers") or {}).get("req_id")
            waiting = self._waiting.get(req_id) if isinstance(req_id, str) else None
            if waiting is not None and not waiting.done():
                waiting.set_result(frame)
            elif frame.get("errcode"):
                log.warning("WeCom answered an unknown request: %.200s", dumps(frame))

    async def _heartbeat(self, ws: ClientConnection) -> None:
        missed = 0
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self.request(ping(), self.heartbeat)
                missed = 0
            except NoAnswer:
                missed += 1
            except NotSent:
                return
            if missed >= MISSED_PINGS:
                log.warning("WeCom did not answer %d pings; reconnecting", missed)
                ws.transport.abort()  # the reader ends, and with it the session
                return

    def _ended(self) -> None:
        self.online.clear()
        self._ws = None
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(NoAnswer("the connection ended"))

    async def close(self) -> None:
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    def explain(self, exc: BaseException) -> str:
        """Why WeCom could not be used, for an operator."""
        where = f"WeCom at {self.url}"
        if isinstance(exc, _Refused):
            return (
                f"{where} refused robot {self.bot_id} ({exc}): check channels.wecom_bot.bot_id"
                " and the secret in the environment variable named by secret_env"
            )
        if isinstance(exc, ssl.SSLError):
            return f"{where}: TLS failed ({describe(exc)}); check channels.wecom_bot.ca_file"
        if isinstance(exc, TimeoutError):
            return f"{where} did not answer"
        if isinstance(exc, InvalidURI | InvalidHandshake):
            return f"{where} is not a WebSocket endpoint ({describe(exc)})"
        if isinstance(exc, OSError):
            return f"cannot reach {where}: {describe(exc)}"
        return f"{where} closed the connection ({describe(exc)})"
