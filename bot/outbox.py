"""The durable outbox: every message the bot sends is a row first, then a delivery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from bot.clock import Clock
from bot.config import Pacing
from bot.db import to_db, to_json
from bot.messages import Outgoing
from bot.normalize import mask_phones
from bot.transports.base import Transport, TransportError

__all__ = ["Outbox", "Queued", "Sender"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Queued:
    id: int
    out: Outgoing
    attempts: int


class Outbox:
    def __init__(
        self, db: Database, clock: Clock, shows_phones: Callable[[str], bool], mask: bool = True
    ) -> None:
        self.db = db
        self.clock = clock
        self.shows_phones = shows_phones
        self.mask = mask
        self.wakeup = asyncio.Event()

    def enqueue(
        self,
        outs: Iterable[Outgoing],
        *,
        not_before: datetime | None = None,
        dedupe_key: str | None = None,
    ) -> int:
        """Queue messages. Phone numbers are masked unless the conversation is staff-only.

        With a dedupe_key, a message already queued under that key is not queued again.
        """
        now = to_db(self.clock.now())
        rows = []
        for i, out in enumerate(outs):
            text = out.text
            if self.mask and not self.shows_phones(out.conversation_id):
                text = mask_phones(text)
            rows.append(
                {
                    "conversation_id": out.conversation_id,
                    "text": text,
                    "mention_ids": to_json(list(out.mention_ids)),
                    "created_at": now,
                    "not_before": to_db(not_before) if not_before else now,
                    "status": "pending",
                    "attempts": 0,
                    "dedupe_key": f"{dedupe_key}#{i}" if dedupe_key else None,
                }
            )
        if rows:
            self.db.table("outbox").insert_all(rows, ignore=True)
            self.wakeup.set()
        return len(rows)

    def due(self, limit: int = 100) -> list[Queued]:
        rows = self.db.execute(
            "select id, conversation_id, text, mention_ids, attempts from outbox"
            " where status = 'pending' and not_before <= ? order by id limit ?",
            [to_db(self.clock.now()), limit],
        ).fetchall()
        return [Queued(r[0], Outgoing(r[1], r[2], tuple(json.loads(r[3]))), r[4]) for r in rows]

    def mark_sent(self, row_id: int) -> None:
        with self.db.atomic():
            self.db.execute(
                "update outbox set status = 'sent', sent_at = ?, attempts = attempts + 1"
                " where id = ?",
                [to_db(self.clock.now()), row_id],
            )

    def mark_failed(self, row_id: int, reason: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "update outbox set status = 'failed', error = ?, attempts = attempts + 1"
                " where id = ?",
                [reason, row_id],
            )

    def retry_later(self, row_id: int, reason: str, delay: timedelta) -> None:
        with self.db.atomic():
            self.db.execute(
                "update outbox set error = ?, attempts = attempts + 1, not_before = ?"
                " where id = ?",
                [reason, to_db(self.clock.now() + delay), row_id],
            )

    def pending_count(self) -> int:
        row = self.db.execute("select count(*) from outbox where status = 'pending'").fetchone()
        return int(row[0])


class Sender:
    """Drains the outbox through a transport, in order per conversation."""

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        pacing: Pacing,
        on_failed: Callable[[Outgoing, str], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.transport = transport
        self.pacing = pacing
        self.on_failed = on_failed

    def _backoff(self, attempts: int) -> timedelta:
        base = min(self.pacing.retry_max_seconds, 0.5 * 2**attempts)
        return timedelta(seconds=base + random.uniform(0, base / 4))

    async def drain_once(self) -> int:
        """Send everything that is due now; returns how many went out."""
        sent = 0
        blocked: set[str] = set()  # keep per-conversation order: stop at the first failure
        for item in self.outbox.due():
            if item.out.conversation_id in blocked:
                continue
            try:
                await self.transport.send(item.out)
            except TransportError as exc:
                blocked.add(item.out.conversation_id)
                if exc.permanent or item.attempts + 1 >= self.pacing.max_attempts:
                    log.warning("outbox %s failed for good: %s", item.id, exc)
                    self.outbox.mark_failed(item.id, str(exc))
                    if self.on_failed:
                        self.on_failed(item.out, str(exc))
                else:
                    self.outbox.retry_later(item.id, str(exc), self._backoff(item.attempts))
                continue
            self.outbox.mark_sent(item.id)
            sent += 1
        return sent

    async def run(self, idle_seconds: float = 1.0) -> None:
        while True:
            self.outbox.wakeup.clear()
            await self.drain_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.wakeup.wait(), timeout=idle_seconds)
