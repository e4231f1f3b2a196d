"""`chamberbot web user …`: accounts from the shell, password from stdin or without echo."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from chamberbot.cli import main
from chamberbot.root import DEMO_CONFIG, build, load
from tests.conftest import START
from web.store import Accounts, check_password


def _accounts(db: Path) -> Accounts:
    services = build(load(DEMO_CONFIG), DEMO_CONFIG, db, FrozenClock(START))
    return Accounts(services.db)


def test_add_passwd_and_remove_an_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "bot.db"
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password\n"))
    args = ["web", "user", "add", "wang", "--contact", "wxid_wang", "--password-stdin"]
    assert main([*args, "--db", str(db)]) == 0
    assert "已添加账号 wang：王科长，工作人员。" in capsys.readouterr().out
    accounts = _accounts(db)
    stored = accounts.stored_hash("wang")
    assert stored is not None
    assert stored.startswith("$argon2id$")
    assert check_password(stored, "first-password")

    monkeypatch.setattr("sys.stdin", io.StringIO("second-password\n"))
    assert main(["web", "user", "passwd", "wang", "--password-stdin", "--db", str(db)]) == 0
    stored = accounts.stored_hash("wang")
    assert stored is not None
    assert check_password(stored, "second-password")
    assert not check_password(stored, "first-password")

    assert main(["web", "user", "remove", "wang", "--db", str(db)]) == 0
    assert accounts.find("wang") is None


def test_bad_input_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", str(tmp_path / "bot.db")]
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    add = ["web", "user", "add", "li", "--contact", "wxid_wang", "--password-stdin", *db]
    assert main(add) == 2
    assert "密码至少 8 位" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-1\n"))
    stranger = ["web", "user", "add", "zhang", "--contact", "wxid_zhang", "--password-stdin"]
    assert main([*stranger, *db]) == 2
    assert "不是配置中的工作人员" in capsys.readouterr().err
    assert main(["web", "user", "remove", "nobody", *db]) == 1
    assert _accounts(tmp_path / "bot.db").all() == []


def test_the_getpass_prompt_must_be_typed_twice_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["typed-once-1", "typed-twice-2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    add = ["web", "user", "add", "qian", "--contact", "wxid_qian", "--role", "admin"]
    assert main([*add, "--db", str(tmp_path / "bot.db")]) == 2
    assert "两次输入的密码不一致" in capsys.readouterr().err
