"""Reports and exports off the event loop: a read connection of their own, one worker thread.

A report reads every case of the year (handlers/reports/facts.py): at a million cases that
takes seconds, and the console shares its loop with the bot. So the 统计 page, its
downloads, the 工作台's three rates and the case ledger's export (up to 100,000 cases,
bench/ledger_latency.py) run in one worker thread, each call on a fresh connection to the
same SQLite file (WAL: it reads what is committed, and the temp tables a report builds
are its own), while the loop goes on serving pages and chat. One worker: two reports at
once would only halve each other's speed on a small server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot.services import Services

__all__ = ["Offload"]

T = TypeVar("T")


class Offload:
    def __init__(self, app: Services) -> None:
        self.app = app
        path = str(app.db_path)
        self.path = None if path == ":memory:" or path.startswith("file:") else Path(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-reports")
        self.pending = 0  # jobs handed to the worker and not yet done (waiting or running)

    async def run(self, work: Callable[[Database], T]) -> T:
        """`work(db)` in the worker thread on its own connection (in the loop for :memory:)."""
        if self.path is None:
            return work(self.app.db)
        path = self.path

        def job() -> T:
            db = Database(path)
            try:
                db.execute("PRAGMA busy_timeout=5000")
                db.execute("PRAGMA temp_store=MEMORY")
                return work(db)
            finally:
                db.close()

        self.pending += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, job)
        finally:
            self.pending -= 1
