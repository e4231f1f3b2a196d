"""活动 registration burst: 500 members register for one 200-seat event.

    .venv/bin/python bench/events.py [--members 500] [--seats 200] [--threads 4]

Two runs on a fresh SQLite file each (WAL, synchronous=NORMAL, the production settings):

1. chat path — every member sends `报名 1` in a member group through the dispatcher
   (inbound dedupe, routing, the seat check in one transaction, reply into the outbox),
   one after another as the bot handles them; then every member sends it again.
2. racing connections — `--threads` threads, each with its own connection, call the
   registration service for their share of the members at the same time (BEGIN IMMEDIATE).

Prints the cost per registration and the count registered / waiting / rows per contact.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.clock import FrozenClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.db import open_db  # noqa: E402
from bot.dispatcher import Dispatcher  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from bot.services import Services  # noqa: E402
from chamberbot.root import FEATURES, sections  # noqa: E402
from handlers.events.notices import announce  # noqa: E402
from handlers.events.service import EventService  # noqa: E402
from handlers.events.settings import settings  # noqa: E402

START = datetime.fromisoformat("2026-11-16T09:00:00+08:00")
ROOM = "room_members"


def _app(folder: Path, members: int, seats: int) -> Services:
    demo = yaml.safe_load((ROOT / "bot/demo/config.yaml").read_text("utf-8"))
    config = parse_config(demo, "config.yaml", sections())
    app = Services(
        config, db_path=folder / "bench.db", features=FEATURES, clock=FrozenClock(START)
    )
    with app.db.atomic():
        for i in range(members):
            app.people.remember(f"m{i}", name=f"会员{i}", enterprise=f"企业{i}")
    event = app.service(EventService).create(
        {
            "title": "数字化转型大讲堂",
            "kind": "讲座",
            "starts_at": START + timedelta(days=3),
            "ends_at": START + timedelta(days=3, hours=2),
            "capacity": seats,
        },
        START,
    )
    announce(app, event, START)
    return app


def _counts(app: Services) -> tuple[int, int, int, int]:
    row = app.db.execute(
        "select sum(status = 'registered'), sum(status = 'waiting'), count(*),"
        " count(distinct contact_id) from registrations where event_id = 1"
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def chat_path(members: int, seats: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        app = _app(Path(scratch), members, seats)
        dispatcher = Dispatcher(app)
        for attempt in ("first", "again"):
            began = time.perf_counter()
            for i in range(members):
                dispatcher.handle(
                    Incoming(f"{attempt}{i}", ROOM, True, f"m{i}", f"会员{i}", "报名 1",
                             START, "会员一群")
                )  # fmt: skip
            spent = time.perf_counter() - began
            registered, waiting, rows, contacts = _counts(app)
            print(
                f"chat path ({attempt}): {spent / members * 1000:.2f} ms per 报名, "
                f"registered {registered}, waiting {waiting}, rows {rows}, contacts {contacts}"
            )
        app.db.close()


def racing(members: int, seats: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        app = _app(Path(scratch), members, seats)
        path = Path(scratch) / "bench.db"
        gate = threading.Barrier(threads)

        def work(offset: int) -> None:
            db = open_db(path)
            svc = EventService(db, settings(app.config))
            gate.wait()
            for i in range(offset, members, threads):
                svc.register(
                    1, START, contact_id=f"m{i}", name=f"会员{i}", enterprise=f"企业{i}",
                    phone=None, conversation_id=ROOM, is_group=True,
                )  # fmt: skip
            db.close()

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        began = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        spent = time.perf_counter() - began
        registered, waiting, rows, contacts = _counts(app)
        print(
            f"{threads} racing connections: {spent / members * 1000:.2f} ms per registration "
            f"(wall), registered {registered}, waiting {waiting}, rows {rows}, "
            f"contacts {contacts}"
        )
        app.db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    chat_path(args.members, args.seats)
    racing(args.members, args.seats, args.threads)


if __name__ == "__main__":
    main()
