"""The console's event loop while the case ledger exports 100,000 cases.

    .venv/bin/python bench/ledger_latency.py [--cases 100000]

Builds `--cases` cases and their timelines as bench/reports.py does, then serves the web
console's ASGI app in this process's event loop (as `chamberbot run` serves it beside the
bot) and sends it a small request (the sign-in page: the session middleware, a template)
due every 20 ms, measuring each one's latency from when it fell due to its answer:

1. with nothing else running (the baseline),
2. while a signed-in user downloads the whole ledger (`/cases.xlsx`: every case, up to
   the export's 100,000) — written in the console's worker thread on its own connection,
3. while the same export is written in the loop itself, as it was before issue 20.

Prints each run's requests, p50 / p95 / max latency and their ratio to the baseline, and
the export's time and size. The machine may be shared: the load average is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reports import fill  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.services import Services  # noqa: E402
from chamberbot.root import sections  # noqa: E402
from chamberbot.root import services as build_services  # noqa: E402
from handlers.cases.service import ledger_labels, ledger_rows  # noqa: E402
from handlers.cases.web_ledger import EXPORT_LIMIT, ledger_xlsx  # noqa: E402
from web.app import create_app  # noqa: E402
from web.store import Accounts, WebRole  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2027, 1, 1, 9, 0, tzinfo=TZ)
PASSWORD = "bench-password"
EVERY = 0.02  # seconds between two small requests
BASELINE = 150  # small requests in the baseline


async def _probe(client: httpx.AsyncClient, done: Callable[[], bool], limit: int) -> list[float]:
    """Latencies (s) of small requests due every EVERY s, until done() or `limit`: each
    from its due time to its answer, so requests due while the loop was busy (it could
    not even start them) count as answered when it frees."""
    out: list[float] = []
    start = time.perf_counter()
    due = start
    while not done() and len(out) < limit:
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        answer = await client.get("/login")
        end = time.perf_counter()
        assert answer.status_code == 200, answer.status_code
        while due <= end:  # this request and any others that fell due meanwhile
            out.append(end - due)
            due += EVERY
    return out


def _figures(name: str, lat: list[float], base: list[float] | None) -> str:
    p50 = statistics.median(lat)
    p95 = statistics.quantiles(lat, n=20)[-1] if len(lat) >= 20 else max(lat)
    line = (
        f"  {name}: {len(lat)} requests, p50 {p50 * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms,"
        f" max {max(lat) * 1e3:.0f} ms"
    )
    if base:
        b50 = statistics.median(base)
        b95 = statistics.quantiles(base, n=20)[-1]
        line += (
            f" — {p50 / b50:.1f}× / {p95 / b95:.1f}× / {max(lat) / max(base):.0f}×"
            " the baseline's p50 / p95 / max"
        )
    return line


async def _during(
    client: httpx.AsyncClient, export: Callable[[], Awaitable[bytes]]
) -> tuple[list[float], float, int]:
    """The small requests' latencies while `export` runs (they begin first); its time and
    size."""
    running: list[asyncio.Future[bytes]] = []
    probe = asyncio.ensure_future(
        _probe(client, lambda: bool(running) and running[0].done(), 10**9)
    )
    await asyncio.sleep(3 * EVERY)
    started = time.perf_counter()
    running.append(asyncio.ensure_future(export()))
    data = await running[0]
    took = time.perf_counter() - started
    return await probe, took, len(data)


async def _run(app: Services) -> None:
    web = create_app(app)
    Accounts(app.db).add("wang", "wxid_wang", WebRole.STAFF, PASSWORD, NOW)
    transport = httpx.ASGITransport(app=web)
    base_url = "http://console"
    async with (
        httpx.AsyncClient(transport=transport, base_url=base_url) as probe,
        httpx.AsyncClient(transport=transport, base_url=base_url, timeout=600) as user,
    ):
        form = await user.get("/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        login = {"csrf": csrf, "next": "/", "username": "wang", "password": PASSWORD}
        assert (await user.post("/login", data=login)).status_code == 303

        base = await _probe(probe, lambda: False, BASELINE)
        print(_figures("no export (baseline)", base, None))

        async def offloaded() -> bytes:
            answer = await user.get("/cases.xlsx")
            assert answer.status_code == 200, answer.status_code
            return answer.content

        lat, took, size = await _during(probe, offloaded)
        print(_figures("export in the worker thread", lat, base))
        print(f"    the export: {took:.1f} s, {size / 1e6:.1f} MB")

        db = app.db
        lab = ledger_labels(app.templates.render)

        async def in_loop() -> bytes:  # the route before issue 20: no await while writing
            found = ledger_rows(
                db, lab, TZ, NOW, phone=False, limit=EXPORT_LIMIT, with_timeline=False
            )
            return ledger_xlsx(found, lab["ledger.title"])

        lat, took, size = await _during(probe, in_loop)
        print(_figures("export in the loop (before)", lat, base))
        print(f"    the export: {took:.1f} s, {size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=EXPORT_LIMIT)
    args = parser.parse_args()
    config = parse_config(
        yaml.safe_load((ROOT / "bot/demo/config.yaml").read_text("utf-8")), "demo", sections()
    )
    print(f"load average at start: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as scratch:
        services = build_services(
            config, db_path=Path(scratch) / "bench.db", clock=FrozenClock(NOW)
        )
        started = time.perf_counter()
        fill(services, args.cases)
        print(f"built {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
        print(f"a small request (/login) every {EVERY * 1e3:.0f} ms:")
        asyncio.run(_run(services))
        services.close()
    print(f"load average at end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
