"""Intake throughput: chamberbot's whole path vs bare sqlite3 inserts of the same rows.

    .venv/bin/python bench/intake.py [--messages 2000]

Prints messages per second of in-process intake (normalise → route → case + event +
outbox rows, WAL, synchronous=NORMAL, one transaction per message), the rate of bare
sqlite3 inserts of the same rows with the same settings (timed in alternating batches of
a tenth each, so a shared machine's load falls on both alike), their ratio, and the cost
per message with 1,000 and with 100,000 cases already in the database. The bare inserts
write the very rows the bot writes (copied from a message it handled: every case column,
the rendered replies), with open_db's connection settings.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import FrozenClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.db import PRAGMAS, to_db  # noqa: E402
from bot.dispatcher import Dispatcher  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from bot.services import Services  # noqa: E402
from chamberbot.root import sections  # noqa: E402
from chamberbot.root import services as build_services  # noqa: E402

START = datetime.fromisoformat("2026-11-16T09:00:00+08:00")
TEXT = "诉求 银行突然抽贷，流动资金紧张，联系电话13812345678"


def _app(folder: Path, existing: int) -> tuple[Services, FrozenClock]:
    config = parse_config(
        yaml.safe_load((ROOT / "bot/demo/config.yaml").read_text("utf-8")), "demo", sections()
    )
    clock = FrozenClock(START)
    app = build_services(config, db_path=folder / "bench.db", clock=clock)
    if existing:
        _prefill(app, existing)
    return app, clock


def _prefill(app: Services, count: int) -> None:
    """Existing cases from earlier years, written in bulk (not measured)."""
    now = to_db(START)
    rows = (
        {
            "number": f"{2000 + i // 9000}-{i % 9000 + 1:04d}",
            "year": 2000 + i // 9000,
            "seq": i % 9000 + 1,
            "reporter_id": f"old{i % 500}",
            "reporter_name": "老会员",
            "conversation_id": "room_members",
            "conversation_is_group": 1,
            "description": "历史诉求",
            "category": "其他",
            "department": "秘书处",
            "status": "closed",
            "escalation": 0,
            "reopen_count": 0,
            "created_at": now,
            "updated_at": now,
            "response_due_at": now,
            "due_at": now,
            "level2_due_at": now,
        }
        for i in range(count)
    )
    app.db.table("cases").insert_all(rows, batch_size=5000)


def _messages(n: int, offset: int = 0) -> list[Incoming]:
    return [
        Incoming(
            f"bench-{offset + i}",
            "room_members",
            True,
            f"member{offset + i}",
            f"会员{i}",
            TEXT,
            START,
        )
        for i in range(n)
    ]


class BotRun:
    """Chamberbot's whole path: `Dispatcher.handle` on each message, timed per batch."""

    def __init__(self, folder: Path, existing: int, n: int) -> None:
        self.app, self.clock = _app(folder, existing)
        self.existing, self.msgs = existing, _messages(n)
        for msg in self.msgs:  # every sender's enterprise is known: no prompt round trip
            self.app.people.remember(msg.sender_id, name=msg.sender_name, enterprise="测试企业")
        self.dispatcher = Dispatcher(self.app)
        self.done = 0

    def batch(self, size: int) -> float:
        msgs = self.msgs[self.done : self.done + size]
        began = time.perf_counter()
        for msg in msgs:
            self.clock.advance(timedelta(seconds=1))
            self.dispatcher.handle(msg)
        self.done += len(msgs)
        return time.perf_counter() - began

    def close(self) -> None:
        cases = self.app.db.execute("select count(*) from cases").fetchone()[0]
        assert cases == self.existing + self.done, cases
        self.app.db.close()


