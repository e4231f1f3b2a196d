"""A bot against an echo client, each on a server of its own: the measurements and the table.

Shared by bench/gateway.py (WeChat, the Node test gateway), bench/wecom.py (WeCom, the
loopback emulator) and bench/wecom_kf.py (微信客服). The caller says how a message is sent
and how replies are counted:

- warm reply latency: one message at a time (after `WARMUP` unmeasured ones), from the send
  to the moment the server received the reply, in milliseconds. The server stamps that
  moment on this machine's monotonic clock (Python's `time.monotonic`, Node's
  `process.hrtime`: both CLOCK_MONOTONIC), so the poll that notices the reply adds
  nothing to the figure (polling every millisecond added up to a millisecond to a 4 ms
  reply); the bots take turns, message by message;
- a burst: a message from each of `senders`, injected by `THREADS` threads; seconds from the
  first message to the last reply, replies received, duplicates (a sender answered more
  than once), and how long the injection took.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from statistics import quantiles

from tests.gateway_harness import clean_env, wait_for

WARMUP = 20
SETTLE = 0.005  # seconds between a reply and the next message when bots take turns
THREADS = 8


class EchoProcess:
    """A bench script run again as the echo client (its own process, like the bot's): it
    prints `ready` once connected and stops on SIGTERM (`until_terminated`)."""

    def __init__(self, script: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, script, *args],
            stdout=subprocess.PIPE, text=True, env={**clean_env(), **(env or {})},
        )  # fmt: skip
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the echo client did not start")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


async def until_terminated() -> None:
    """In the echo process: say `ready`, then wait for SIGTERM."""
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()


Say = Callable[[int], object]
Replied = Callable[[int], float | None]


def warm_side_by_side(
    sides: list[tuple[Say, Replied]], count: int, every: float
) -> list[list[float]]:
    """For each bot, milliseconds from `say(i)` until the reply reached the server, one
    message at a time, `count` messages after WARMUP. `replied(i)` (polled every `every`
    s) is the moment (time.monotonic) the server received the reply to message i, None
    before. The bots take turns message by message (echo, bot, echo, bot …), so a change
    in the machine's load falls on all of them alike; after each reply the next message
    waits `SETTLE` seconds, so what a bot still does after its reply arrived (marking it
    sent …) does not slow the other's message."""
    out: list[list[float]] = [[] for _ in sides]
    for i in range(WARMUP + count):
        for side, (say, replied) in enumerate(sides):
            start = time.monotonic()
            say(i)
            arrived = wait_for(partial(replied, i), "a reply", timeout=10, every=every)
            if i >= WARMUP:
                out[side].append((arrived - start) * 1000)
            time.sleep(SETTLE)
    return out


def burst(
    say: Callable[[str], object],
    senders: list[str],
    replies: Callable[[], int],
    answered: Callable[[], Counter[str]],
) -> tuple[int, float, int, float]:
    """(replies, seconds from the first message to the last reply, duplicates, seconds the
    injection took). `replies()`: how many have arrived; `answered()`: replies per sender."""
    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(say, senders))
    injected = time.perf_counter() - start
    with contextlib.suppress(AssertionError):  # short of replies: counted below
        wait_for(lambda: replies() >= len(senders), "the burst's replies", timeout=300,
                 every=0.005)  # fmt: skip
    seconds = time.perf_counter() - start
    per_sender = answered()
    duplicates = sum(n - 1 for n in per_sender.values())
    return sum(per_sender.values()) - duplicates, seconds, duplicates, injected


def pct(values: list[float], p: int) -> float:
    return quantiles(values, n=100, method="inclusive")[p - 1]


def figures(
    latencies: list[float], burst_result: tuple[int, float, int, float]
) -> dict[str, float]:
    replies, seconds, duplicates, injected = burst_result
    return {
        "warm p50 ms": pct(latencies, 50),
        "warm p99 ms": pct(latencies, 99),
        "burst replies": replies,
        "burst seconds": seconds,
        "burst msg/s": replies / seconds,
        "burst duplicates": duplicates,
        "(injection s)": injected,
    }


def _number(value: float) -> str:
    return f"{value:12.2f}" if abs(value) < 10 else f"{value:12.1f}"


def print_table(results: dict[str, dict[str, float]], injection: str) -> None:
    """The two columns (echo first, then the bot) and the ratio bot / echo; `injection`
    says what the burst's threads did."""
    (echo_name, echo), (bot_name, bot) = results.items()
    print(f"{'':18}{echo_name:>12}{bot_name:>12}{'ratio':>8}")
    for key in echo:
        ratio = f"{bot[key] / echo[key]:8.2f}" if echo[key] else f"{'—':>8}"
        print(f"{key:18}{_number(echo[key])}{_number(bot[key])}{ratio}")
    print(f"(injection s: how long the {THREADS} threads took to {injection})")
