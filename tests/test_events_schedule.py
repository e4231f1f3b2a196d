"""活动 over time: reminders from stored due times, announce and cancel once, the seat race."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.clock import FrozenClock
from bot.db import open_db
from bot.services import Services
from handlers.events.notices import announce, cancel_event
from handlers.events.reminders import remind
from handlers.events.service import EventService
from handlers.events.settings import settings
from tests.conftest import MEMBERS_ROOM, OTHER_ROOM, ChatBot, demo_config, make_services
from tests.events_helpers import (
    LECTURE_START,
    last_id,
    make_event,
    rows_for,
    seed_groups,
    texts_to,
)

ZHANG, LI, SUN, ZHOU = "wxid_zhang", "wxid_li", "wxid_sun", "wxid_zhou"


def _sign_up(bot: ChatBot, *who: str, room: str | None = MEMBERS_ROOM) -> None:
    for contact in who:
        bot.app.people.remember(contact, enterprise="某某公司")
        bot.say("报名 1", sender=contact, room=room)


def test_reminders_go_the_day_before_and_an_hour_before_once(bot: ChatBot) -> None:
    seed_groups(bot)
    make_event(bot.app, capacity=3)  # Wednesday 14:00
    _sign_up(bot, ZHANG, LI, SUN)
    _sign_up(bot, ZHOU)  # waiting: never reminded
    _sign_up(bot, "wxid_wu", room=None)  # waiting as well (capacity 3)
    bot.say("取消报名 1", sender=SUN)  # ZHOU moves up
    bot.advance(days=1, hours=8, minutes=59)  # Tuesday 17:59
    assert remind(bot.app) == []
    bot.advance(minutes=1)  # Tuesday 18:00
    (day,) = remind(bot.app)
    assert day.conversation_id == MEMBERS_ROOM
    assert day.mention_ids == (ZHANG, LI, ZHOU)
    assert "【活动提醒】明天11月18日(周三) 14:00「数字化转型大讲堂」" in day.text
    assert remind(bot.app) == []  # idempotent
    bot.advance(hours=19)  # Wednesday 13:00
    (hour,) = remind(bot.app)
    assert "即将开始" in hour.text
    assert "到场后请发送「签到 1」签到" in hour.text
    assert remind(bot.app) == []
    keys = [r["dedupe_key"] for r in bot.queued(MEMBERS_ROOM) if r["dedupe_key"]]
    assert keys == [
        "event:1:announce:room_members#0",
        "event:1:remind:day#0",
        "event:1:remind:hour#0",
    ]


def test_mentions_are_chunked_and_private_sign_ups_are_reminded_privately(
    tmp_path: Path, clock: FrozenClock
) -> None:
    config = demo_config(events={"mentions_per_message": 2})
    app = make_services(config, tmp_path / "bot.db", clock)
    bot = ChatBot(app, clock)
    make_event(app)
    _sign_up(bot, ZHANG, LI, SUN)
    _sign_up(bot, "wxid_zhou", room=OTHER_ROOM)
    _sign_up(bot, "wxid_wu", room=None)
    bot.advance(days=2, hours=4)  # one hour before
    outs = remind(app)
    assert [(o.conversation_id, o.mention_ids) for o in outs] == [
        (MEMBERS_ROOM, (ZHANG, LI)),
        (MEMBERS_ROOM, (SUN,)),
        (OTHER_ROOM, ("wxid_zhou",)),
        ("wxid_wu", ()),
    ]
    app.db.close()


def test_a_reminder_due_while_down_goes_once_if_the_event_has_not_started(bot: ChatBot) -> None:
    make_event(bot.app)
    make_event(
        bot.app, title="早上的早餐会", kind="早餐会", start=LECTURE_START - timedelta(hours=6)
    )
    _sign_up(bot, ZHANG)
    bot.say("报名 2")
    bot.advance(days=2, hours=4, minutes=30)  # down since Monday: 13:30 Wednesday
    outs = remind(bot.app)
    assert len(outs) == 1  # event 2 started at 08:00; event 1: both due, the later only
    assert "即将开始" in outs[0].text
    assert "数字化转型大讲堂" in outs[0].text
    assert remind(bot.app) == []


def test_a_late_day_before_reminder_says_today(bot: ChatBot) -> None:
    make_event(bot.app)
    _sign_up(bot, ZHANG)
    bot.advance(days=2, hours=1)  # Wednesday 10:00: the 18:00 reminder was missed
    (late,) = remind(bot.app)
    assert late.mention_ids == (ZHANG,)
    assert late.text.startswith("【活动提醒】今天11月18日(周三) 14:00")


def test_reminder_times_follow_an_edited_start(bot: ChatBot) -> None:
    event = make_event(bot.app)
    _sign_up(bot, ZHANG)
    bot.app.service(EventService).edit(
        event, bot.clock.now(), starts_at=LECTURE_START + timedelta(days=1)
    )
    bot.advance(days=1, hours=9)  # Tuesday 18:00: no longer the day before
    assert remind(bot.app) == []
    bot.advance(days=1)
    assert "明天11月19日(周四) 14:00" in remind(bot.app)[0].text


def test_announce_reaches_each_target_group_once_even_after_a_restart(
    bot: ChatBot, tmp_path: Path, clock: FrozenClock
) -> None:
    seed_groups(bot)
    bot.app.db.execute("update conversations set tags = '[\"制造业\"]' where id = ?", [OTHER_ROOM])
    event = make_event(bot.app, announced=False, target="制造业")
    mark = last_id(bot)
    _, queued = announce(bot.app, event, clock.now())
    assert queued == {OTHER_ROOM: 1}
    _, again = announce(bot.app, event, clock.now())
    assert again == {OTHER_ROOM: 0}
    restarted = make_services(demo_config(), tmp_path / "bot.db", clock)
    _, after = announce(restarted, restarted.service(EventService).store.get(1), clock.now())
    assert after == {OTHER_ROOM: 0}
    restarted.db.close()
    assert len(texts_to(bot, OTHER_ROOM, mark)) == 1
    assert texts_to(bot, MEMBERS_ROOM, mark) == []


def test_cancelling_an_event_tells_every_registrant_once(bot: ChatBot) -> None:
    event = make_event(bot.app, capacity=1)
    _sign_up(bot, ZHANG, LI)  # LI waits
    _sign_up(bot, SUN, room=None)
    mark = last_id(bot)
    _, queued = cancel_event(bot.app, event, bot.clock.now())
    assert queued == 2
    (notice,) = texts_to(bot, MEMBERS_ROOM, mark)
    assert notice.startswith("@张总\u2005@李总\u2005【活动取消】很抱歉，原定 11月18日(周三) 14:00")
    assert len(texts_to(bot, SUN, mark)) == 1
    assert cancel_event(bot.app, event, bot.clock.now())[1] == 0
    bot.advance(days=2, hours=4)
    assert remind(bot.app) == []


def test_two_connections_racing_for_the_last_seat_give_exactly_one(
    app: Services, tmp_path: Path
) -> None:
    event = make_event(app, capacity=1)
    path = tmp_path / "bot.db"
    results: list[str] = []
    start = threading.Barrier(2)

    def take(contact: str) -> None:
        db: Database = open_db(path)
        svc = EventService(db, settings(app.config))
        start.wait()
        signup = svc.register(
            event.id, app.clock.now(), contact_id=contact, name=contact, enterprise="x",
            phone=None, conversation_id=MEMBERS_ROOM, is_group=True,
        )  # fmt: skip
        results.append(signup.outcome)
        db.close()

    threads = [threading.Thread(target=take, args=(c,)) for c in (ZHANG, LI)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["registered", "waiting"]
    assert sorted(r["status"] for r in rows_for(app, event.id)) == ["registered", "waiting"]
