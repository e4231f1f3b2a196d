"""Sending through the gateway: held while offline; an unanswered send is never repeated.

- Offline (no event stream, or WeChat logged out): `send` waits, without a limit. The
  outbox row stays claimed meanwhile; failing it would only spend its attempts on an
  outage. Stopping the bot releases the wait with a temporary failure, so the row goes
  back to the queue untouched.
- The gateway refused the send: `TransportError`, permanent for statuses a retry cannot
  change (not found, failed precondition, invalid argument, permission denied) and for
  groups the bot was removed from; temporary otherwise. A refused or dropped connection
  (certainly not sent): held like an outage and sent as soon as the gateway is back.
- No answer (deadline exceeded, connection lost mid-call): the message may have been
  delivered all the same (measured: a hung gateway delivered it when it woke up). WeChat
  echoes every message the bot sends back as a `message` event, so the send waits
  `echo_grace` seconds for the echo of (conversation, text): if it comes, the send is
  done. If not, its fate is unknown (`TransportError(unknown=True)`: the outbox reports
  it to the staff as 未确认送达) rather than risk posting it twice: the same rule as the
  outbox's for a send cut off by a crash. An echo that comes later still confirms it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Hashable

from grpclib.const import Status
from grpclib.exceptions import GRPCError, StreamTerminatedError

from bot.messages import Outgoing
from bot.transport import TransportError, until_ready
from channels.wechaty_client import GatewayClient, describe

__all__ = ["Outbound", "Recent"]

log = logging.getLogger(__name__)

RECONNECT_POLL = 0.2  # seconds between tries while a dropped connection is noticed
#: the call went out but no answer came back
UNANSWERED = (TimeoutError, StreamTerminatedError, ConnectionResetError, BrokenPipeError)
PERMANENT = {
    Status.NOT_FOUND,
    Status.FAILED_PRECONDITION,
    Status.INVALID_ARGUMENT,
    Status.PERMISSION_DENIED,
}


class Recent(OrderedDict[Hashable, float]):
    """Keys seen lately (with a time), the oldest dropped beyond `size`."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def note(self, key: Hashable, when: float = 0.0) -> None:
        self[key] = when
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class Outbound:
    def __init__(self, client: GatewayClient, echo_grace: float) -> None:
        self.client = client
        self.echo_grace = echo_grace
        self.sendable = asyncio.Event()  # online and logged in
        self.gone: set[str] = set()  # groups the bot was removed from
        self.own = Recent(5_000)  # ids of messages we sent: their echoes need no lookup
        self._closing = asyncio.Event()
        self._idle = asyncio.Event()
        self._in_flight = 0
        self._echoes = Recent(5_000)  # (conversation, text) of the bot's messages → when seen
        self._echo_seen = asyncio.Event()

    def open(self) -> None:
        self._closing.clear()

    async def close(self, grace: float) -> None:
        """Release held sends; give a send in flight `grace` seconds to finish."""
        self._closing.set()
        if self._in_flight:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await self._idle.wait()
        self.sendable.clear()

    def echoed(self, conversation_id: str, text: str) -> None:
        """WeChat showed us a message the bot sent."""
        self._echoes.note((conversation_id, text), asyncio.get_running_loop().time())
        self._echo_seen.set()

    async def send(self, out: Outgoing) -> None:
        if out.conversation_id in self.gone:
            raise TransportError("the bot is no longer in this group", permanent=True)
        await self._until_sendable()
        key = (out.conversation_id, out.text)
        started = asyncio.get_running_loop().time()
        self._in_flight += 1
        self._idle.clear()
        try:
            sent = await self.client.rpc.message_send_text(
                conversation_id=out.conversation_id,
                text=out.text,
                mentonal_ids=list(out.mention_ids),  # sic: the field's name in wechaty-grpc
            )
        except GRPCError as exc:
            raise TransportError(describe(exc), permanent=exc.status in PERMANENT) from exc
        except UNANSWERED as exc:  # it may have gone out all the same: look for the echo
            if await self._echo_since(key, started):
                log.info("no answer from the gateway, but WeChat echoed the message: sent")
                return
            raise TransportError(
                f"delivery unknown, not sent again: no answer from the gateway ({describe(exc)})",
                unknown=True,
            ) from exc
        except OSError:  # refused or unreachable: certainly not sent; again once back
            sent = None
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
        if sent is None:
            await self._after_reconnect(out)
        elif sent.id:
            self.own.note(sent.id)

    async def _after_reconnect(self, out: Outgoing) -> None:
        """The connection dropped before the call went out: hold the row (no retry backoff,
        so the queue drains as soon as the gateway is back) and send it then."""
        await asyncio.sleep(RECONNECT_POLL)  # the session's end clears `sendable` meanwhile
        await self.send(out)

    async def _until_sendable(self) -> None:
        await until_ready(self.sendable, self._closing)

    async def _echo_since(self, key: tuple[str, str], since: float) -> bool:
        """Whether WeChat echoed the bot's message (conversation, text) after `since`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.echo_grace
        while True:
            seen = self._echoes.get(key)
            if seen is not None and seen >= since:
                return True
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._echo_seen.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._echo_seen.wait()
