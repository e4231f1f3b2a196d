"""微信客服 end to end over the loopback 客服 emulator: an echo handler vs chamberbot.

    .venv/bin/python bench/wecom_kf.py [--warm 200] [--burst 300]

Two emulators (tests/wecom_kf: the vendor's HTTP API on 127.0.0.1, callbacks encrypted by
the vendor's `@wecom/crypto` run in Node), one for each, each bot in a process of its own
with the callback on its own web server:

- an echo handler: the product's own 微信客服 transport (channels/wecom_kf.py: callback,
  decryption, sync_msg from its cursor, the inbound journal) answering each message with its
  text through `kf/send_msg`, with no dispatcher and no outbox;
- the real `chamberbot run` configured for 微信客服 only (pacing off), which answers `帮助`
  with the menu through the dispatcher, SQLite and the durable outbox.

Both get the same traffic: warm reply latency (one message at a time from `WARM_USERS`
customers in rotation, from the customer's message — the emulator's callback POST — to the
moment the emulator accepted the reply, on time.monotonic, p50/p99 over `--warm`; the two
take turns, message by message, so the machine's load falls on both alike), and a burst
(one message from each of `--burst` customers, injected by 8 threads, first to the echo,
then to chamberbot: seconds to the last reply).
Prints both and the ratios chamberbot / echo (the issue's target: ≤ 1.3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.error import URLError

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
from tests.gateway_harness import Bot, free_port, write_config  # noqa: E402
from tests.wecom_kf.emulator import KfEmulator  # noqa: E402

TEXT = "帮助"
WARM_USERS = 5
POLL = 0.001
ENV = {
    "WECOM_KF_CORP_ID": "ww-chamber",
    "WECOM_KF_SECRET": "kf-secret",
    "WECOM_KF_TOKEN": "cbtoken",
    "WECOM_KF_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}
FAST = {"min_gap_seconds": 0, "jitter_seconds": 0, "global_per_minute": 100_000,
        "retry_max_seconds": 1, "max_attempts": 20}  # fmt: skip


def _config(folder: Path, emu: KfEmulator, port: int) -> Path:
    kf = {"open_kfid": emu.open_kfid, "api_url": emu.url, "pacing": FAST}
    return write_config(
        folder, None, None, channels={"wecom_kf": kf}, web={"listen": f"127.0.0.1:{port}"}
    )


async def _echo(config_path: str) -> None:
    """The echo handler: the 客服 transport and its callback, answering with the text."""
    from bot.messages import Incoming, Outgoing
    from chamberbot.root import load, services
    from channels.wecom_kf_app import callback_routes, kf_settings, kf_transport
    from web.server import bind, serve
    from web.settings import web_settings

    path = Path(config_path)
    config = load(path)
    app = services(config, db_path=path.parent / "echo.db")
    settings = kf_settings(config, str(path), os.environ)
    assert settings is not None
    transport = kf_transport(app, settings)

    async def answer(msg: Incoming) -> None:
        await transport.send(Outgoing(msg.conversation_id, msg.text, channel=msg.channel))

    stop = asyncio.Event()
    sock = bind(web_settings(app).listen)
    server = asyncio.create_task(serve(app, stop, sock, callback_routes(transport, settings)))
    await transport.start(answer)
    await until_terminated()
    await transport.stop()
    stop.set()
    await server


def _ready(emu: KfEmulator, user: str, timeout: float = 30) -> None:
    """Until the callback answers and a first reply comes back (the server is up)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:  # one 帮助 every 0.1 s until the callback is answered
        try:
            if emu.say(user, TEXT)[1] == 200:
                break
        except (URLError, ConnectionError):
            pass
        time.sleep(0.1)  # (without it, ~3,000 messages while the bot started)
    while not emu.sent_to(user):
        if time.monotonic() > end:
            raise RuntimeError("no reply from the 客服 callback")
        time.sleep(0.01)


def _replies(emu: KfEmulator, users: set[str]) -> Counter[str]:
    with emu.lock:
        sent = list(emu.sent)
    return Counter(r["touser"] for r in sent if r.get("touser") in users)


def warm_side(emu: KfEmulator, users: list[str]) -> tuple[Say, Replied]:
    """How a customer writes to the bot behind `emu` (once it answers), and when the reply
    arrived."""
    warm_users = users[:WARM_USERS]
    _ready(emu, warm_users[0])
    base = {u: len(emu.sent_to(u)) for u in warm_users}

    def replied(i: int) -> float | None:
        """When the emulator took the reply to message i (time.monotonic)."""
        user = warm_users[i % WARM_USERS]
        records, k = emu.sent_to(user)[base[user] :], i // WARM_USERS
        return float(records[k]["received"]) if len(records) > k else None

    return (lambda i: emu.say(warm_users[i % WARM_USERS], TEXT)), replied


def burst_figures(emu: KfEmulator, users: list[str], latencies: list[float]) -> dict[str, float]:
    crowd = users[WARM_USERS:]
    result = burst(
        lambda user: emu.say(user, TEXT),
        crowd,
        lambda: sum(_replies(emu, set(crowd)).values()),
        lambda: _replies(emu, set(crowd)),
    )
    return figures(latencies, result)


def _side(folder: Path, name: str) -> tuple[KfEmulator, Path, int]:
    """An emulator calling back a bot on a port of its own, and the bot's folder."""
    emu = KfEmulator(lambda: datetime.now(UTC))
    port = free_port()
    emu.callback_url = f"http://127.0.0.1:{port}/wecom/kf/callback"
    (folder / name).mkdir()
    return emu, folder / name, port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--echo", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        asyncio.run(_echo(args.echo))
        return

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        users = [f"wm{i:04d}" for i in range(args.burst + WARM_USERS)]
        second = [f"{u}b" for u in users]
        echo_emu, echo_dir, echo_port = _side(folder, "echo")
        bot_emu, bot_dir, bot_port = _side(folder, "bot")
        try:
            config = _config(echo_dir, echo_emu, echo_port)
            echo = EchoProcess(__file__, "--echo", str(config), env=ENV)
            try:
                bot = Bot(_config(bot_dir, bot_emu, bot_port), bot_dir / "bot.log", env=ENV)
                try:
                    echo_warm, bot_warm = warm_side_by_side(
                        [warm_side(echo_emu, users), warm_side(bot_emu, second)], args.warm, POLL
                    )
                    results = {
                        "echo handler": burst_figures(echo_emu, users, echo_warm),
                        "chamberbot": burst_figures(bot_emu, second, bot_warm),
                    }
                except BaseException:
                    print(f"chamberbot's log ends:\n{bot.log()[-4000:]}", file=sys.stderr)
                    raise
                finally:
                    bot.stop()
            finally:
                echo.stop()
        finally:
            echo_emu.close()
            bot_emu.close()

    print(f"微信客服 bench: warm {args.warm} messages, burst {args.burst} (pacing off)")
    print_table(results, "inject the burst (each a callback POST)")


if __name__ == "__main__":
    main()
