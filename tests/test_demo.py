"""`chamberbot demo`: the scripted tour prints the whole loop; the interactive console runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chamberbot.cli import main

ROOT = Path(__file__).resolve().parent.parent
TOUR = ROOT / "bot" / "demo" / "tour.txt"


def test_scripted_tour_shows_the_closed_loop(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--script", str(TOUR), "--start", "2026-11-16T09:00"]) == 0
    out = capsys.readouterr().out
    # The member's group sees the number but neither the problem nor the phone.
    ack = next(line for line in out.splitlines() if "已收到您的诉求" in line)
    assert ack.startswith("  [会员一群] 商会助手：@张总\u2005")
    assert "2026-0001" in ack
    assert "13812345678" not in ack
    # The staff room gets the full text, the phone included.
    assert "  [秘书处工作群] 商会助手：【新诉求】2026-0001" in out
    assert "问题描述：银行突然抽贷，流动资金紧张，联系电话13812345678" in out
    # Staff answer is relayed into the group, the other member is refused, rating closes it.
    assert "王科长答复如下：\n    已联系开户行，周三前给您答复" in out  # continuation indented
    assert "@李总\u2005没有找到诉求 2026-0001" in out
    assert "诉求 2026-0001 已销号" in out
    # buttons (a WeCom card) show as numbered choices; /1 pressed 满意 for 张总
    assert "    ［按钮］1. 满意　2. 基本满意　3. 不满意（输入 /1–3 点按）" in out
    assert "@张总\u2005感谢您的评价（满意），诉求 2026-0001 已销号" in out
    # 企业画像: the demo's profile for 李总, and 张总 filling his own item by item
    assert "李记食品有限公司\n    统一社会信用代码：未填\n    行业：制造业\n    规模：中型" in out
    assert "谢谢，企业资料已保存：\n    张氏机械有限公司" in out
    assert "行业：制造业\n    规模：小型\n    所在地区：鼓楼区\n    资质：未填" in out
    # 活动: the seeded lecture is listed, 李总 registers, staff see the roster; the
    # day-before reminder, due while the clock jumped a day, says 今天 when it goes.
    assert "1. 【讲座】数字化转型大讲堂" in out
    assert "剩余50个名额（共50人）" in out
    assert "@李总\u2005报名成功！「数字化转型大讲堂」（编号 1）" in out
    assert "已报名 1/50，候补 0，已签到 0（其中现场 0）" in out
    assert "@李总\u2005【活动提醒】今天11月18日(周三) 14:00「数字化转型大讲堂」" in out
    # The clock moves: the unanswered second case is flagged, reminded and escalated.
    assert "【超时未响应】诉求 2026-0002" in out
    assert "【到期提醒】诉求 2026-0002" in out
    assert "@张总\u2005您的诉求 2026-0002 已升级至部门负责人" in out
    # 送政策: the bundled sample sources are searchable, previewed, and sent once.
    assert "与「融资」相关的最新政策：" in out
    assert "【预览·不会发送】广播 weekly" in out
    assert out.count("  [会员一群] 商会助手：【政策速递】") == 1
    assert "（广播 weekly 已运行：0 个群有新内容）" in out
    # 督查问效: 统计 in the staff room gives the month's figures, definitions included.
    assert "\u2005【2026年11月诉求办理通报】（统计至11月29日(周日) 11:00）" in out
    assert "受理诉求 2 件" in out
    assert "办结率 50.0%（1/2），销号率 50.0%（1/2）" in out
    assert "直接办理 1 件（办结 1）；部门督办 1 件（办结 0）" in out
    assert "口径说明：" in out


def test_interactive_demo_answers_and_quits(tmp_path: Path) -> None:
    """What `make demo` starts: typed lines in, labelled replies out, /quit ends it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "chamberbot.cli", "demo", "--data", str(tmp_path)],
        input="诉求 公司申请的稳岗补贴一直没兑现\n张氏机械有限公司\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "控制台演示" in done.stdout
    assert "[会员一群] 商会助手：@张总\u2005" in done.stdout
    assert "[秘书处工作群] 商会助手：【新诉求】2026-" in done.stdout
    assert (tmp_path / "demo.db").exists()
