"""Backups while the bot writes, and a restore that refuses to overwrite a running bot."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from bot.clock import FrozenClock
from bot.dispatcher import Dispatcher
from bot.messages import Incoming
from chamberbot.cli import main
from chamberbot.root import build, load
from handlers.operations.backup import BackupError, RunLock, integrity, restore
from tests.conftest import DEMO_CONFIG, MEMBERS_ROOM, START

LIMIT = 20_000  # the writer stops at the latest here
BEFORE = 100  # acknowledged before the backup starts; the writer goes on until it is done


def _config(tmp_path: Path, name: str = "config.yaml", data: str = "data") -> Path:
    settings = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    settings["data_dir"] = str(tmp_path / data)
    settings["database"] = "bot.db"
    settings.pop("policies", None)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    return path


def _database(config: Path) -> Path:
    return load(config).database_path(config.parent)


def _schema(config: Path) -> None:
    build(load(config), config, _database(config)).close()


class Intake(threading.Thread):
    """Members report problems through the real dispatcher, on its own connection."""

    def __init__(self, config: Path) -> None:
        super().__init__(daemon=True)
        self.config = config
        self.acknowledged: list[str] = []  # case numbers whose reply was queued
        self.reached = threading.Event()
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            cfg = load(self.config)
            app = build(cfg, self.config, _database(self.config), FrozenClock(START))
            app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械有限公司")
            dispatcher = Dispatcher(app)
            for i in range(LIMIT):
                if self.stop.is_set():
                    break
                msg = Incoming(
                    message_id=f"burst{i}",
                    conversation_id=MEMBERS_ROOM,
                    is_group=True,
                    sender_id="wxid_zhang",
                    sender_name="张总",
                    text=f"诉求 第{i}号问题：办证审批太慢",
                    time=START,
                    room_topic="会员一群",
                    mentions_bot=False,
                )
                (reply,) = [o for o in dispatcher.handle(msg) if o.conversation_id == MEMBERS_ROOM]
                number = re.search(r"\d{4}-\d{4}", reply.text)
                assert number is not None, reply.text
                self.acknowledged.append(number.group())
                if len(self.acknowledged) == BEFORE:
                    self.reached.set()
            app.close()
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.reached.set()


def _case_numbers(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as con:
        return {r[0] for r in con.execute("select number from cases")}


def test_a_backup_during_a_burst_of_intake_restores_every_acknowledged_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    _schema(config)
    writer = Intake(config)
    writer.start()
    writer.reached.wait(timeout=120)
    acknowledged = list(writer.acknowledged)  # before the backup starts
    out = tmp_path / "backups" / "bot-2026-11-16.db"

    assert main(["backup", "--out", str(out), "--config", str(config)]) == 0
    writer.stop.set()
    writer.join(timeout=300)

    assert writer.error is None
    assert len(acknowledged) >= BEFORE
    assert len(writer.acknowledged) > len(acknowledged)  # it wrote while the copy was made
    assert "完整性检查通过" in capsys.readouterr().out
    assert integrity(out) == "ok"
    other = _config(tmp_path, "restored.yaml", "restored")
    assert main(["restore", "--from", str(out), "--config", str(other)]) == 0
    restored = _database(other)
    assert integrity(restored) == "ok"
    numbers = _case_numbers(restored)
    assert set(acknowledged) <= numbers
    assert len(numbers) <= len(writer.acknowledged)
    # The restored file opens as a bot database and the bot can carry on numbering.
    _schema(other)


def test_restore_refuses_while_a_bot_holds_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    db = _database(config)
    _schema(config)
    out = tmp_path / "backup.db"
    assert main(["backup", "--out", str(out), "--config", str(config)]) == 0
    before = db.read_bytes()

    with RunLock(db):  # what `chamberbot run` holds
        assert main(["restore", "--from", str(out), "--config", str(config)]) == 1
        assert "in use by a running bot" in capsys.readouterr().err

    assert db.read_bytes() == before
    assert main(["restore", "--from", str(out), "--config", str(config)]) == 0
    assert "原数据库已另存为" in capsys.readouterr().out


def test_a_crashed_bot_does_not_block_a_restore(tmp_path: Path) -> None:
    config = _config(tmp_path)
    db = _database(config)
    _schema(config)
    out = tmp_path / "backup.db"
    assert main(["backup", "--out", str(out), "--config", str(config)]) == 0
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from handlers.operations.backup import RunLock;"
            f"lock = RunLock(Path({str(db)!r})); lock.acquire(); print('locked', flush=True);"
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(BackupError, match=f"pid {holder.pid}"):
            restore(out, db, START)
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the lock file stays behind
        holder.wait()
        holder.stdout.close()  # type: ignore[union-attr]
        holder.stdin.close()  # type: ignore[union-attr]

    assert (db.parent / "bot.db.lock").exists()
    assert restore(out, db, START) is not None


def test_restore_refuses_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    config = _config(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)

    assert main(["restore", "--from", str(junk), "--config", str(config)]) == 1
    assert not _database(config).exists()
