"""Web console under load: the ledger and a case page with 1,000,000 cases stored.

    .venv/bin/python bench/web.py [--cases 1000000] [--clients 20] [--seconds 20]
                                  [--db FILE] [--runs 1]

Builds the database with set-based SQL (one INSERT … SELECT over a recursive CTE for the
cases, another for one timeline event each), serves the console in its own process and
event loop on 127.0.0.1 (as `chamberbot run` does: the clients' own work does not share
the server's interpreter), logs in `--clients` accounts (through the login form) and has
each client request, in turn, the ledger's first page, a filtered ledger page (status and
department, page 3) and a random case's page, for a bounded time, over one keep-alive
connection each (a small HTTP/1.1 client: on a two-core machine httpx itself would take
CPU from the server). Prints requests/s and p50/p99 latency per page and overall (target:
p99 ≤ 200 ms), the server's CPU time per request, once per `--runs`.

`--db FILE` keeps the built database there and reuses it when it exists (building a
million cases takes a minute or two).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import FrozenClock  # noqa: E402
from bot.services import Services  # noqa: E402
from chamberbot.root import DEMO_CONFIG, FEATURES, load  # noqa: E402
from web.server import bind  # noqa: E402
from web.server import serve as serve_console  # noqa: E402
from web.store import Accounts, WebRole  # noqa: E402

START = datetime.fromisoformat("2026-11-16T09:00:00+08:00")
PASSWORD = "bench-password"
COOKIE = "chamberbot_session"
STATUSES = "('new','accepted','in_progress','resolved','closed','withdrawn')"


def _app(path: Path) -> Services:
    config = load(DEMO_CONFIG)
    # Every feature's migrations, as `chamberbot run` applies them (the reports' indexes too).
    return Services(config, db_path=path, features=FEATURES, clock=FrozenClock(START))


def build(path: Path, cases: int, clients: int) -> None:
    app = _app(path)
    db = app.db
    with db.atomic():
        db.execute(
            """
            with recursive n(i) as (select 0 union all select i + 1 from n where i + 1 < ?)
            insert into cases (number, year, seq, reporter_id, reporter_name, enterprise,
              conversation_id, conversation_is_group, description, category, aspect,
              department, assignee_id, assignee_name, status, escalation, reopen_count,
              created_at, updated_at, response_due_at, due_at, level2_due_at)
            select printf('%d-%06d', 2000 + i / 40000, i % 40000 + 1), 2000 + i / 40000,
              i % 40000 + 1, 'wxid_m' || (i % 5000), '会员' || (i % 5000),
              '企业' || (i % 5000), 'room_members', 1,
              '第' || i || '号诉求：银行抽贷，资金周转困难', '市场环境', '融资信贷',
              case i % 3 when 0 then '经济处' when 1 then '法律处' else '政研室' end,
              'wxid_wang', '王科长',
              json_extract('["new","accepted","in_progress","resolved","closed","withdrawn"]',
                '$[' || (i % 6) || ']'),
              i % 3, 0,
              '2026-01-01T00:00:00+00:00', '2026-01-01T00:00:00+00:00',
              '2026-01-02T00:00:00+00:00', '2026-12-31T00:00:00+00:00',
              '2027-01-10T00:00:00+00:00'
            from n
            """,
            [cases],
        )
        db.execute(
            "insert into case_events (case_id, kind, actor_id, actor_name, at, text, data)"
            " select id, 'opened', reporter_id, reporter_name, created_at, description, '{}'"
            " from cases"
        )
        db.execute(
            "insert into conversations (id, is_group, topic, kind, tags, first_seen, updated_at)"
            " values ('room_members', 1, '会员一群', 'member', '[]', '', '')"
        )
    accounts = Accounts(db)
    accounts.add("u0", "wxid_wang", WebRole.STAFF, PASSWORD, START)
    with db.atomic():  # the same hash for the others: argon2 is slow on purpose
        db.execute(
            "with recursive n(i) as (select 1 union all select i + 1 from n where i + 1 < ?)"
            " insert into web_users (username, contact_id, role, password_hash, failed_logins,"
            " created_at) select 'u' || i, contact_id, role, password_hash, 0, created_at"
            " from n, web_users where username = 'u0'",
            [clients],
        )
    db.execute("analyze")
    db.close()


def serve(path: Path) -> None:
    """The server process: the console on a free port (printed), until stdin closes."""

    async def main() -> None:
        app = _app(path)
        sock = bind("127.0.0.1:0")
        stop = asyncio.Event()
        asyncio.get_running_loop().add_reader(sys.stdin, stop.set)
        print(sock.getsockname()[1], flush=True)
        await serve_console(app, stop, sock)
        app.db.close()

    asyncio.run(main())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def server(path: Path) -> Iterator[tuple[str, int]]:
    """`bench/web.py --serve DB` in a child process; its base URL and process id."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        assert port.isdigit(), "the server did not start"
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Connection:
    """One keep-alive HTTP/1.1 connection with a session cookie, for GETs only.

    The measured requests go through this small client rather than httpx: on a two-core
    machine a heavy client library competes with the server for the same CPU, and what
    is measured here is the server (browsers run on other machines).
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.cookie = ""

    @classmethod
    async def open(cls, base: str, cookie: str) -> Connection:
        host, port = base.removeprefix("http://").split(":")
        connection = cls(*await asyncio.open_connection(host, int(port)))
        connection.cookie = cookie
        return connection

    async def get(self, path: str) -> tuple[int, bytes]:
        target = quote(path, safe="/?&=")
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: bench\r\nCookie: {self.cookie}\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "set-cookie" and value.strip().startswith(COOKIE):
                self.cookie = value.strip().split(";", 1)[0]
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def login(base: str, name: str) -> str:
    """Log in through the form (httpx, once); the session cookie."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        page = await http.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf
        form = {"csrf": csrf.group(1), "username": name, "password": PASSWORD, "next": "/"}
        done = await http.post("/login", data=form)
        assert done.status_code == 303, done.status_code
        return f"{COOKIE}={http.cookies[COOKIE]}"


