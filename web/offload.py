"""Reports and exports off the event loop: a read connection of their own, one worker thread.

A report reads every case of the year (handlers/reports/facts.py): at a million cases that
takes seconds, and the console shares its loop with the bot. So the 统计 page, its
downloads, the 工作台's three rates and the case ledger's export (up to 100,000 cases,
bench/ledger_latency.py) run in one worker thread, each call on a fresh connection to the
same SQLite file (WAL: it reads what is committed, and the temp tables a report builds
are its own), while the loop goes on serving pages and chat. One worker: two reports at
once would only halve each other's speed on a small server.

The worker and the loop share one GIL. While the worker computes, the loop waits for the
GIL at every turn (each turn releases it to poll its sockets) up to the interpreter's
switch interval, 5 ms by default: a 3 ms page took 17 ms at the median and 100 ms at p95
during an export (bench/ledger_latency.py). The console lowers the interval to 1 ms for
the whole process, which brings that close to a page's own time at a small cost to the
worker's throughput.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot.services import Services

__all__ = ["Offload"]

T = TypeVar("T")
SWITCH_INTERVAL = 0.001  # seconds; CPython's default is 0.005


class Offload:
    def __init__(self, app: Services) -> None:
        self.app = app
        path = str(app.db_path)
        self.path = None if path == ":memory:" or path.startswith("file:") else Path(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-reports")
        self.pending = 0  # jobs handed to the worker and not yet done (waiting or running)
        if sys.getswitchinterval() > SWITCH_INTERVAL:
            sys.setswitchinterval(SWITCH_INTERVAL)

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
