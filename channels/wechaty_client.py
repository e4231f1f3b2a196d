"""A thin Wechaty puppet-service client: one gRPC channel, the event stream, reconnects.

Built on the generated stubs of `wechaty-grpc` (betterproto + grpclib), not on the
python-wechaty facade: that one calls `Stop` on connect, which logs the gateway's WeChat
account out, and it neither reconnects nor times out. This client never calls `Stop`.

`GatewayClient.run()` keeps one session at a time: open the channel, subscribe to the
event stream (the gateway replays `login` and `ready` on every subscribe), ask for `Start`
(idempotent on a running puppet), ping with `Ding` so that a hung gateway is noticed, and
hand every event to `on_event`. A lost session is retried with a doubling delay capped at
`max_backoff` (1 s: a refused connect costs nothing, and the bot is back within about a
second of the gateway, however long the outage was). Only the first session's failure
is final: it is reported to `run()`'s caller as a `GatewayStartError` with a sentence an
operator can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError
from wechaty_grpc.wechaty import PuppetStub

from channels.wechaty_events import Contact, GatewayStartError, RoomInfo, parse_endpoint

__all__ = ["CONNECTION_ERRORS", "GatewayClient", "describe", "explain", "list_rooms"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: what a dropped, refused or hung connection raises
CONNECTION_ERRORS = (StreamTerminatedError, OSError, TimeoutError)
#: gRPC statuses worth another try once the connection is back
TRANSIENT = {Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.ABORTED}
MIN_BACKOFF = 0.2
STABLE_SECONDS = 10.0  # a session that lasted this long resets the backoff
MAX_BACKOFF = 1.0  # a refused connect is cheap: try every second, back within ~1 s

OnEvent = Callable[[int, dict[str, Any]], Awaitable[None]]


def describe(exc: BaseException) -> str:
    """One line: gateway messages carry a JavaScript stack after the first line."""
    if isinstance(exc, GRPCError):
        first = (exc.message or "").strip().splitlines()[:1]
        return f"{exc.status.name}: {first[0]}" if first else exc.status.name
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


class GatewayClient:
    def __init__(
        self,
        endpoint: str,
        token: str,
        on_event: OnEvent,
        on_down: Callable[[], None],
        *,
        rpc_timeout: float = 10.0,
        health_interval: float = 15.0,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.endpoint = endpoint
        self.host, self.port = parse_endpoint(endpoint)
        self.metadata = {"authorization": f"Wechaty {token}"}
        self.on_event = on_event
        self.on_down = on_down
        self.rpc_timeout = rpc_timeout
        self.health_interval = health_interval
        self.max_backoff = max_backoff
        self.rpc: Any = None  # PuppetStub with a timeout, for unary calls
        self.online = asyncio.Event()  # the event stream is up
        self.sessions = 0
        self._channel: Channel | None = None

    # -- calls -----------------------------------------------------------------------------

    async def call(
        self, what: str, request: Callable[[Any], Awaitable[T]], attempts: int = 5
    ) -> T | None:
        """One RPC, retried across reconnects while the failure is the connection's.

        Waits for the connection without a limit: an event already taken off the
        stream is not redelivered, so giving up early would lose it.
        """
        for attempt in range(attempts):
            await self.online.wait()
            try:
                return await request(self.rpc)
            except GRPCError as exc:
                if exc.status not in TRANSIENT:
                    log.warning("%s failed: %s", what, describe(exc))
                    return None
                problem: BaseException = exc
            except CONNECTION_ERRORS as exc:
                problem = exc
            log.info("%s: %s (attempt %d)", what, describe(problem), attempt + 1)
            await asyncio.sleep(min(5.0, MIN_BACKOFF * 2**attempt))
        log.error("%s failed %d times; giving up", what, attempts)
        return None

    # -- sessions --------------------------------------------------------------------------

    async def run(self, first: asyncio.Future[None]) -> None:
        """Sessions until cancelled. `first` settles with the first session's outcome."""
        loop = asyncio.get_running_loop()
        backoff = MIN_BACKOFF
        while True:
            began = loop.time()
            try:
                await self._session(first)
                problem = "the gateway closed the event stream"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure of a session ends in a reconnect
                problem = describe(exc)
                if not first.done():
                    first.set_exception(GatewayStartError(self._explain(exc)))
                    return
                if isinstance(exc, GRPCError) and exc.status == Status.UNAUTHENTICATED:
                    log.error("the gateway at %s refused the token", self.endpoint)
            finally:
                self.online.clear()
                self._close()
                self.on_down()
            if not first.done():
                first.set_exception(GatewayStartError(f"{self.endpoint}: {problem}"))
                return
            if loop.time() - began > STABLE_SECONDS:
                backoff = MIN_BACKOFF
            log.warning(
                "lost the gateway at %s (%s); reconnecting in %.1f s",
                self.endpoint,
                problem,
                backoff,
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)

    async def _session(self, first: asyncio.Future[None]) -> None:
        channel = Channel(self.host, self.port)
        self._channel = channel
        self.rpc = PuppetStub(channel, timeout=self.rpc_timeout, metadata=self.metadata)
        stream = PuppetStub(channel, metadata=self.metadata)  # no timeout: it would end the stream
        health: asyncio.Task[None] | None = None
        try:
            async for frame in stream.event():
                if health is None:  # the first frame: the gateway has let us in
                    self.sessions += 1
                    self.online.set()
                    log.info("connected to the gateway at %s", self.endpoint)
                    health = asyncio.create_task(self._health(channel))
                    if not first.done():
                        first.set_result(None)
                try:
                    payload = json.loads(frame.payload) if frame.payload else {}
                except ValueError:
                    payload = {"data": frame.payload}
                await self.on_event(int(frame.type), payload)
        finally:
            if health is not None:
                health.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await health

    async def _health(self, channel: Channel) -> None:
        """Start the puppet (idempotent, never Stop), then ping: a hung gateway keeps
        the TCP connection up, so only an unanswered Ding reveals it."""
        try:
            await self.rpc.start()
        except (GRPCError, *CONNECTION_ERRORS) as exc:
            log.warning("Start on the gateway failed: %s", describe(exc))
        while True:
            await asyncio.sleep(self.health_interval)
            try:
                await self.rpc.ding(data="chamberbot")
            except (GRPCError, *CONNECTION_ERRORS) as exc:
                log.warning("the gateway does not answer (%s); reconnecting", describe(exc))
                channel.close()  # makes the event stream raise, which starts a new session
                return

    def _close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def close(self) -> None:
        self.online.clear()
        self._close()

    def _explain(self, exc: BaseException) -> str:
        return explain(self.endpoint, exc)


