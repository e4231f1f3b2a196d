"""A real `chamberbot run` on WeCom's AI bot, over the loopback emulator (tests/wecom).

The config is the gateway tests' (tests/gateway_harness.write_config: the demo chamber,
fast pacing, no quiet hours) with WeChat left out and `channels.wecom_bot` pointing at the
emulator, whose CA the bot trusts through `ca_file`. The chats keep the gateway tests' ids
(ids are opaque): MEMBERS is a WeCom member group, STAFF the WeCom staff group.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.gateway_harness import MEMBERS, STAFF, Bot, write_config
from tests.wecom.emulator import WecomEmulator

__all__ = ["CONNECTED", "SECRET_ENV", "WecomSent", "read", "start_bot", "wecom_config"]

SECRET_ENV = "CHAMBERBOT_TEST_WECOM_SECRET"
CONNECTED = "connected to WeCom as robot"
FAST = {"min_gap_seconds": 0, "jitter_seconds": 0, "global_per_minute": 100_000,
        "retry_max_seconds": 1, "max_attempts": 20}  # fmt: skip


def wecom_config(folder: Path, emu: WecomEmulator, **extra: Any) -> Path:
    """The demo chamber on the emulator's robot only (no WeChat)."""
    channel = {
        "bot_id": emu.bot_id,
        "secret_env": SECRET_ENV,
        "url": emu.url,
        "ca_file": str(emu.ca_file),
        "staff_groups": [STAFF],
        "member_groups": [MEMBERS],
        "pacing": FAST,
        **extra.pop("wecom", {}),
    }
    for chat in (STAFF, MEMBERS):
        emu.add_chat(chat)  # the robot is in both groups
    return write_config(
        folder, None, None, staff_rooms=[], channels={"wecom_bot": channel}, **extra
    )


def start_bot(config: Path, log: Path, secret: str = "s3cret") -> Bot:
    """`chamberbot run` with the robot's secret in its environment, connected."""
    bot = Bot(config, log, env={SECRET_ENV: secret})
    bot.wait_log(CONNECTED, timeout=30)
    return bot


class WecomSent:
    """What the emulator accepted, as the gateway harness shows it (conversation_id, text)."""

    def __init__(self, emu: WecomEmulator) -> None:
        self.emu = emu

    def sent(self) -> list[dict[str, Any]]:
        return [{"conversation_id": r["chatid"], **r} for r in self.emu.sent()]


def read(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as con:
        return con.execute(sql, params).fetchall()
