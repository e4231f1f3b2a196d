"""WeChat end to end through the real Wechaty gateway: a bare echo bot vs chamberbot.

    .venv/bin/python bench/gateway.py [--warm 200] [--burst 1000]

Two Node test gateways (tests/gateway, mock WeChat), one for each bot: a trivial echo bot
(the same thin client, channels.wechaty, its journal on a SQLite file as the bot's,
answering every message with its own text) and the real `chamberbot run` process (pacing
off: no gap, no jitter, no rate limit). Both get the same traffic, private messages `帮助`
(chamberbot answers with the menu, through dispatcher, SQLite and the durable outbox):

- warm reply latency: one message at a time, from the control channel's `/say` to the
  moment the gateway took the reply (its monotonic stamp, CLOCK_MONOTONIC as Python's
  time.monotonic), p50 and p99 over `--warm` messages; the two bots take turns, message by
  message, so the machine's load falls on both alike;
- a burst: `--burst` messages from as many contacts, injected by 8 threads, first to the
  echo bot, then to chamberbot (the other idle); seconds from the first message to the
  last reply, replies received, duplicates (a contact answered more than once).

Prints the figures for each bot and the ratios chamberbot / echo bot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from functools import partial
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
from tests.gateway_harness import Bot, Gateway, write_config  # noqa: E402

TEXT = "帮助"


async def _echo_bot(endpoint: str, token: str, db: str) -> None:
    from bot.db import open_db
    from bot.journal import Journal
    from channels.wechaty import WechatyTransport

    transport = WechatyTransport(endpoint, token, journal=Journal(open_db(db), "wechat"))

    async def answer(msg: Incoming) -> None:
        await transport.send(Outgoing(msg.conversation_id, msg.text))

    await transport.start(answer)
    await transport.wait_logged_in(10)
    await until_terminated()
    await transport.stop()


def _sent_count(gw: Gateway) -> int:
    return int(gw.get("/stats")["sent"])


def _arrived(gw: Gateway, i: int) -> float | None:
    """When the gateway took the (i+1)-th reply (its `received`, CLOCK_MONOTONIC), or None."""
    stats = gw.get("/stats")
    return float(stats["last_received"]) if int(stats["sent"]) >= i + 1 else None


def warm_side(gw: Gateway, senders: list[str]) -> tuple[Say, Replied]:
    """How to say a warm message to the bot on `gw`, and when its reply arrived."""
    warm_senders = senders[:50]
    gw.post("/sent/clear")
    return (lambda i: gw.say(warm_senders[i % len(warm_senders)], TEXT)), partial(_arrived, gw)


def burst_figures(gw: Gateway, senders: list[str], latencies: list[float]) -> dict[str, float]:
    gw.post("/sent/clear")
    result = burst(
        lambda s: gw.say(s, TEXT),
        senders,
        lambda: _sent_count(gw),
        lambda: Counter(m["conversation_id"] for m in gw.sent()),
    )
    return figures(latencies, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument(
        "--echo-bot", nargs=3, metavar=("ENDPOINT", "TOKEN", "DB"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.echo_bot:
        asyncio.run(_echo_bot(*args.echo_bot))
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        echo_gw = Gateway(folder / "echo-gateway.log")
        bot_gw = Gateway(folder / "gateway.log")
        try:
            senders = [f"wxid_bench{i:04d}" for i in range(args.burst)]
            second = [f"{s}b" for s in senders]  # other contacts: nothing cached or known
            for i, (contact, other) in enumerate(zip(senders, second, strict=True)):
                echo_gw.post("/contacts", id=contact, name=f"会员{i:04d}")
                bot_gw.post("/contacts", id=other, name=f"会员{i:04d}乙")
            echo = EchoProcess(
                __file__, "--echo-bot", echo_gw.endpoint, echo_gw.token, str(folder / "echo.db")
            )
            try:
                bot = Bot(write_config(folder, bot_gw.endpoint, bot_gw.token), folder / "bot.log")
                try:
                    bot.wait_log("logged in to WeChat as", timeout=30)
                    echo_warm, bot_warm = warm_side_by_side(
                        [warm_side(echo_gw, senders), warm_side(bot_gw, second)],
                        args.warm,
                        every=0.001,  # the stamp is the gateway's: polling often only loads it
                    )
                    results = {
                        "echo bot": burst_figures(echo_gw, senders, echo_warm),
                        "chamberbot": burst_figures(bot_gw, second, bot_warm),
                    }
                finally:
                    bot.stop()
            finally:
                echo.stop()
        finally:
            echo_gw.close()
            bot_gw.close()

    print(f"gateway bench: warm {args.warm} messages, burst {args.burst} (pacing off)")
    print_table(results, "post the burst to the gateway")


if __name__ == "__main__":
    main()
