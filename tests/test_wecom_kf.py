"""微信客服 end to end against the emulator (tests/wecom_kf): callbacks encrypted by the
vendor's @wecom/crypto and POSTed to the bot's callback route on the console's server, the
real transport, dispatcher, journal and outbox; staff act in the in-process staff room."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.services import Services
from chamberbot.cli import main
from tests.conftest import STAFF_ROOM, WANG, ChatBot
from tests.wecom_kf.emulator import KfEmulator
from tests.wecom_kf.harness import KfBot, kf_bot

USER = "wm-zhang"
HELD = "待送达（客服窗口已过）"


@pytest.fixture(scope="module")
def emulator() -> Iterator[KfEmulator]:
    emu = KfEmulator(clock=lambda: None)  # type: ignore[arg-type,return-value]
    yield emu
    emu.close()


@pytest.fixture
def emu(emulator: KfEmulator, clock: FrozenClock) -> KfEmulator:
    emulator.reset()
    emulator.clock = clock.now
    return emulator


async def _report(kf: KfBot, emu: KfEmulator) -> None:
    """张总 opens the chat and reports a 诉求 (asked for the enterprise once): 2026-0001."""
    await kf.call(emu.enter, USER)
    await kf.say(USER, "诉求 银行突然抽贷，资金周转困难")
    assert "企业名称" in emu.texts_to(USER)[-1]
    await kf.say(USER, "张氏机械")


async def test_a_member_reports_over_kf_and_the_staff_answer_reaches_them_in_the_window(
    app: Services, emu: KfEmulator, clock: FrozenClock
) -> None:
    async with kf_bot(app, emu) as kf:
        await _report(kf, emu)
        welcome, _asked, ack = emu.texts_to(USER)
        assert "转人工" in welcome  # by send_msg_on_event with the enter_session code
        assert "2026-0001" in ack
        assert "银行突然抽贷" in ack

        staff = ChatBot(app, clock)
        staff.say("回复 2026-0001 已联系开户行，明天上午回电", **WANG)
        assert await kf.drain() == 1
        assert "已联系开户行" in emu.texts_to(USER)[-1]
        assert len(kf.handled) == 2
        assert len(emu.sent) == 4


async def test_on_day_5_the_resolution_is_held_and_goes_first_when_the_member_writes(
    app: Services, emu: KfEmulator, clock: FrozenClock
) -> None:
    async with kf_bot(app, emu) as kf:
        await _report(kf, emu)
        clock.advance(days=5)
        staff = ChatBot(app, clock)
        staff.say("办结 2026-0001 已协调银行续贷", **WANG)
        assert await kf.drain() == 0
        sent = len(emu.sent)
        [held] = app.outbox.held_for(USER)
        assert "已协调银行续贷" in held.out.text
        assert HELD in staff.text("详情 2026-0001", **WANG)

        await kf.say(USER, "进度 2026-0001")
        notice, progress = emu.texts_to(USER)[sent:]
        assert notice.startswith("【待送达通知】")
        assert "已协调银行续贷" in notice
        assert "2026-0001" in progress
        assert app.outbox.held_for(USER) == []
        assert HELD not in staff.text("详情 2026-0001", **WANG)


async def test_the_fifth_message_says_how_to_continue_and_a_sixth_is_held_not_sent(
    app: Services, emu: KfEmulator, clock: FrozenClock
) -> None:
    async with kf_bot(app, emu) as kf:
        await _report(kf, emu)  # the window since 张氏机械: 1 sent (the acknowledgement)
        staff = ChatBot(app, clock)
        for n in range(2, 7):
            staff.say(f"回复 2026-0001 第{n}次答复", **WANG)
        assert await kf.drain() == 4
        texts = emu.texts_to(USER)
        assert "第5次答复" in texts[-1]
        assert "最后一条" in texts[-1]
        assert "最后一条" not in texts[-2]
        assert next(q.out.text for q in app.outbox.held_for(USER)).count("第6次答复") == 1
        assert emu.refused == []  # never sent against the limit (no 95001)

        await kf.say(USER, "好的")
        assert "第6次答复" in emu.texts_to(USER)[-2]


async def test_zhuan_ren_gong_hands_the_session_to_a_servicer_who_hands_it_back(
    app: Services, emu: KfEmulator
) -> None:
    async with kf_bot(app, emu, servicers=["zhangsan"]) as kf:
        await kf.say(USER, "帮助")
        await kf.call(emu.say, USER, "转人工")
        assert emu.state(USER) == (3, "zhangsan")
        assert "人工客服" in emu.sent[-1]["text"]["content"]  # the trans msg_code's answer
        handled, sent = len(kf.handled), len(emu.sent)

        await kf.call(emu.say, USER, "我的贷款问题")  # the servicer's to answer, not the bot's
        assert (len(kf.handled), len(emu.sent)) == (handled, sent)

        await kf.call(emu.servicer_ends, USER)
        await kf.say(USER, "帮助")
        assert len(emu.sent) == sent + 1
        assert emu.state(USER)[0] == 0


async def test_bad_callbacks_are_refused_with_4xx_and_nothing_is_handled_twice(
    app: Services, emu: KfEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    async with kf_bot(app, emu) as kf:
        await kf.say(USER, "帮助")
        calls = len(emu.calls)
        assert await asyncio.to_thread(emu.callback, signature="0" * 40) == 403

        request = await asyncio.to_thread(emu.envelope)
        body = request.pop("body").encode()
        assert await asyncio.to_thread(emu.post, request, body) == 200
        await kf.until(lambda: kf.transport.syncs >= 2)
        assert await asyncio.to_thread(emu.post, request, body) == 409  # replayed

        garbage = "QUJDREVGR0hJSktMTU5PUA=="  # one AES block that is no message of ours
        stamp, nonce = request["timestamp"], "n1"
        joined = "".join(sorted([emu.token, stamp, nonce, garbage]))
        signature = hashlib.sha1(joined.encode()).hexdigest()
        xml = f"<xml><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>".encode()
        query = {"msg_signature": signature, "timestamp": stamp, "nonce": nonce}
        assert await asyncio.to_thread(emu.post, query, xml) == 400
        assert await asyncio.to_thread(emu.post, {}, b"<!DOCTYPE x><xml/>") == 400

        assert len(kf.handled) == 1
        assert len(emu.texts_to(USER)) == 1
        assert emu.calls[calls:].count("kf/sync_msg") == 1  # only the good callback read
        refused = [r.message for r in caplog.records if "callback refused" in r.message]
        assert len(refused) == 4


async def test_outages_are_retried_with_backoff_and_staff_told_once(
    app: Services, emu: KfEmulator, clock: FrozenClock
) -> None:
    async with kf_bot(app, emu) as kf:
        emu.fail(5, status=503)
        await kf.say(USER, "帮助")  # read once the emulator answers again
        assert len(emu.texts_to(USER)) == 1
        staff = ChatBot(app, clock)
        told = [t for t in (o.text for o in staff.deliver()) if "微信客服接口" in t]
        assert len(told) == 1

        emu.fail(
            1, errcode=-1, path="kf/send_msg"
        )  # the next send: system busy → retried later, sent once
        staff.say("回复 2026-0001 x", **WANG)  # (no such case: a reply to staff only)
        await kf.say(USER, "活动")
        assert len(emu.texts_to(USER)) == 1
        clock.advance(seconds=5)
        assert await kf.drain() == 1
        assert len(emu.texts_to(USER)) == 2

        emu.expire_tokens()  # 42001: a new access_token, the call repeated
        await kf.say(USER, "帮助")
        assert len(emu.texts_to(USER)) == 3


async def test_the_cursor_survives_a_restart_nothing_skipped_or_read_twice(
    app: Services, emu: KfEmulator
) -> None:
    async with kf_bot(app, emu) as kf:
        await kf.say(USER, "帮助")
    _, status = emu.say(USER, "活动")  # while the bot is down: the callback is lost
    assert status != 200
    async with kf_bot(app, emu) as kf:  # catches up from the stored cursor at start
        await kf.until(lambda: len(kf.handled) == 1)
        await kf.drain()
        assert [m.text for m in kf.handled] == ["活动"]
        assert len(emu.texts_to(USER)) == 2


def test_check_reports_a_missing_secret_or_a_bad_aes_key_as_file_key_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("channels:\n  wecom_kf:\n    open_kfid: wk-1\n", encoding="utf-8")
    for name, value in [("CORP_ID", "ww1"), ("TOKEN", "t"), ("AES_KEY", "short")]:
        monkeypatch.setenv(f"WECOM_KF_{name}", value)
    monkeypatch.delenv("WECOM_KF_SECRET", raising=False)

    assert main(["check", "--config", str(config)]) == 2
    assert capsys.readouterr().err.startswith(
        f"{config}: channels.wecom_kf.secret_env: environment variable WECOM_KF_SECRET"
    )
    monkeypatch.setenv("WECOM_KF_SECRET", "s")
    assert main(["check", "--config", str(config)]) == 2
    assert f"{config}: channels.wecom_kf.aes_key_env: " in capsys.readouterr().err
    monkeypatch.setenv("WECOM_KF_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    assert main(["check", "--config", str(config)]) == 0
    assert STAFF_ROOM  # (the demo's staff room receives the outage notice above)
