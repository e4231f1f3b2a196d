"""Log lines: time and level, one per case change and send, a clean SIGTERM shutdown, and
no phone number or case description below DEBUG."""

from __future__ import annotations

import logging
import os
import re
import signal
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from bot.dispatcher import Dispatcher
from bot.logs import setup_logging
from bot.messages import Incoming
from bot.runtime import Runtime, serve_until_signalled
from bot.sender import Sender
from bot.services import Services
from bot.transport import OnMessage
from channels.test import TestTransport
from tests.conftest import MEMBERS_ROOM, PEOPLE, STAFF_ROOM, START

PHONE = "13812345678"
DESCRIPTION = "办证审批太慢跑了三趟窗口还没办下来"


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


def _handle(app: Services, text: str, sender: str, room: str) -> None:
    """A message through the real dispatcher; the replies stay queued for the sender."""
    number = app.db.execute("select count(*) from inbound").fetchone()[0]
    Dispatcher(app).handle(
        Incoming(f"log{number}", room, True, sender, PEOPLE[sender], text, START, None, False)
    )


async def test_case_changes_and_sends_are_logged_without_phones_or_descriptions(
    app: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app.people.remember("wxid_zhang", name="张总", enterprise="宏达机械有限公司")
    _handle(app, f"诉求 {DESCRIPTION}，联系人{PHONE}", "wxid_zhang", MEMBERS_ROOM)
    _handle(app, "认领 1", "wxid_wang", STAFF_ROOM)
    _handle(app, "回复 1 已联系窗口，明天办结", "wxid_wang", STAFF_ROOM)
    transport = TestTransport(app.people.name)

    await Sender(app.outbox, transport, app.config.pacing).drain_once(paced=False)
    sent = transport.received

    info = _lines(caplog, logging.INFO)
    assert "case 2026-0001: opened by wxid_zhang" in info
    assert "case 2026-0001: claimed by wxid_wang new -> accepted" in info
    assert len([m for m in info if m.startswith("sent outbox row")]) == len(sent) >= 4
    assert not [m for m in info if PHONE in m or DESCRIPTION in m or "明天办结" in m]
    # Staff who raise the level to debug see the texts.
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(DESCRIPTION in m for m in debug)


def test_log_file_lines_carry_time_and_level_and_rotate(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "chamberbot.log"
    handler = setup_logging("info", str(path))
    try:
        logging.getLogger("bot.test").info("reconnected to the gateway")
        logging.getLogger("bot.test").debug("not at info")
        handler.flush()
        (line,) = path.read_text(encoding="utf-8").splitlines()
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO bot.test: reconnected to the gateway",
            line,
        )
        assert isinstance(handler, RotatingFileHandler)
        assert handler.maxBytes == 10 * 1024 * 1024
        assert handler.backupCount == 5
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
        logging.getLogger().setLevel(logging.WARNING)


class _TermOnStart(TestTransport):
    """Started like a gateway, then the service manager stops the bot."""

    async def start(self, on_message: OnMessage) -> None:
        await super().start(on_message)
        os.kill(os.getpid(), signal.SIGTERM)


async def test_sigterm_logs_a_clean_shutdown(
    app: Services, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.runtime")
    runtime = Runtime(app, [_TermOnStart(app.people.name)])

    await serve_until_signalled(runtime)

    lines = _lines(caplog, logging.INFO)
    assert "SIGTERM received: shutting down" in lines
    assert any(
        re.fullmatch(r"stopped cleanly; \d+ messages stay queued in the outbox", m) for m in lines
    )