def explain(endpoint: str, exc: BaseException) -> str:
    """Why the gateway could not be used, for an operator."""
    where = f"the Wechaty gateway at {endpoint}"
    if isinstance(exc, GRPCError):
        if exc.status == Status.UNAUTHENTICATED:
            return (
                f"{where} refused the token (check wechat.token or WECHATY_PUPPET_SERVICE_TOKEN)"
            )
        if exc.status == Status.ALREADY_EXISTS:
            return f"{where} already serves another client (one client per gateway)"
        return f"{where} answered {describe(exc)}"
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer"
    if isinstance(exc, OSError):
        return f"cannot reach {where}: {describe(exc)}"
    return f"{where} closed the connection ({describe(exc)}); is it a gRPC endpoint, TLS off?"


async def list_rooms(
    endpoint: str, token: str, *, members: bool = False, rpc_seconds: float = 10.0
) -> list[tuple[RoomInfo, list[Contact]]]:
    """Every group the gateway's WeChat account is in, with its members if asked.

    Unary calls only: the event stream admits one client, and this must work while the
    bot runs.
    """
    host, port = parse_endpoint(endpoint)
    channel = Channel(host, port)
    rpc = PuppetStub(channel, timeout=rpc_seconds, metadata={"authorization": f"Wechaty {token}"})
    found: list[tuple[RoomInfo, list[Contact]]] = []
    try:
        for room_id in (await rpc.room_list()).ids:
            room = await rpc.room_payload(id=room_id)
            people = []
            if members:
                for member_id in room.member_ids:
                    member = await rpc.room_member_payload(id=room_id, member_id=member_id)
                    people.append(Contact(member_id, member.room_alias or member.name))
            found.append((RoomInfo(room_id, room.topic, len(room.member_ids)), people))
    except (GRPCError, *CONNECTION_ERRORS) as exc:
        raise GatewayStartError(explain(endpoint, exc)) from None
    finally:
        channel.close()
    return found
