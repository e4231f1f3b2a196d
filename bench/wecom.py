"""WeCom end to end over the loopback AI-bot emulator: a bare echo client vs chamberbot.

    .venv/bin/python bench/wecom.py [--warm 200] [--burst 1000]

Two WeCom emulators (tests/wecom, wss:// on 127.0.0.1, started once) in this process, one
for each bot: an echo client (the product's own WeCom transport, channels/wecom_bot.py, in
a process of its own with its journal on a SQLite file as the bot's, answering every
message with its text on the message's callback)
and the real `chamberbot run` process configured for WeCom only (pacing off: no gap, no
jitter, no rate limit). Both get the same traffic, private messages `帮助` (chamberbot
answers with the menu, through dispatcher, SQLite and the durable outbox):

- warm reply latency: one message at a time from `WARM_USERS` users in rotation, from
  `emulator.say()` to the moment the emulator took the reply (its record's `time`, on
  time.monotonic), p50 and p99 over `--warm` messages; the two bots take turns, message by
  message, so the machine's load falls on both alike;
- a burst: one message from each of `--burst` users, injected by 8 threads, first to the
  echo client, then to chamberbot (the other idle); seconds from the first message to the
  last reply, replies received, duplicates (a user answered more than once).

Prints the figures for each and the ratios chamberbot / echo client, and what the emulator
refused or did not deliver (a user's fourth unfinished stream, a message while no
connection was live).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.echo_race import (  # noqa: E402
    EchoProcess,
    Replied,
    Say,
    burst,
    figures,
    print_table,
    until_terminated,
    warm_side_by_side,
)
from bot.messages import Incoming, Outgoing  # noqa: E402
from tests.wecom.emulator import WecomEmulator  # noqa: E402
from tests.wecom_harness import SECRET_ENV, start_bot, wecom_config  # noqa: E402

TEXT = "帮助"
SECRET = "bench-secret"
WARM_USERS = 5  # few enough to be "known"; one finished reply each before the next message
POLL = 0.001  # seconds between two looks for the warm reply


async def _echo_client(url: str, ca_file: str, bot_id: str, db: str) -> None:
    from bot.db import open_db
    from bot.journal import Journal
    from channels.wecom_bot import CHANNEL, WecomBotTransport

    transport = WecomBotTransport(
        url,
        bot_id,
        os.environ[SECRET_ENV],
        names=["商会助手"],
        ssl_context=ssl.create_default_context(cafile=ca_file),
        journal=Journal(open_db(db), CHANNEL),  # on a file, as the bot's
    )

    async def answer(msg: Incoming) -> None:
        await transport.send(
            Outgoing(msg.conversation_id, msg.text, channel=msg.channel, reply_to=msg.message_id)
        )

    await transport.start(answer)  # returns once subscribed
    await until_terminated()
    await transport.stop()


def _replies(emu: WecomEmulator, users: set[str]) -> Counter[str]:
    return Counter(r["chatid"] for r in emu.sent() if r["chatid"] in users)


def _trouble(emu: WecomEmulator, before: dict[str, int]) -> int:
    """Frames refused and messages not delivered since `before` (the emulator's stats)."""
    now = emu.stats
    return sum(now[k] - before[k] for k in ("refused", "dropped_messages", "undelivered"))


def warm_side(emu: WecomEmulator, users: list[str]) -> tuple[Say, Replied]:
    """How to say a warm message to a bot on `emu`, and when its reply arrived."""
    warm_users = users[:WARM_USERS]

    def replied(i: int) -> float | None:
        """When the emulator took the reply to message i (its clock: time.monotonic)."""
        records, k = emu.sent_to(warm_users[i % WARM_USERS]), i // WARM_USERS
        return float(records[k]["time"]) if len(records) > k else None

    return (lambda i: emu.say(warm_users[i % WARM_USERS], TEXT)), replied


def burst_figures(
    emu: WecomEmulator, users: list[str], latencies: list[float], before: dict[str, int]
) -> dict[str, float]:
    emu.clear()
    burst_users = set(users)
    result = burst(
        lambda user: emu.say(user, TEXT),
        users,
        lambda: sum(_replies(emu, burst_users).values()),
        lambda: _replies(emu, burst_users),
    )
    return {**figures(latencies, result), "refused/dropped": _trouble(emu, before)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument(
        "--echo-client",
        nargs=4,
        metavar=("URL", "CA_FILE", "BOT_ID", "DB"),
        help=argparse.SUPPRESS,
    )
    args = parser.parse_args()
    if args.echo_client:
        asyncio.run(_echo_client(*args.echo_client))
        return

    with (
        tempfile.TemporaryDirectory() as scratch,
        WecomEmulator(secret=SECRET) as echo_emu,
        WecomEmulator(secret=SECRET) as bot_emu,
    ):
        folder = Path(scratch)
        users = [f"bench{i:04d}" for i in range(args.burst)]
        echo = EchoProcess(
            __file__, "--echo-client", echo_emu.url, str(echo_emu.ca_file), echo_emu.bot_id,
            str(folder / "echo.db"),
            env={SECRET_ENV: SECRET},
        )  # fmt: skip
        try:
            echo_emu.wait_connected()
            bot = start_bot(wecom_config(folder, bot_emu), folder / "bot.log", SECRET)
            try:
                second = [f"{u}b" for u in users]  # new users: nothing cached or known
                before = (echo_emu.stats, bot_emu.stats)
                echo_warm, bot_warm = warm_side_by_side(
                    [warm_side(echo_emu, users), warm_side(bot_emu, second)], args.warm, POLL
                )
                results = {
                    "echo client": burst_figures(echo_emu, users, echo_warm, before[0]),
                    "chamberbot": burst_figures(bot_emu, second, bot_warm, before[1]),
                }
            finally:
                bot.stop()
        finally:
            echo.stop()

    print(f"WeCom bench: warm {args.warm} messages, burst {args.burst} (pacing off)")
    print_table(results, "inject the burst into the emulator")
    print("(refused/dropped: frames the emulator refused and messages it did not deliver)")


if __name__ == "__main__":
    main()
