"""WAL checkpoints off the event loop, for `chamberbot run`.

SQLite copies the write-ahead log back into the database file on the connection that
commits, once the log passes 1,000 pages (`PRAGMA wal_autocheckpoint`): 4 MB written and
two fsyncs inside one commit of the bot's loop, 20-70 ms on the development machine, about
every hundred messages — the tail of the reply latency (issue 18, docs/benchmarks.md).
The running bot raises that threshold to `BACKSTOP` on its own connection and checkpoints
from a worker thread, on a connection of its own, every `every` seconds (PASSIVE: it never
waits for the bot's writes nor holds them up; SQLite releases the GIL meanwhile). In a
quiet moment a checkpoint catches up with the whole log and the bot's next write starts
it from the beginning again; under sustained writes the log grows until the backstop,
where the bot's connection checkpoints itself as before (what is left to copy is small by
then). Durability is unchanged: a commit is in the log when it returns, checkpointed or
not. When the bot stops, the default comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

from sqlite_utils import Database

__all__ = ["DEFAULT_AUTOCHECKPOINT", "wal_checkpoints"]

log = logging.getLogger(__name__)

DEFAULT_AUTOCHECKPOINT = 1000  # pages: SQLite's own default
BACKSTOP = 10_000  # pages (40 MB): the bot checkpoints itself only if the thread falls behind


async def wal_checkpoints(
    db: Database, path: Path, stop: asyncio.Event, every: float = 1.0
) -> None:
    """Until `stop` is set: checkpoint `path` from a thread every `every` seconds, with
    the automatic checkpoints of `db` (the bot's connection) off meanwhile."""
    other = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
    db.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP}")
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await stop.wait()
            try:
                await asyncio.to_thread(_checkpoint, other)
            except sqlite3.Error as exc:  # busy or locked: the next turn tries again
                log.warning("WAL checkpoint failed: %s", exc)
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT}")
        other.close()


def _checkpoint(conn: sqlite3.Connection, tries: int = 5) -> None:
    """Passive checkpoints until one caught up with the whole log (the bot's next write
    then starts the log from its beginning again), at most `tries`."""
    for _ in range(tries):
        busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy or frames == done:
            return
