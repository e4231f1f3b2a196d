"""The durable outbox: every message the bot sends is a row first, then a delivery.

A row is `pending` until the sender claims it (`sending`, attempts + 1) for one call of the
transport; then `sent` (the transport accepted it), `pending` again with a later
`not_before` (a transient failure), `failed` with the reason, `held` (a channel's reply
window is closed: `release` queues it, collapsed, when the person writes again), or
`unknown`: the send got no answer, or a row found `sending` when the bot starts was cut
off mid-send. It may or may not have arrived, so it is reported (未确认送达) rather than
sent a second time; if WeChat's echo of it shows up later, `confirm_echo` marks it `sent`.
The sender itself lives in bot/sender.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.clock import Clock
from bot.config import QuietHours
from bot.db import from_db, to_db, to_json, transaction
from bot.messages import Choice, Outgoing
from bot.normalize import mask_phones
from bot.sender import HELD, UNKNOWN, Sender

__all__ = ["HELD", "Outbox", "Queued", "Sender", "quiet_until"]

PENDING, SENDING, SENT = "pending", "sending", "sent"
_BATCH, _PER_ROW = 500, 10  # messages per INSERT (SQLite's variable limit), values per row
_COLUMNS = (
    "id, conversation_id, text, mention_ids, attempts, not_before, channel, reply_to, choices"
)


@dataclass(frozen=True)
class Queued:
    id: int
    out: Outgoing
    attempts: int
    not_before: datetime
    behind: int = 0  # heads(): the conversation's rows that may go after this one


def _queued(row: tuple[Any, ...]) -> Queued:
    """A row of `_COLUMNS` (and for heads() the count of rows behind it)."""
    choices = tuple(Choice(*pair) for pair in json.loads(row[8])) if row[8] else ()
    mentions = tuple(json.loads(row[3])) if row[3] and row[3] != "[]" else ()
    out = Outgoing(row[1], row[2], mentions, row[6], choices=choices, reply_to=row[7])
    return Queued(row[0], out, row[4] or 0, from_db(row[5]), row[9] if len(row) > 9 else 0)


def _on(channel: str | None) -> tuple[str, list[str]]:
    """The SQL that keeps one channel's rows (every channel's with None)."""
    return ("and channel = ?", [channel]) if channel else ("", [])


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end; None outside them.

    `now` is read in its own time zone (the clock's). The window may wrap midnight
    (22:00–08:00); `start == end` means there are no quiet hours.
    """
    if quiet is None or quiet.start == quiet.end:
        return None
    start, end, at = quiet.start, quiet.end, now.time()
    inside = start <= at < end if start < end else (at >= start or at < end)
    if not inside:
        return None
    day = now.date() if at < end else now.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=now.tzinfo)


class Outbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        shows_phones: Callable[[str], bool],
        mask: bool = True,
        quiet: QuietHours | None = None,
    ) -> None:
        self.db = db
        self.quiet = quiet
        self.clock = clock
        self.shows_phones = shows_phones
        self.mask = mask
        self._listeners: list[tuple[str, Callable[[], None]]] = []

    def listen(self, channel: str, call: Callable[[], None]) -> None:
        """Call `call()` whenever a row for `channel` is queued (each sender listens for
        its own channel: an enqueue wakes the sender that sends it, and only that one)."""
        self._listeners.append((channel, call))

    def enqueue(
        self,
        outs: Iterable[Outgoing],
        *,
        not_before: datetime | None = None,
        dedupe_key: str | None = None,
        scheduled: bool = False,
    ) -> int:
        """Queue messages; returns how many rows were added.

        `scheduled` messages (digests, reminders, escalations: nobody is waiting for them)
        are held until the quiet hours end; replies go at once, day or night.

        Phone numbers are masked unless the conversation is staff-only. With a dedupe_key,
        a message already queued under that key (and position) is not queued again.
        """
        current = self.clock.now()
        if scheduled and not_before is None:
            not_before = quiet_until(self.quiet, current)
        now = to_db(current)
        rows: list[object] = []
        channels: set[str] = set()
        for i, out in enumerate(outs):
            channels.add(out.channel)
            text = out.text
            if self.mask and not self.shows_phones(out.conversation_id):
                text = mask_phones(text)
            rows += [
                out.channel,
                out.conversation_id,
                text,
                to_json(list(out.mention_ids)) if out.mention_ids else "[]",
                now,
                to_db(not_before) if not_before else now,
                PENDING,
                f"{dedupe_key}#{i}" if dedupe_key else None,
                out.reply_to,
                to_json([[c.label, c.command] for c in out.choices]) if out.choices else None,
            ]
        added = 0
        with transaction(self.db):  # one INSERT per _BATCH messages, in their order
            step = _BATCH * _PER_ROW
            for start in range(0, len(rows), step):
                batch = rows[start : start + step]
                values = ", ".join(
                    ["(?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"] * (len(batch) // _PER_ROW)
                )
                added += self.db.execute(
                    "insert or ignore into outbox (channel, conversation_id, text, mention_ids,"
                    " created_at, not_before, status, attempts, dedupe_key, reply_to, choices)"
                    f" values {values}",
                    batch,
                ).rowcount
        if added:
            for channel, call in self._listeners:
                if channel in channels:
                    call()
        return added

    # -- what the sender reads ----------------------------------------------------------

    def heads(self, now: datetime, channel: str | None = None) -> Iterator[Queued]:
        """The first queued row of each conversation, oldest first, read as they are
        taken (the sender reads as many as it plans to send).

        A row joins its conversation's queue at its `not_before`; once tried it stays at
        the head (even while it waits for a retry) until it is sent or failed, so later
        rows of that conversation wait behind it. A conversation with a row in flight
        has no head. Each head says how many of its conversation's rows may go after it
        (`behind`), so the sender knows when it has sent all that was due.
        """
        stamp = to_db(now)
        on, params = _on(channel)
        rows = self.db.execute(
            f"select {_COLUMNS}, queued - 1 from outbox join ("
            "  select min(id) as head, count(*) as queued from outbox"
            f"  where status = ? and (not_before <= ? or attempts > 0) {on}"
            "  group by conversation_id"
            ") on id = head"
            " where conversation_id not in (select conversation_id from outbox where status = ?)"
            " order by id",
            [PENDING, stamp, *params, SENDING],
        )
        try:
            yield from map(_queued, rows)
        finally:
            rows.close()

    def due(self, now: datetime, channel: str, after_id: int = 0) -> list[Queued]:
        """Every pending row of a channel that may go now, in order (the test transport)."""
        rows = self.db.execute(
            f"select {_COLUMNS} from outbox where status = ? and not_before <= ?"
            " and channel = ? and id > ? order by id",
            [PENDING, to_db(now), channel, after_id],
        ).fetchall()
        return [_queued(r) for r in rows]

    def last_id(self) -> int:
        return int(self.db.execute("select max(id) from outbox").fetchone()[0] or 0)

    def data_version(self) -> int:
        """The connection's `PRAGMA data_version`: it changes when another connection commits."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def look(self) -> tuple[int, int]:
        """(the connection's `PRAGMA data_version`, the last id), read in one statement:
        the version changes only when another connection commits."""
        sql = "select data_version, (select max(id) from outbox) from pragma_data_version"
        version, last = self.db.execute(sql).fetchone()
        return int(version), int(last or 0)

    def held(self, now: datetime) -> tuple[int, datetime | None]:
        """How many pending rows wait for a later time (quiet hours …), and the first time."""
        row = self.db.execute(
            "select count(*), min(not_before) from outbox where status = ? and not_before > ?",
            [PENDING, to_db(now)],
        ).fetchone()
        return int(row[0]), from_db(row[1]) if row[1] else None

    def next_scheduled(self, now: datetime, channel: str | None = None) -> datetime | None:
        """The earliest `not_before` still ahead of `now` among pending rows."""
        on, params = _on(channel)
        row = self.db.execute(
            f"select min(not_before) from outbox where status = ? and not_before > ? {on}",
            [PENDING, to_db(now), *params],
        ).fetchone()
        return from_db(row[0]) if row and row[0] else None

    def sent_since(
        self, since: datetime, channel: str | None = None
    ) -> list[tuple[str, datetime]]:
        """(conversation, sent_at) of the rows sent at or after `since`, oldest first."""
        on, params = _on(channel)
        rows = self.db.execute(
            "select conversation_id, sent_at from outbox where status = ? and sent_at >= ?"
            f" {on} order by sent_at",
            [SENT, to_db(since), *params],
        ).fetchall()
        return [(r[0], from_db(r[1])) for r in rows]

    def in_flight(self, channel: str | None = None) -> list[Queued]:
        """Rows claimed for sending and never settled: the process stopped mid-send."""
        on, params = _on(channel)
        rows = self.db.execute(
            f"select {_COLUMNS} from outbox where status = ? {on} order by id", [SENDING, *params]
        ).fetchall()
        return [_queued(r) for r in rows]

    def pending_count(self) -> int:
        sql = "select count(*) from outbox where status = ?"
        return int(self.db.execute(sql, [PENDING]).fetchone()[0])

    # -- what the sender writes ---------------------------------------------------------

    def claim(self, row_id: int) -> bool:
        """Take a pending row for one send attempt; False if it is no longer pending."""
        with self.db.atomic():
            return bool(
                self.db.execute(
                    "update outbox set status = ?, attempts = ifnull(attempts, 0) + 1"
                    " where id = ? and status = ?",
                    [SENDING, row_id, PENDING],
                ).rowcount
            )

    def mark_sent(self, row_id: int) -> None:
        with self.db.atomic():
            self.db.execute(
                "update outbox set status = ?, sent_at = ?, error = null where id = ?",
                [SENT, to_db(self.clock.now()), row_id],
            )

    def set_status(self, row_id: int, status: str, reason: str) -> None:
        """Settle a row that was not sent: `failed`, `unknown` or `held`, with the reason."""
        with self.db.atomic():
            self.db.execute(
                "update outbox set status = ?, error = ? where id = ?", [status, reason, row_id]
            )

    def held_for(self, conversation_id: str) -> list[Queued]:
        """The rows a reply window holds for a conversation, oldest first (staff see them)."""
        sql = f"select {_COLUMNS} from outbox where status = ? and conversation_id = ? order by id"
        return [_queued(r) for r in self.db.execute(sql, [HELD, conversation_id]).fetchall()]

    def release(self, ids: Iterable[int], outs: Iterable[Outgoing]) -> int:
        """Held rows replaced by `outs` (the channel collapses them), queued at once."""
        with transaction(self.db):
            sql = "update outbox set status = 'released' where id = ? and status = 'held'"
            self.db.conn.executemany(sql, [(row_id,) for row_id in ids])
            return self.enqueue(outs)

    def confirm_echo(self, channel: str, conversation_id: str, text: str) -> int | None:
        """The network showed us `text` the bot sent to a conversation: the oldest row of
        unknown fate there whose text it ends with (mentions are rendered in front) was
        delivered. Returns its id, or None."""
        with self.db.atomic():
            row = self.db.execute(
                "select id from outbox where status = ? and channel = ? and conversation_id = ?"
                " and length(text) <= length(?) and substr(?, -length(text)) = text"
                " order by id limit 1",
                [UNKNOWN, channel, conversation_id, text, text],
            ).fetchone()
            if row is None:
                return None
            self.db.execute(
                "update outbox set status = ?, sent_at = ?, error = null where id = ?",
                [SENT, to_db(self.clock.now()), row[0]],
            )
        return int(row[0])

    def retry_later(self, row_id: int, reason: str, not_before: datetime) -> None:
        """Back to pending, not before the given time (rounded up to the stored second)."""
        if not_before.microsecond:
            not_before = not_before.replace(microsecond=0) + timedelta(seconds=1)
        with self.db.atomic():
            self.db.execute(
                "update outbox set status = ?, error = ?, not_before = ? where id = ?",
                [PENDING, reason, to_db(not_before), row_id],
            )
