"""WeChat end to end through the real Wechaty gateway: a bare echo bot vs chamberbot.

    .venv/bin/python bench/gateway.py [--warm 200] [--burst 1000]

One Node test gateway (tests/gateway, mock WeChat) serves both bots in turn: first a
trivial echo bot (the same thin client, channels.wechaty, answering every message
with its own text), then the real `chamberbot run` process (pacing off: no gap, no jitter,
no rate limit). Both get the same traffic, private messages `帮助` (chamberbot answers
with the menu, through dispatcher, SQLite and the durable outbox):

- warm reply latency: one message at a time, from the control channel's `/say` to the
  moment the gateway took the reply (its monotonic stamp, CLOCK_MONOTONIC as Python's
  time.monotonic), p50 and p99 over `--warm` messages;
- a burst: `--burst` messages from as many contacts, injected by 8 threads; seconds from
  the first message to the last reply, replies received, duplicates (a contact answered
  more than once).

Prints the figures for each bot and the ratios chamberbot / echo bot.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.echo_race import (  # noqa: E402
    EchoProcess,
    burst,
    figures,
    print_table,
    until_terminated,
    warm_latency,
)
from bot.messages import Incoming, Outgoing  # noqa: E402
from tests.gateway_harness import Bot, Gateway, write_config  # noqa: E402

TEXT = "帮助"


async def _echo_bot(endpoint: str, token: str) -> None:
    from channels.wechaty import WechatyTransport

    transport = WechatyTransport(endpoint, token)

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


def measure(gw: Gateway, warm: int, senders: list[str]) -> dict[str, float]:
    warm_senders = senders[:50]
    gw.post("/sent/clear")
    latencies = warm_latency(
        lambda i: gw.say(warm_senders[i % len(warm_senders)], TEXT),
        lambda i: _arrived(gw, i),
        warm,
        every=0.0002,
    )
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
        "--echo-bot", nargs=2, metavar=("ENDPOINT", "TOKEN"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.echo_bot:
        asyncio.run(_echo_bot(*args.echo_bot))
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        gw = Gateway(folder / "gateway.log")
        try:
            senders = [f"wxid_bench{i:04d}" for i in range(args.burst)]
            for i, contact in enumerate(senders):
                gw.post("/contacts", id=contact, name=f"会员{i:04d}")
            echo = EchoProcess(__file__, "--echo-bot", gw.endpoint, gw.token)
            try:
                results = {"echo bot": measure(gw, args.warm, senders)}
            finally:
                echo.stop()
            bot = Bot(write_config(folder, gw.endpoint, gw.token), folder / "bot.log")
            try:
                bot.wait_log("logged in to WeChat as", timeout=30)
                second = [f"{s}b" for s in senders]  # new contacts: nothing cached or known
                for i, contact in enumerate(second):
                    gw.post("/contacts", id=contact, name=f"会员{i:04d}乙")
                results["chamberbot"] = measure(gw, args.warm, second)
            finally:
                bot.stop()
        finally:
            gw.close()

    print(f"gateway bench: warm {args.warm} messages, burst {args.burst} (pacing off)")
    print_table(results, "post the burst to the gateway")


if __name__ == "__main__":
    main()
