"""WAL checkpoints off the event loop (chamberbot/wal.py): while the bot runs, a thread
copies the log back into the database file, and the bot's own commits no longer do it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bot.db import open_db
from chamberbot.wal import BACKSTOP, DEFAULT_AUTOCHECKPOINT, wal_checkpoints

ROW = "案" * 1000  # 3 KB: about one page a row


def _autocheckpoint(db_path: Path) -> int:
    db = open_db(db_path)
    try:
        return int(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    finally:
        db.close()


async def test_a_thread_checkpoints_the_log_and_the_default_comes_back(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    db = open_db(path)
    db.execute("create table notes (text text)")
    stop = asyncio.Event()
    running = asyncio.create_task(wal_checkpoints(db, path, stop, every=0.01))
    for _ in range(20):  # the companion starts: the bot's threshold is the backstop
        await asyncio.sleep(0)
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP
    before = path.stat().st_size
    with db.conn:
        db.conn.executemany("insert into notes values (?)", [(ROW,)] * 300)
    # 300 pages: under either threshold, so only the thread copies them into the file
    deadline = time.monotonic() + 10
    while path.stat().st_size < before + 300 * 3000:
        assert time.monotonic() < deadline, "timed out waiting for the checkpoint"
        await asyncio.sleep(0.01)
    stop.set()
    await running
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == DEFAULT_AUTOCHECKPOINT
    assert db.execute("select count(*) from notes").fetchone()[0] == 300
    db.close()
    assert _autocheckpoint(path) == DEFAULT_AUTOCHECKPOINT  # a per-connection setting
