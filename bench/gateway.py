"""WeChat end to end through the real Wechaty gateway: a bare echo bot vs chamberbot.

    .venv/bin/python bench/gateway.py [--warm 200] [--burst 1000]

One Node test gateway (tests/gateway, mock WeChat) serves both bots in turn: first a
trivial echo bot (the same thin client, channels.wechaty, answering every message
with its own text), then the real `chamberbot run` process (pacing off: no gap, no jitter,
no rate limit). Both get the same traffic, private messages `帮助` (chamberbot answers
with the menu, through dispatcher, SQLite and the durable outbox):

- warm reply latency: one message at a time, from the control channel's `/say` to the
  reply showing up at the gateway (polled), p50 and p99 over `--warm` messages;
- a burst: `--burst` messages from as many contacts, injected by 8 threads; seconds from
  the first message to the last reply, replies received, duplicates (a contact answered
  more than once).

Prints the figures for each bot and the ratios chamberbot / echo bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from statistics import quantiles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.messages import Incoming, Outgoing  # noqa: E402
from tests.gateway_harness import (  # noqa: E402
    Bot,
    Gateway,
    clean_env,
    wait_for,
    write_config,
)

TEXT = "帮助"
WARMUP = 20


async def _echo_bot(endpoint: str, token: str) -> None:
    from channels.wechaty import WechatyTransport

    transport = WechatyTransport(endpoint, token)

    async def answer(msg: Incoming) -> None:
        await transport.send(Outgoing(msg.conversation_id, msg.text))

    await transport.start(answer)
    await transport.wait_logged_in(10)
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await transport.stop()


class EchoBot:
    def __init__(self, gateway: Gateway) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--echo-bot", gateway.endpoint, gateway.token],
            stdout=subprocess.PIPE, text=True, env=clean_env(),
        )  # fmt: skip
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the echo bot did not start")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


def _sent_count(gw: Gateway) -> int:
    return int(gw.get("/stats")["sent"])


def _replied(gw: Gateway, count: int) -> bool:
    return _sent_count(gw) >= count


def warm_latency(gw: Gateway, senders: list[str], count: int) -> list[float]:
    """Milliseconds from `/say` to the reply at the gateway, one message at a time."""
    gw.post("/sent/clear")
    out = []
    for i in range(WARMUP + count):
        start = time.perf_counter()
        gw.say(senders[i % len(senders)], TEXT)
        wait_for(partial(_replied, gw, i + 1), "a reply", timeout=10, every=0.0002)
        if i >= WARMUP:
            out.append((time.perf_counter() - start) * 1000)
    return out


def burst(gw: Gateway, senders: list[str]) -> tuple[int, float, int, float]:
    """(replies, seconds from the first message to the last reply, duplicates,
    seconds the injection of the messages took)."""
    gw.post("/sent/clear")
    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: gw.say(s, TEXT), senders))
    injected = time.perf_counter() - start
    with contextlib.suppress(AssertionError):  # short of replies: counted below
        wait_for(lambda: _sent_count(gw) >= len(senders), "the burst's replies", timeout=300,
                 every=0.005)  # fmt: skip
    seconds = time.perf_counter() - start
    answered = Counter(m["conversation_id"] for m in gw.sent())
    duplicates = sum(n - 1 for n in answered.values())
    return sum(answered.values()) - duplicates, seconds, duplicates, injected


def _pct(values: list[float], p: int) -> float:
    return quantiles(values, n=100, method="inclusive")[p - 1]


def measure(gw: Gateway, warm: int, senders: list[str]) -> dict[str, float]:
    latencies = warm_latency(gw, senders[:50], warm)
    replies, seconds, duplicates, injected = burst(gw, senders)
    return {
        "warm p50 ms": _pct(latencies, 50),
        "warm p99 ms": _pct(latencies, 99),
        "burst replies": replies,
        "burst seconds": seconds,
        "burst msg/s": replies / seconds,
        "burst duplicates": duplicates,
        "(injection s)": injected,
    }


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
            echo = EchoBot(gw)
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

    echo_r, bot_r = results["echo bot"], results["chamberbot"]
    print(f"gateway bench: warm {args.warm} messages, burst {args.burst} (pacing off)")
    print(f"{'':18}{'echo bot':>12}{'chamberbot':>12}{'ratio':>8}")
    for key in echo_r:
        ratio = f"{bot_r[key] / echo_r[key]:8.2f}" if echo_r[key] else f"{'—':>8}"
        print(f"{key:18}{echo_r[key]:12.1f}{bot_r[key]:12.1f}{ratio}")
    print("(injection s: how long the 8 threads took to post the burst to the gateway)")


if __name__ == "__main__":
    main()
