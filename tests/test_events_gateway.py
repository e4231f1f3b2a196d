"""活动 through the real Wechaty gateway and a real `chamberbot run`, the CLI beside it.

announce (CLI, while the bot runs) → 报名 → waiting list → 取消报名 → promotion → the
hour-before reminder (sweep every 5 s, reminder two hours before so it is due seconds after
the event is added) → 签到. Node.js and tests/gateway/node_modules are required.
"""

from __future__ import annotations

import subprocess
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
    node_problem,
    running,
    wait_for,
)

ZHANG, LI = "wxid_zhang", "wxid_li"
EVENTS = {"remind_before_minutes": 120, "checkin_opens_minutes": 180}


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[tuple[Gateway, Bot]]:
    problem = node_problem()
    if problem:
        pytest.fail(problem)
    with running(tmp_path, events=EVENTS, sweep_interval_seconds=5) as pair:
        yield pair


def _new(gw: Gateway, conversation: str, seen: int, timeout: float = 10.0) -> dict[str, Any]:
    """The next message the bot sent to a conversation after the first `seen` ones."""
    return gw.wait_sent(conversation, seen + 1, timeout)[seen]


def _said(gw: Gateway, sender: str, text: str) -> dict[str, Any]:
    seen = len(gw.sent_to(MEMBERS))
    gw.say(sender, text, MEMBERS)
    return _new(gw, MEMBERS, seen)


def _event_add(config: Path, start: datetime) -> str:
    done = subprocess.run(
        [*chamberbot(), "event", "add", "--title", "数字化转型大讲堂", "--capacity", "1",
         "--start", start.strftime("%Y-%m-%d %H:%M:%S"),
         "--end", (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S"),
         "--place", "商会大厦三楼", "--announce", "--config", str(config)],
        capture_output=True, text=True, env=clean_env(), timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0]


def test_announce_register_wait_cancel_promote_remind_check_in(
    chat: tuple[Gateway, Bot], tmp_path: Path
) -> None:
    gw, _bot = chat
    assert "近期暂无可报名的活动" in _said(gw, ZHANG, "活动")["text"]  # the bot knows the group

    seen = len(gw.sent_to(MEMBERS))
    start = datetime.now(TZ) + timedelta(minutes=120, seconds=25)
    assert _event_add(tmp_path / "config.yaml", start) == "1"
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

    reminder = wait_for(
        lambda: next((m for m in gw.sent_to(MEMBERS) if "【活动提醒】" in m["text"]), None),
        "the hour-before reminder",
        timeout=45,
    )
    assert reminder["mention_ids"] == [LI]  # the seat holder; 张总 cancelled
    assert "到场后请发送「签到 1」签到" in reminder["text"]

    checked = _said(gw, LI, "签到 1")
    assert "签到成功！欢迎参加「数字化转型大讲堂」" in checked["text"]
    assert "您已签到" in _said(gw, LI, "签到 1")["text"]
    assert sum("【活动提醒】" in m["text"] for m in gw.sent_to(MEMBERS)) == 1
    assert_nothing_twice(gw.sent())
