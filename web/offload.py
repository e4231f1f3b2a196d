"""Report figures off the event loop: a read connection of their own, one worker thread.

A report reads every case of the year (handlers/reports/facts.py): at a million cases that
takes seconds, and the console shares its loop with the bot. So the 统计 page, its
downloads and the 工作台's three rates compute in one worker thread, each call on a fresh
connection to the same SQLite file (WAL: it reads what is committed, and the temp tables
a report builds are its own), while the loop goes on serving pages and chat. One worker:
two reports at once would only halve each other's speed on a small server.

`rates` keeps this month's three rates for `RATES_SECONDS` (real time) and shares one
computation among the requests that arrive while it runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from bot.services import Services
from handlers.reports.figures import Totals, totals
from handlers.reports.period import Period

__all__ = ["RATES_SECONDS", "Offload"]

T = TypeVar("T")
RATES_SECONDS = 60.0


class Offload:
    def __init__(self, app: Services) -> None:
        self.app = app
        path = str(app.db_path)
        self.path = None if path == ":memory:" or path.startswith("file:") else Path(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="web-reports")
        self._rates: dict[str, tuple[float, asyncio.Future[Totals]]] = {}

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

        return await asyncio.get_running_loop().run_in_executor(self._pool, job)

    async def rates(self, month: Period) -> Totals:
        """This month's totals (the three rates), at most `RATES_SECONDS` old."""
        now = time.monotonic()
        found = self._rates.get(month.key)
        if found and now - found[0] < RATES_SECONDS and not found[1].cancelled():
            return await asyncio.shield(found[1])
        cutoff = self.app.clock.now()
        future = asyncio.ensure_future(self.run(lambda db: totals(db, month, cutoff)))
        self._rates = {month.key: (now, future)}
        try:
            return await asyncio.shield(future)
        except BaseException:
            self._rates.pop(month.key, None)
            raise
