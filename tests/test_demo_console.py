"""The console demo tells what it does: held messages, refusals, roles, indented replies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from chamberbot.cli import main


def _transcript(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], start: str, *lines: str
) -> str:
    script = tmp_path / "script.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["demo", "--script", str(script), "--start", start]) == 0
    return capsys.readouterr().out


def test_advance_says_how_many_messages_quiet_hours_hold_and_until_when(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Reported at 22:30 on Monday, the first response is promised for Wednesday 09:00 (24 h
    # on, moved to working hours); at 22:30 on Wednesday the unanswered case is flagged to
    # staff, in quiet hours: the notice waits for 08:00 on Thursday.
    out = _transcript(
        tmp_path,
        capsys,
        "2026-11-16T22:30",
        "诉求 银行抽贷，资金周转困难",
        "张氏机械",
        "/advance 2d",
    )
    assert "（1 条消息处于免打扰时段，将于 11月19日(周四) 08:00 发出）" in out


def test_advance_with_a_bad_duration_says_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _transcript(tmp_path, capsys, "2026-11-16T09:00", "/advance abc")
    assert "没看懂「abc」：/advance 后面写数字加单位" in out
    assert "控制台演示" not in out  # not the banner again


def test_as_an_unknown_person_or_group_is_refused_with_the_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _transcript(
        tmp_path, capsys, "2026-11-16T09:00", "/as 马总", "/as 张总 @会员九群", "帮助"
    )
    assert "（没有「马总」这个人或群" in out
    assert "（没有「@会员九群」这个人或群" in out
    assert out.count("可扮演的人：") == 2
    assert "张总@会员一群> 帮助" in out  # still who and where they were


def test_who_marks_staff_and_admins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _transcript(tmp_path, capsys, "2026-11-16T09:00", "/who")
    assert "王科长（工作人员）" in out
    assert "陈秘书长（管理员）" in out
    assert "张总（" not in out


def test_continuation_lines_are_indented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _transcript(tmp_path, capsys, "2026-11-16T09:00", "诉求 银行抽贷", "张氏机械")
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "[秘书处工作群]" in line)
    assert lines[first + 1].startswith("    反映人：张总")


def test_ctrl_c_ends_the_interactive_demo_at_once(tmp_path: Path) -> None:
    errors = (tmp_path / "stderr.txt").open("w+", encoding="utf-8")
    demo = subprocess.Popen(
        [sys.executable, "-m", "chamberbot.cli", "demo", "--data", str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        text=True,
        # a demo that does not end shows where it hangs: SIGABRT dumps every thread's stack
        env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"},
    )
    try:
        assert demo.stdout is not None
        # the web console's address and login may come first; then the banner, and it waits
        lines = [demo.stdout.readline() for _ in range(2)]
        assert any("控制台演示" in line for line in lines), lines
        demo.send_signal(signal.SIGINT)
        try:
            code = demo.wait(timeout=20)
        except subprocess.TimeoutExpired:
            demo.send_signal(signal.SIGABRT)
            demo.wait()
            errors.seek(0)
            raise AssertionError(f"the demo did not end on Ctrl-C:\n{errors.read()}") from None
        assert code == 130
    finally:
        demo.kill()
        demo.wait()
        errors.close()
        for stream in (demo.stdin, demo.stdout):
            if stream:
                stream.close()
