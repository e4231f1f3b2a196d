"""How long a row another process queues waits before the running bot sends it.

    .venv/bin/python bench/outbox_watch.py [--trials 10]

Real time, real SQLite file (WAL), the demo's pacing (3 s gap per group, jitter up to
1.5 s): the bot's sender runs `Sender.run()` in asyncio with a recording transport; a
thread with its own connection — what `chamberbot broadcast run` is — commits one row for
a group of its own at a random moment and notes the time; the transport notes when that
row arrives.

1. idle — nothing else queued: the sender is in its 1 s data_version poll.
2. busy — 100 messages queued for one group, paced 3 s apart (+ jitter): the sender waits
   for that group's slots or sleeps a jitter before a send when the row lands.

The global limit is raised from 20 to 60 a minute here: the group's backlog alone sends
~16 a minute, so at 20 the trial rows would wait for the minute's budget (by design,
first come first served — bot/sender.py) and the figure would measure the budget, not
how soon the sender sees a row. Prints min / median / max of commit → send per mode
(the target: < 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import parse_config  # noqa: E402
from bot.messages import Outgoing  # noqa: E402
from bot.sender import Sender  # noqa: E402
from bot.services import Services  # noqa: E402
from chamberbot.root import FEATURES, sections  # noqa: E402
from channels.test import TestTransport  # noqa: E402

BACKLOG_ROOM, CLI_ROOM = "room_members", "room_cli"


class Recording(TestTransport):
    def __init__(self, names: Services) -> None:
        super().__init__(names.people.name)
        self.arrived: dict[str, float] = {}
        self.sent = asyncio.Event()

    async def send(self, out: Outgoing) -> None:
        self.record(out)
        self.arrived[out.text] = time.monotonic()
        self.sent.set()

    async def seen(self, text: str) -> None:
        while text not in self.arrived:
            self.sent.clear()
            await self.sent.wait()


def _services(path: Path) -> Services:
    demo = yaml.safe_load((ROOT / "bot/demo/config.yaml").read_text("utf-8"))
    config = parse_config(demo, "config.yaml", sections())
    return Services(config, db_path=path, features=FEATURES)


async def _trials(bot: Services, cli_path: Path, trials: int, busy: bool) -> list[float]:
    if busy:
        bot.outbox.enqueue(Outgoing(BACKLOG_ROOM, f"积压{i}") for i in range(100))
    transport = Recording(bot)
    pacing = bot.config.pacing.model_copy(update={"global_per_minute": 60})
    sender = Sender(bot.outbox, transport, pacing)
    running = asyncio.create_task(sender.run())
    committed: dict[str, float] = {}

    def commit(text: str, room: str) -> None:
        cli = _services(cli_path)  # its own connection, as a CLI process has
        try:
            with cli.db.atomic():
                cli.outbox.enqueue([Outgoing(room, text)])
            committed[text] = time.monotonic()
        finally:
            cli.close()

    latencies: list[float] = []
    try:
        await asyncio.sleep(1.5)
        for i in range(trials):
            text = f"{'busy' if busy else 'idle'}-{i}"
            await asyncio.sleep(random.uniform(0.0, 1.0) + (3.0 if busy else 0.2))
            thread = threading.Thread(target=commit, args=(text, f"{CLI_ROOM}_{i}"))
            thread.start()
            await asyncio.wait_for(transport.seen(text), timeout=60)
            thread.join()
            latencies.append(transport.arrived[text] - committed[text])
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="rows per mode (default 10)")
    args = parser.parse_args()
    for busy in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.db"
            bot = _services(path)
            try:
                found = asyncio.run(_trials(bot, path, args.trials, busy))
            finally:
                bot.close()
        mode = "busy (100 paced ahead, other group)" if busy else "idle"
        print(
            f"{mode:<38} commit → send: min {min(found):.2f} s, "
            f"median {statistics.median(found):.2f} s, max {max(found):.2f} s "
            f"({len(found)} rows)"
        )


if __name__ == "__main__":
    main()