async def client(
    base: str,
    name: str,
    numbers: list[str],
    go: asyncio.Event,
    window: dict[str, float],
    out: dict[str, list[float]],
) -> None:
    connection = await Connection.open(base, await login(base, name))
    window["logged_in"] += 1
    await go.wait()
    until = window["until"]
    rng = random.Random(name)
    kinds = ["ledger", "ledger_filtered", "case"]
    i = 0
    try:
        while time.perf_counter() < until:
            kind = kinds[i % 3]
            i += 1
            url = {
                "ledger": "/cases",
                "ledger_filtered": "/cases?status=in_progress&department=政研室&page=3",
                "case": f"/cases/{rng.choice(numbers)}",
            }[kind]
            t0 = time.perf_counter()
            status, body = await connection.get(url)
            out[kind].append(time.perf_counter() - t0)
            assert status == 200, (url, status)
            assert b"</html>" in body[-20:], url
    finally:
        await connection.close()


def _figures(label: str, times: list[float], seconds: float) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{label:<16} {len(times) / seconds:8.1f} req/s"
        f"   p50 {statistics.median(ordered) * 1000:6.1f} ms   p99 {p99 * 1000:6.1f} ms"
    )


def _load(base: str, pid: int, clients: int, seconds: float, numbers: list[str]) -> None:
    out: dict[str, list[float]] = {"ledger": [], "ledger_filtered": [], "case": []}

    async def run() -> float:
        go = asyncio.Event()
        window = {"logged_in": 0.0, "until": 0.0}
        tasks = [
            asyncio.create_task(client(base, f"u{i}", numbers, go, window, out))
            for i in range(clients)
        ]
        while window["logged_in"] < clients:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        start = time.perf_counter()
        cpu[0] = cpu_seconds(pid)
        window["until"] = start + seconds
        go.set()
        await asyncio.gather(*tasks)
        cpu[1] = cpu_seconds(pid)
        return time.perf_counter() - start

    cpu = [0.0, 0.0]
    elapsed = asyncio.run(run())
    print(f"{clients} logged-in clients on loopback for {elapsed:.1f} s (after logging in)")
    for kind, times in out.items():
        print(_figures(kind, times, elapsed))
    print(_figures("all", [t for ts in out.values() for t in ts], elapsed))
    done = sum(len(ts) for ts in out.values())
    used = cpu[1] - cpu[0]
    print(
        f"server CPU {used * 1000 / max(done, 1):.1f} ms per request,"
        f" {100 * used / elapsed:.0f}% of one core (load average {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--db", type=Path, help="build here, or reuse when it exists")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as folder:
        path = args.db or Path(folder) / "bench.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.cases, args.clients)
            print(f"built {args.cases:,} cases in {time.perf_counter() - t0:.1f} s")
        app = _app(path)
        count = int(app.db.execute("select count(*) from cases").fetchone()[0])
        app.db.close()
        print(f"{count:,} cases in {path}")
        numbers = [
            f"{2000 + i // 40000}-{i % 40000 + 1:06d}"
            for i in random.Random(1).sample(range(count), 2000)
        ]
        for run in range(args.runs):
            if args.runs > 1:
                print(f"-- run {run + 1} of {args.runs}")
            with server(path) as (base, pid):
                _load(base, pid, args.clients, args.seconds, numbers)


if __name__ == "__main__":
    main()
