"""活动 through the real Wechaty gateway and a real `chamberbot run`, the CLI beside it.

announce (CLI, while the bot runs) → 报名 → waiting list → 取消报名 → promotion → the staff
move the start (CLI) and the registrant is told → the hour-before reminder (sweep every 5 s;
the new start is two hours and six seconds away, so the reminder falls due soon after the move is
stored) → 签到. Node.js and tests/gateway/node_modules are required.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TZ
from tests.gateway_harness import (
    MEMBERS,
    STAFF,
    Bot,
    Gateway,
    assert_nothing_twice,
    chamberbot,
    clean_env,
    connected,
    wait_for,
)

ZHANG, LI = "wxid_zhang", "wxid_li"
EVENTS = {"remind_before_minutes": 120, "checkin_opens_minutes": 180}


@pytest.fixture
def chat(gateway: Gateway, tmp_path: Path) -> Iterator[tuple[Gateway, Bot]]:
    with connected(gateway, tmp_path, events=EVENTS, sweep_interval_seconds=5) as bot:
        yield gateway, bot


def _new(gw: Gateway, conversation: str, seen: int, timeout: float = 10.0) -> dict[str, Any]:
    """The next message the bot sent to a conversation after the first `seen` ones."""
    return gw.wait_sent(conversation, seen + 1, timeout)[seen]


def _said(gw: Gateway, sender: str, text: str) -> dict[str, Any]:
    seen = len(gw.sent_to(MEMBERS))
    gw.say(sender, text, MEMBERS)
    return _new(gw, MEMBERS, seen)


def _event(config: Path, *args: str) -> str:
    """`chamberbot event …` beside the running bot; its first line."""
    done = subprocess.run(
        [*chamberbot(), "event", *args, "--config", str(config)],
        capture_output=True, text=True, env=clean_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0]


def _at(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def test_announce_register_wait_cancel_promote_remind_check_in(
    chat: tuple[Gateway, Bot], tmp_path: Path
) -> None:
    gw, _bot = chat
    assert "近期暂无可报名的活动" in _said(gw, ZHANG, "活动")["text"]  # the bot knows the group

    config = tmp_path / "config.yaml"
    seen = len(gw.sent_to(MEMBERS))
    start = datetime.now(TZ) + timedelta(days=3)
    began = time.monotonic()
    added = _event(config, "add", "--title", "数字化转型大讲堂", "--capacity", "1",
                   "--start", _at(start), "--end", _at(start + timedelta(hours=2)),
                   "--place", "商会大厦三楼", "--announce")  # fmt: skip
    cli_seconds = time.monotonic() - began  # how long a CLI command takes on this machine now
    assert added == "1"
    announced = _new(gw, MEMBERS, seen, timeout=4)  # seen by data_version
    assert announced["text"].startswith("【活动预告】讲座｜数字化转型大讲堂")
    assert "报名请发送「报名 1」" in announced["text"]

    assert "请回复您的企业名称" in _said(gw, ZHANG, "报名 1")["text"]
    ok = _said(gw, ZHANG, "宏达机械有限公司")
    assert ok["mention_ids"] == [ZHANG]
    assert "报名成功！「数字化转型大讲堂」（编号 1）" in ok["text"]
    _said(gw, LI, "报名 1")
    waiting = _said(gw, LI, "李记食品有限公司")
    assert "已进入候补名单第1位" in waiting["text"]

    staff_seen = len(gw.sent_to(STAFF))
    seen = len(gw.sent_to(MEMBERS))
    gw.say(ZHANG, "取消报名 1", MEMBERS)
    cancelled, promoted = gw.wait_sent(MEMBERS, seen + 2)[seen:]
    assert "已取消「数字化转型大讲堂」的报名" in cancelled["text"]
    assert promoted["mention_ids"] == [LI]
    assert "您已从候补转为正式报名「数字化转型大讲堂」" in promoted["text"]
    assert "李总 已由候补转为正式报名" in _new(gw, STAFF, staff_seen)["text"]

    # moved to two hours and a few seconds from now: the hour-before reminder falls due soon
    # after the edit is stored (a reminder already due at the edit is skipped, so the margin is
    # three times what the `add` command took: 6 s on a quiet machine, more under load)
    seen = len(gw.sent_to(MEMBERS))
    margin = timedelta(hours=2, seconds=max(6.0, 3 * cli_seconds))
    _event(config, "edit", "1", "--start", _at(datetime.now(TZ) + margin))
    moved = _new(gw, MEMBERS, seen)
    assert moved["mention_ids"] == [LI]  # the seat holder; 张总 cancelled
    assert "【活动变更】「数字化转型大讲堂」时间调整为" in moved["text"]
    assert "如不能参加，请发送「取消报名 1」取消" in moved["text"]
    reminder = wait_for(
        lambda: next((m for m in gw.sent_to(MEMBERS) if "【活动提醒】" in m["text"]), None),
        "the hour-before reminder",
        timeout=30 + 3 * cli_seconds,
    )
    assert reminder["mention_ids"] == [LI]  # the seat holder; 张总 cancelled
    assert "到场后请发送「签到 1」签到" in reminder["text"]

    checked = _said(gw, LI, "签到 1")
    assert "签到成功！欢迎参加「数字化转型大讲堂」" in checked["text"]
    assert "您已签到" in _said(gw, LI, "签到 1")["text"]
    assert sum("【活动提醒】" in m["text"] for m in gw.sent_to(MEMBERS)) == 1
    assert_nothing_twice(gw.sent())
