"""The outbox sender: paced, ordered, retried, and never twice.

Rules, all measured on the injected clock:

- Order: within a conversation rows go out in queue order (outbox id); a row that failed
  transiently keeps its place, so later rows of that conversation wait behind it while
  other conversations go on.
- Pace: at most one message per `pacing.min_gap_seconds` to a conversation, at most
  `pacing.global_per_minute` in any 60 seconds overall, and a random extra delay in
  [0, `pacing.jitter_seconds`] before each send (WeChat flags bursts as spam).
- Quiet hours are not the sender's business: a scheduled message (digest, reminder,
  escalation) is queued with `not_before` at the end of the quiet hours by the outbox,
  while a reply to someone who just wrote goes out at once, day or night.
- Failures: a transient TransportError (or any other exception, which is logged) retries
  with exponential backoff capped at `pacing.retry_max_seconds`, with jitter; a permanent
  one, or the `pacing.max_attempts`-th failure, marks the row failed and calls
  `on_failed(out, reason)` once. A refusal with `retry_after` (the network's rate limit,
  e.g. WeCom's 45009) was not delivered: the row keeps its place and waits that long, and
  such refusals never fail it.
- Once: a row is claimed before the transport is called and marked sent as soon as the
  transport returns. A send whose fate is unknown (no answer, or a row a previous run
  left claimed) is marked `unknown` and reported through `on_unknown` (else `on_failed`),
  never re-sent.
- Other processes: what another process queues (`chamberbot broadcast run`, `policy
  fetch` notices …) is seen within `poll_seconds` (1 s), idle or busy: every wait — for
  an enqueue, a pacing slot, a retry, the end of the quiet hours — goes in steps of at
  most `poll_seconds`, after each of which the sender reads SQLite's `PRAGMA
  data_version` (it changes only when another connection commits) and plans again when
  it changed. A row found that way goes first among the rows that may go then, without
  the jitter (the wait for the poll stands in for it): within `poll_seconds` plus a pass
  when idle, within the send in progress (≤ its jitter) plus a pass when sending: < 2 s
  with the default pacing — unless pacing holds it.
- Priority between conversations is otherwise queue order (outbox id) of their first
  rows, and pacing decides when: a free conversation's row goes while another waits for
  its gap or retry (100 paced messages to one group do not hold a message to another);
  behind the global rate limit a later row waits its turn, first come first served.
  With no jitter due (`jitter_seconds` 0, or unpaced), one read of the first rows plans
  up to `BATCH` sends, one per conversation (a backlog of 1,000 conversations: one read
  per 32 sends, not per send); a conversation's next row waits for the next read, and a
  commit by another process or the rate limit ends the batch.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock
from bot.config import Pacing
from bot.messages import Outgoing
from bot.transport import Transport, TransportError

if TYPE_CHECKING:
    from bot.outbox import Outbox, Queued

FAILED, UNKNOWN, HELD = "failed", "unknown", "held"  # outbox rows settled unsent

__all__ = ["INTERRUPTED", "Sender"]

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted while sending; delivery unknown, not sent again"
_MINUTE = timedelta(minutes=1)
_MIN_WAIT = 0.05  # seconds; a floor so a rounding slip can never turn into a busy loop
BATCH = 32  # rows planned by one look at the outbox, when no jitter is due


class Sender:
    """Drains the outbox through a transport (see the module docstring for the rules)."""

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        pacing: Pacing,
        on_failed: Callable[[Outgoing, str], None] | None = None,
        *,
        on_unknown: Callable[[Outgoing, str], None] | None = None,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self.outbox = outbox
        self.poll_seconds = poll_seconds
        self._data_version: int | None = None
        self._known_id = 0  # the outbox's last id when the sender last looked
        self.transport = transport
        self.channel = transport.channel  # one sender per channel, each with its pacing
        self.pacing = pacing
        self.on_failed = on_failed
        self.on_unknown = on_unknown or on_failed
        self.clock: Clock = clock or outbox.clock
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self._started = False
        self._last: dict[str, datetime] = {}  # conversation → when it was last sent to
        self._window: deque[datetime] = deque()  # sends in the last minute, oldest first
        self._news = False  # a row for this channel was queued since the pass began
        self._waiter: asyncio.Future[None] | None = None  # the wait an enqueue ends
        outbox.listen(self.channel, self._enqueued)

    # -- public ---------------------------------------------------------------------------

    async def drain_once(self, *, paced: bool = True) -> int:
        """Send everything that may go out now; returns how many went out.

        Paced, each send waits its jitter (through `sleep`) and rows held back by the gap,
        or the rate limit stay queued for `run()`. `paced=False` (the console demo) sends
        every due row at once in order: no gap, rate limit or jitter, but rows' own
        `not_before` (quiet hours, retry backoff) still hold.
        """
        sent, _ = await self._drain(paced)
        return sent

    async def run(self, idle_seconds: float = 60.0) -> None:
        """Send for ever, paced; between passes wait for the next slot or an enqueue.

        `idle_seconds` caps a wait. Every wait watches for other processes' commits (see
        the module docstring), so a row `chamberbot broadcast run` queues is planned within
        `poll_seconds`, whether the sender was idle or pacing a backlog.
        """
        while True:
            self._news = False
            wait = idle_seconds
            try:
                _, next_at = await self._drain(paced=True)
            except Exception:
                log.exception("outbox pass failed; trying again")
                wait = min(idle_seconds, self.pacing.retry_max_seconds)
            else:
                if next_at is not None:
                    ahead = (next_at - self.clock.now()).total_seconds()
                    wait = min(idle_seconds, max(ahead, _MIN_WAIT))
            await self._wait_watching(wait)

    # -- one pass -------------------------------------------------------------------------

    async def _drain(self, paced: bool) -> tuple[int, datetime | None]:
        """Send until nothing may go; returns (sent, when something next may go)."""
        async with self._lock:
            if not self._started:
                self._started = True
                self._resume()
            sent, most = 0, 1 if paced and self.pacing.jitter_seconds > 0 else BATCH
            while True:
                # Read before the outbox is: a commit after this is news to the next wait.
                polled, known = self._look()
                fresh_after = known if polled else None
                items, next_at, whole = self._plan(self.clock.now(), paced, fresh_after, most)
                if not items:
                    return sent, next_at
                went = 0
                for i, item in enumerate(items):
                    if i and self._stale(paced):
                        break
                    # A row another process queued has waited for the poll: no jitter on top.
                    fresh = fresh_after is not None and item.id > fresh_after
                    if paced and not fresh and self.pacing.jitter_seconds > 0:
                        await self.sleep(self.rng.uniform(0, self.pacing.jitter_seconds))
                    went += await self._send(item)
                    # A send the transport settles without I/O (a row held for a closed
                    # reply window) would otherwise run the whole backlog in one go while
                    # callbacks and the console wait on the event loop.
                    await asyncio.sleep(0)
                sent += went
                if whole and went == len(items):
                    # All that was due went: next is a scheduled row, or news the wait
                    # notices (an enqueue here, another process's commit). No second look.
                    return sent, self._next_at(self.clock.now(), paced)

    def _plan(
        self, now: datetime, paced: bool, fresh_after: int | None = None, most: int = 1
    ) -> tuple[list[Queued], datetime | None, bool]:
        """The rows to send now, at most `most`, one per conversation, oldest first (with
        `fresh_after`, another process committed since the last look: a row queued since,
        alone, if one may go); else [] and the earliest time one may go (None: idle). The
        flag: the rows are all that may go before the next scheduled one (no row waits
        behind them in their conversations, none for its gap, retry or the rate limit)."""
        heads = self.outbox.heads(now, self.channel)
        blocked = paced and self._rate_slot(now) > now
        earliest: datetime | None = None
        ready: list[Queued] = []
        whole = True
        for item in heads:
            at = item.not_before
            last = self._last.get(item.out.conversation_id)
            if paced and last is not None:
                at = max(at, last + timedelta(seconds=self.pacing.min_gap_seconds))
            if at <= now and not blocked:
                if fresh_after is not None and item.id > fresh_after:
                    return [item], None, False
                if len(ready) < most:
                    ready.append(item)
                    whole = whole and item.behind == 0
                if len(ready) == most:
                    whole = False  # a full plan: more may be waiting, unread
                    if fresh_after is None:
                        break  # (reading the rest would cost a row each: 1,000 in a burst)
                continue
            earliest = at if earliest is None else min(earliest, at)
        if ready:
            return ready, None, whole and earliest is None
        return [], self._next_at(now, paced, earliest), False

    def _next_at(
        self, now: datetime, paced: bool, earliest: datetime | None = None
    ) -> datetime | None:
        """When a row may next go: the earlier of `earliest` (a head waiting for its gap or
        retry) and the next scheduled row, and when paced not before the rate limit allows."""
        scheduled = self.outbox.next_scheduled(now, self.channel)
        if scheduled is not None and (earliest is None or scheduled < earliest):
            earliest = scheduled
        if earliest is None or not paced:
            return earliest
        return max(earliest, now, self._rate_slot(now))

    def _stale(self, paced: bool) -> bool:
        """Mid-batch: another process committed, or the rate limit holds; plan again."""
        now = self.clock.now()
        held = paced and self._rate_slot(now) > now
        return held or self.outbox.data_version() != self._data_version

    def _rate_slot(self, now: datetime) -> datetime:
        """When the global rate limit next allows a send."""
        while self._window and self._window[0] <= now - _MINUTE:
            self._window.popleft()
        limit = self.pacing.global_per_minute
        return self._window[-limit] + _MINUTE if len(self._window) >= limit else now

    async def _send(self, item: Queued) -> int:
        if not self.outbox.claim(item.id):
            return 0  # settled elsewhere since we looked
        try:
            await self.transport.send(item.out)
        except TransportError as exc:
            if exc.unknown:
                self._unknown(item, str(exc))
            elif exc.held:  # the reply window is closed: kept for when the person writes
                self.outbox.set_status(item.id, HELD, str(exc))
            elif exc.retry_after is not None:  # a rate limit: not delivered, never failed for it
                log.warning("outbox row %s refused for now: %s", item.id, exc)
                later = self.clock.now() + timedelta(seconds=exc.retry_after)
                self.outbox.retry_later(item.id, str(exc), later)
            else:
                self._failed(item, str(exc) or type(exc).__name__, permanent=exc.permanent)
            return 0
        except Exception as exc:
            log.exception("transport raised on outbox row %s; will retry", item.id)
            self._failed(item, f"{type(exc).__name__}: {exc}", permanent=False)
            return 0
        self.outbox.mark_sent(item.id)
        to = item.out.conversation_id
        log.info("sent outbox row %s to %s (attempt %d)", item.id, to, item.attempts + 1)
        log.debug("outbox row %s text: %s", item.id, item.out.text)
        now = self.clock.now()
        self._last[to] = now
        self._window.append(now)
        return 1

    def _failed(self, item: Queued, reason: str, *, permanent: bool) -> None:
        attempts = item.attempts + 1
        if permanent or attempts >= self.pacing.max_attempts:
            log.warning("outbox row %s failed after %d attempts: %s", item.id, attempts, reason)
            self.outbox.set_status(item.id, FAILED, reason)
            self._report(item.out, reason)
            return
        delay = self._backoff(attempts)
        log.info("outbox row %s: %s; retry in %.1f s", item.id, reason, delay)
        self.outbox.retry_later(item.id, reason, self.clock.now() + timedelta(seconds=delay))

    def _unknown(self, item: Queued, reason: str) -> None:
        log.warning("outbox row %s: delivery unknown, not sent again: %s", item.id, reason)
        self.outbox.set_status(item.id, UNKNOWN, reason)
        self._report(item.out, reason, self.on_unknown)

    def _backoff(self, attempts: int) -> float:
        """2, 4, 8 … seconds after the 1st, 2nd, 3rd … failure, capped; jitter: ×[0.5, 1]."""
        base = min(self.pacing.retry_max_seconds, 2.0 ** min(attempts, 32))
        return base * self.rng.uniform(0.5, 1.0)

    def _report(
        self, out: Outgoing, reason: str, to: Callable[[Outgoing, str], None] | None = None
    ) -> None:
        call = to or self.on_failed
        if call is None:
            return
        try:
            call(out, reason)
        except Exception:
            log.exception("on_failed raised for a message to %s", out.conversation_id)

    # -- start and waiting ----------------------------------------------------------------

    def _resume(self) -> None:
        """Pick up where a previous run stopped: its recent sends count for pacing, and a
        row it left mid-send is reported as of unknown fate (it may have arrived) — never
        re-sent."""
        now = self.clock.now()
        since = now - max(_MINUTE, timedelta(seconds=self.pacing.min_gap_seconds))
        for conversation, sent_at in self.outbox.sent_since(since, self.channel):
            at = min(now, sent_at + timedelta(seconds=1))  # sent_at is stored to the second
            self._last[conversation] = at
            if at > now - _MINUTE:
                self._window.append(at)
        for item in self.outbox.in_flight(self.channel):
            log.warning("outbox row %s was cut off mid-send; not sending it again", item.id)
            self._unknown(item, INTERRUPTED)

    def _look(self) -> tuple[bool, int]:
        """Whether another connection committed since the last look (data_version), and
        the outbox's last id at the last look (rows after it are news)."""
        version, last = self.outbox.look()
        changed = self._data_version is not None and version != self._data_version
        known, self._data_version, self._known_id = self._known_id, version, last
        return changed, known

    async def _wait_watching(self, seconds: float) -> None:
        """Wait `seconds`, in steps of at most poll_seconds, ending early on an enqueue in
        this process or a commit by another.

        It compares with the data_version `_drain` read just before it last looked at the
        outbox (a commit during the pass is caught at the first step) and leaves the new
        one for `_drain` to read: the rows committed meanwhile then go first."""
        left = seconds
        while left > 1e-6:  # (float steps: no sliver of a second left over)
            step = min(left, self.poll_seconds)
            await self._wait(step)
            left -= step
            if self._news or self.outbox.data_version() != self._data_version:
                return

    def _enqueued(self) -> None:
        """The outbox queued a row for this channel: news for the pass, and the end of a
        wait in progress (the sender runs on the event loop's next turn)."""
        self._news = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self, seconds: float) -> None:
        """Sleep (the injected way) until `seconds` pass or a row for this channel is
        queued. The enqueue settles the future the sender awaits; the sleep, cancelled
        when the enqueue came first, is left to finish on its own."""
        if self._news:
            return
        waiter = self._waiter = asyncio.get_running_loop().create_future()

        def woken(_: object) -> None:
            if not waiter.done():
                waiter.set_result(None)

        slept = asyncio.ensure_future(self.sleep(seconds))
        slept.add_done_callback(woken)
        try:
            await waiter
        finally:
            self._waiter = None
            slept.cancel()
