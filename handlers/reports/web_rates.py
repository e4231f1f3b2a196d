"""The 工作台's three rates for this month: a fragment (`/rates`) the dashboard loads by
htmx, computed in the console's worker thread (never on the bot's loop), kept for
`RATES_SECONDS` (real time) and shared among the requests that arrive while it runs."""

from __future__ import annotations

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.reports.figures import Totals, totals
from handlers.reports.period import Period, month_of
from handlers.reports.text import labels
from web.console import Console
from web.store import User

__all__ = ["RATES_SECONDS", "Rates", "routes"]

RATES_SECONDS = 60.0


class Rates:
    def __init__(self, console: Console) -> None:
        self.console = console
        self._kept: dict[str, tuple[float, asyncio.Future[Totals]]] = {}

    async def of(self, month: Period) -> Totals:
        """This month's totals (the three rates), at most `RATES_SECONDS` old."""
        now = time.monotonic()
        found = self._kept.get(month.key)
        if found and now - found[0] < RATES_SECONDS and not found[1].cancelled():
            return await asyncio.shield(found[1])
        cutoff = self.console.app.clock.now()
        work = self.console.offload.run(lambda db: totals(db, month, cutoff))
        future = asyncio.ensure_future(work)
        self._kept = {month.key: (now, future)}
        try:
            return await asyncio.shield(future)
        except BaseException:
            self._kept.pop(month.key, None)
            raise


def routes(console: Console) -> list[Route]:
    app = console.app
    rates = Rates(console)

    async def fragment(request: Request, user: User) -> Response:
        month = month_of(app.clock.now())
        found = await rates.of(month)
        lab = labels(app.templates.render)
        return console.render(request, "_rates.html", rates=found, month=month, lab=lab)

    return [Route("/rates", console.page(fragment))]
