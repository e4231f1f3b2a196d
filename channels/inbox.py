"""Inbound messages of a chat transport, through the journal (bot/journal.py).

WeChat's stream reader calls `read(message_id)`: the id joins a batch that is committed to the
journal `batch_seconds` later (or at once when `batch_rows` are waiting), before any RPC
or handling. `run()` then works through the journal in arrival order: it resolves raw
rows (the gateway's `MessagePayload` and names, a few at a time, stored in one
transaction) and hands each resolved message to the runtime, whose dispatcher marks it
handled in the handler's transaction. At start it begins with what a previous run left
unhandled. `windows` keeps the last milliseconds from a frame's arrival to its batch's
commit (logged at stop).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot.journal import PAGE, RAW, Entry, Journal
from bot.messages import Incoming
from bot.transport import OnMessage

__all__ = ["Inbox"]

log = logging.getLogger(__name__)

Resolve = Callable[[str], Awaitable[Incoming | None]]


class Inbox:
    def __init__(
        self,
        journal: Journal,
        resolve: Resolve,
        *,
        batch_seconds: float = 0.002,
        batch_rows: int = 64,
        parallel: int = 8,
    ) -> None:
        self.journal = journal
        self.resolve = resolve
        self.batch_seconds = batch_seconds
        self.batch_rows = batch_rows
        self.parallel = parallel
        self.can_resolve = asyncio.Event()  # logged in and the bot's own name known
        self.windows: deque[float] = deque(maxlen=10_000)
        # (id, wall time, loop time, the message when the network sent it whole)
        self._batch: list[tuple[str, float, float, Incoming | None]] = []
        self._flush: asyncio.TimerHandle | None = None
        self._more = asyncio.Event()

    # -- journalling (the stream reader) -------------------------------------------------

    def read(self, message_id: str) -> None:
        """A `message` event came off the stream: journal it soon, in a batch."""
        self._add(message_id, None)

    def _add(self, message_id: str, incoming: Incoming | None) -> None:
        loop = asyncio.get_running_loop()
        self._batch.append((message_id, time.time(), loop.time(), incoming))
        if len(self._batch) >= self.batch_rows:
            self.flush()
        elif self._flush is None:
            self._flush = loop.call_later(self.batch_seconds, self.flush)

    def _write(self, batch: list[tuple[str, float, float, Incoming | None]]) -> None:
        """Commit a batch to the journal: raw ids, resolved later (WeChat)."""
        self.journal.append([(message_id, wall) for message_id, wall, _, _ in batch])

    def flush(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if not self._batch:
            return
        batch, self._batch = self._batch, []
        try:
            self._write(batch)
        except Exception:  # keep them: the next read or the retry journals them
            log.exception("journalling %d messages failed; trying again", len(batch))
            self._batch = batch + self._batch
            self._flush = asyncio.get_running_loop().call_later(0.1, self.flush)
            return
        now = asyncio.get_running_loop().time()
        self.windows.extend((now - arrived) * 1000 for _, _, arrived, _ in batch)
        self._more.set()

    # -- handling ------------------------------------------------------------------------

    async def run(self, on_message: OnMessage) -> None:
        """For ever: the journal's unhandled rows, oldest first."""
        after = 0
        self.journal.prune()
        while True:
            self._more.clear()
            entries = self.journal.pending(after)
            for entry in await self._resolved(entries):
                after = entry.seq
                if entry.incoming is None:
                    continue
                try:
                    await on_message(entry.incoming)
                except Exception:  # one bad message must not stop the others
                    log.exception("message %s failed", entry.message_id)
                    self.journal.failed(entry.message_id)
                # Handling is synchronous: let the stream reader journal what came in
                # meanwhile before the next one, so nothing waits unread behind a backlog.
                await asyncio.sleep(0)
            if len(entries) < PAGE and not self._more.is_set():
                await self._more.wait()  # nothing journalled since the look: no look again

    async def _resolved(self, entries: list[Entry]) -> list[Entry]:
        """The entries with every raw one resolved (and stored) through the gateway."""
        raw = [e for e in entries if e.status == RAW]
        if not raw:
            return entries
        await self.can_resolve.wait()
        limit = asyncio.Semaphore(self.parallel)

        async def one(entry: Entry) -> Incoming | None:
            async with limit:
                try:
                    return await self.resolve(entry.message_id)
                except Exception:
                    log.exception("message %s could not be read", entry.message_id)
                    return None

        results = await asyncio.gather(*map(one, raw))
        found = dict(zip((e.message_id for e in raw), results, strict=True))
        self.journal.resolved(list(found.items()))
        return [
            Entry(e.seq, e.message_id, e.status, _journalled(found[e.message_id]))
            if e.status == RAW
            else e
            for e in entries
        ]

    def summary(self) -> str:
        if not self.windows:
            return "inbound journal: no messages"
        ordered = sorted(self.windows)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"inbound journal: {len(ordered)} messages; frame → committed"
            f" p50 {ordered[len(ordered) // 2]:.1f} ms, p99 {p99:.1f} ms,"
            f" max {ordered[-1]:.1f} ms"
        )


def _journalled(msg: Incoming | None) -> Incoming | None:
    """A message of a journal row: handling it marks the row (as one read back does)."""
    return replace(msg, journalled=True) if msg else None