class BareRun:
    """The very rows the bot writes for a message (inbound, case, event, its two replies),
    copied from a sample message the bot handled, inserted through plain sqlite3 with the
    connection settings of `open_db`."""

    def __init__(self, folder: Path) -> None:
        sample = BotRun(folder / "sample", 0, 1)
        sample.batch(1)
        db = sample.app.db
        self.rows = {
            table: [dict(row) for row in db.table(table).rows]
            for table in ("inbound", "cases", "case_events", "outbox")
        }
        sample.close()
        app, _ = _app(folder, 0)  # same schema, same indexes
        app.db.close()
        self.conn = sqlite3.connect(folder / "bench.db", isolation_level=None)
        for pragma in PRAGMAS:
            self.conn.execute(f"PRAGMA {pragma}")
        self.sql = {table: _insert(table, rows[0]) for table, rows in self.rows.items()}
        self.done = 0

    def batch(self, size: int) -> float:
        conn, sql, rows = self.conn, self.sql, self.rows
        (inbound,), (case,), (event,) = rows["inbound"], rows["cases"], rows["case_events"]
        began = time.perf_counter()
        for i in range(self.done, self.done + size):
            conn.execute("BEGIN")
            conn.execute(sql["inbound"], {**inbound, "message_id": f"b{i}"})
            number = {"number": f"2026-{i + 1:04d}", "seq": i + 1, "reporter_id": f"m{i}"}
            cur = conn.execute(sql["cases"], {**case, **number})
            conn.execute(sql["case_events"], {**event, "case_id": cur.lastrowid})
            for out in rows["outbox"]:
                conn.execute(sql["outbox"], out)
            conn.execute("COMMIT")
        self.done += size
        return time.perf_counter() - began

    def close(self) -> None:
        self.conn.close()


def _insert(table: str, row: dict[str, object]) -> str:
    columns = [c for c in row if c != "id"]
    marks = ", ".join(f":{c}" for c in columns)
    return f"insert into {table} ({', '.join(columns)}) values ({marks})"


def ratio(n: int, rounds: int = 10) -> tuple[float, float]:
    """Messages/s of the bot and of bare sqlite3, timed in alternating batches so that the
    load of a shared machine falls on both alike."""
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        bot, bare = BotRun(Path(a), 0, n), BareRun(Path(b))
        size = n // rounds
        bot_time = bare_time = 0.0
        for _ in range(rounds):
            bot_time += bot.batch(size)
            bare_time += bare.batch(size)
        bot.close()
        bare.close()
    return size * rounds / bot_time, size * rounds / bare_time


def statements_per_message(n: int = 50) -> tuple[float, float]:
    """SQL statements one intake message executes, after a few messages have warmed the
    memos: as sqlite3's trace callback reports them, and with the repeats collapsed (the
    callback reports a statement again for each trigger program it runs: RETURNING and
    the open-cases counter)."""
    with tempfile.TemporaryDirectory() as folder:
        run = BotRun(Path(folder), 0, n + 5)
        run.batch(5)
        seen: list[str] = []
        run.app.db.conn.set_trace_callback(seen.append)
        run.batch(n)
        run.app.db.conn.set_trace_callback(None)
        run.close()
    distinct = [s for i, s in enumerate(seen) if i == 0 or s != seen[i - 1]]
    return len(seen) / n, len(distinct) / n


def bot_rate(n: int, existing: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        run = BotRun(Path(folder), existing, n)
        elapsed = run.batch(n)
        run.close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    n = parser.parse_args().messages
    ours, bare = ratio(n)
    print(f"intake, whole bot path:   {ours:8.0f} messages/s")
    print(f"bare sqlite3, same rows:  {bare:8.0f} messages/s")
    print(f"ratio bare / bot:         {bare / ours:8.2f} x")
    traced, statements = statements_per_message()
    print(f"SQL statements / message: {statements:8.1f} ({traced:.1f} traced)")
    for existing in (1_000, 100_000):
        rate = bot_rate(min(n, 1000), existing)
        print(f"with {existing:>7,} cases:     {1000 / rate:8.3f} ms/message")


if __name__ == "__main__":
    main()
