"""The inbound journal: a message is a row in SQLite before anything is done with it.

A transport appends the ids of the messages it reads off its stream in small batches
(`append`, one transaction per batch), then resolves each row into a full `Incoming`
(`resolved`: sender, text, mentions, time — enough to handle it without the network) and
hands the rows to the dispatcher in arrival order (`seq`). The dispatcher marks a row
`handled` in the same transaction as the handler's writes, so a kill at any point leaves
each journalled message either handled once or still in the journal, to be handled when
the bot starts again. An id journalled before is not journalled again (dedupe by id).

Settled rows are kept for a week (`prune`, at start), longer than the gateway could
redeliver them. Statuses: `raw` (only the id is known), `ready` (resolved), `handled`,
`skipped` (not a message for the bot: its own echo, a picture …), `error` (handing it
over raised).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlite_utils import Database

from bot.messages import Incoming

__all__ = ["PAGE", "RAW", "READY", "Entry", "Journal", "mark_handled"]

RAW, READY, HANDLED, SKIPPED, ERROR = "raw", "ready", "handled", "skipped", "error"
PAGE = 64  # rows `pending` reads at a time


@dataclass(frozen=True)
class Entry:
    seq: int
    message_id: str
    status: str
    incoming: Incoming | None


def _encode(msg: Incoming) -> str:
    data = asdict(msg)
    data["time"] = msg.time.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _decode(text: str) -> Incoming:
    data = json.loads(text)
    data["time"] = datetime.fromisoformat(data["time"])
    data["journalled"] = True
    return Incoming(**data)


class Journal:
    def __init__(self, db: Database, channel: str) -> None:
        self.db = db
        self.channel = channel

    def append(self, arrivals: Sequence[tuple[str, float]]) -> int:
        """Journal (message id, wall-clock second it was read) pairs in one transaction;
        returns how many were new."""
        added = 0
        with self.db.atomic():
            for message_id, read_at in arrivals:
                added += self.db.execute(
                    "insert or ignore into journal (channel, message_id, status, read_at,"
                    " committed_at) values (?, ?, ?, ?, ?)",
                    [self.channel, message_id, RAW, read_at, time.time()],
                ).rowcount
        return added

    def append_resolved(self, arrivals: Sequence[tuple[str, float, Incoming | None]]) -> list[str]:
        """Journal messages that arrive whole (message id, wall-clock second it was read,
        what it is: None for nothing the bot handles) in one transaction, ready at once;
        returns the ids that were new (a redelivered id is journalled once)."""
        new: list[str] = []
        with self.db.atomic():
            for message_id, read_at, msg in arrivals:
                if self.db.execute(
                    "insert or ignore into journal (channel, message_id, status, read_at,"
                    " committed_at, incoming) values (?, ?, ?, ?, ?, ?)",
                    [
                        self.channel,
                        message_id,
                        READY if msg else SKIPPED,
                        read_at,
                        time.time(),
                        _encode(msg) if msg else None,
                    ],
                ).rowcount:
                    new.append(message_id)
        return new

    def resolved(self, results: Sequence[tuple[str, Incoming | None]]) -> None:
        """Store what each raw row turned out to be (None: nothing for the bot)."""
        with self.db.atomic():
            for message_id, msg in results:
                self.db.execute(
                    "update journal set status = ?, incoming = ?"
                    " where channel = ? and message_id = ? and status = ?",
                    [
                        READY if msg else SKIPPED,
                        _encode(msg) if msg else None,
                        self.channel,
                        message_id,
                        RAW,
                    ],
                )

    def failed(self, message_id: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "update journal set status = ? where channel = ? and message_id = ?",
                [ERROR, self.channel, message_id],
            )

    def prune(self, days: float = 7.0) -> int:
        """Forget rows settled more than `days` ago (their ids stay in `inbound`)."""
        with self.db.atomic():
            return self.db.execute(
                "delete from journal where channel = ? and status not in (?, ?) and read_at < ?",
                [self.channel, RAW, READY, time.time() - days * 86400],
            ).rowcount

    def pending(self, after: int, limit: int = PAGE) -> list[Entry]:
        """Rows not yet handled with `seq` > `after`, in arrival order, at most `limit`."""
        rows = self.db.execute(
            "select seq, message_id, status, incoming from journal"
            " where channel = ? and status in (?, ?) and seq > ? order by seq limit ?",
            [self.channel, RAW, READY, after, limit],
        ).fetchall()
        return [Entry(r[0], r[1], r[2], _decode(r[3]) if r[3] else None) for r in rows]


def mark_handled(db: Database, msg: Incoming) -> None:
    """In the handler's transaction: the journalled message is done."""
    if not msg.journalled:
        return
    db.execute(
        "update journal set status = ? where channel = ? and message_id = ?",
        [HANDLED, msg.channel, msg.message_id],
    )
