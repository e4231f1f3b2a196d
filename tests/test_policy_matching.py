"""Policies that find the enterprise: eligibility read from the text, the daily private
push (once per policy, one message a day), 申报截止 reminders, 订阅/退订, 已申报, and the
staff's edit on the console winning over the rules. Real SQLite, real templates; what
is asserted is what the test transport received."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from bot.clock import FrozenClock
from bot.services import Services
from handlers import policies
from handlers.enterprises.service import EnterpriseService, Profile
from handlers.policies.matching import run_matching
from handlers.policies.matching_job import jobs
from handlers.policies.matching_rules import Eligibility, parse_deadline
from handlers.policies.matching_service import PolicyMatching
from handlers.policies.matching_store import MatchingStore
from policy_feeds.manual import add_manual
from policy_feeds.model import Item, Policy
from tests.conftest import START, TZ, ChatBot, actor, demo_config, make_services
from tests.web_harness import csrf_in, http_console, http_login

PUBLISHED = datetime(2026, 11, 16, 8, 0, tzinfo=TZ)
HIGH_TECH = "关于开展2026年度高新技术企业研发费用补助申报工作的通知"
HIGH_TECH_TEXT = "对经认定的高新技术企业给予研发费用补助。截止日期：2026年11月30日，逾期不予受理。"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("请于11月30日前提交申报材料", date(2026, 11, 30)),
        ("截止日期：2026年12月15日", date(2026, 12, 15)),
        ("申报时间：2026年11月1日至2026年12月31日", date(2026, 12, 31)),
        ("申报时间：即日起至12月31日17:00", date(2026, 12, 31)),
        ("请于2026年12月15日（星期二）17:00前报送", date(2026, 12, 15)),
        ("申报截止时间为2026-12-20", date(2026, 12, 20)),
        ("请于1月15日前提交", date(2027, 1, 15)),  # past at publication: next year
        ("高企认定申报，请于12月15日前提交认定材料", date(2026, 12, 15)),
        ("2025年12月31日前注册的企业可申请", None),  # a condition, not a deadline
        ("本政策自2026年1月1日起施行，有效期至2028年12月31日", None),
        ("第一批11月30日前，第二批12月31日前", None),  # two deadlines: unclear
        ("截至2026年9月30日，全市共认定高新技术企业500家", None),  # a statistic
        ("请于11月底前申报", None),  # no day
        ("常年受理，随到随审", None),
        ("2月30日前", None),  # no such day
    ],
)
def test_deadline_parser(text: str, expected: date | None) -> None:
    assert parse_deadline(text, date(2026, 11, 10)) == expected


def test_a_yearless_date_without_a_publication_date_is_left_empty() -> None:
    assert parse_deadline("请于11月30日前提交") is None
    assert parse_deadline("截止日期：2026年11月30日") == date(2026, 11, 30)


def _profile(app: Services, name: str, contact: str, **fields: object) -> Profile:
    app.people.remember(contact, name=contact, enterprise=name)
    return app.service(EnterpriseService).save(
        {"name": name, **fields}, actor(contact), contact_id=contact, source="console"
    )


def _three(app: Services) -> None:
    _profile(
        app,
        "张氏机械",
        "wxid_zhang",
        industry="制造业",
        size="小型",
        qualifications="高新技术企业",
    )
    _profile(
        app, "李氏贸易", "wxid_li", industry="批发和零售业", size="小型", qualifications="外贸"
    )
    _profile(
        app,
        "孙氏软件",
        "wxid_sun",
        industry="信息传输、软件和信息技术服务业",
        size="中型",
        qualifications="高新技术企业",
    )


def _policy(app: Services, title: str, summary: str = "", issuer: str = "科技局") -> Policy:
    item = Item(title=title, summary=summary, issuer=issuer, published_at=PUBLISHED)
    return add_manual(app, item)[1]


def _private(bot: ChatBot) -> dict[str, list[str]]:
    """What the transport received, by conversation, for the three contacts."""
    out: dict[str, list[str]] = {}
    for sent in bot.deliver():
        out.setdefault(sent.conversation_id, []).append(sent.text)
    return out


def _run_at(bot: ChatBot, when: datetime) -> dict[str, list[str]]:
    bot.clock.set(when)
    run_matching(bot.app)
    return _private(bot)


def test_a_new_policy_goes_once_to_the_two_matching_enterprises_and_the_reminder_to_the_one_that_did_not_apply(  # noqa: E501
    bot: ChatBot,
) -> None:
    app = bot.app
    _three(app)
    policy = _policy(app, HIGH_TECH, HIGH_TECH_TEXT)
    got = _run_at(bot, datetime(2026, 11, 16, 9, 30, tzinfo=TZ))
    assert sorted(got) == ["wxid_sun", "wxid_zhang"]
    for contact in ("wxid_sun", "wxid_zhang"):
        assert len(got[contact]) == 1
        assert HIGH_TECH in got[contact][0]
        assert f"编号{policy.id}" in got[contact][0]
        assert "申报截止 11月30日(周一)" in got[contact][0]
    # the same day again, and the next days: never the same policy twice
    assert _run_at(bot, datetime(2026, 11, 16, 15, 0, tzinfo=TZ)) == {}
    assert _run_at(bot, datetime(2026, 11, 17, 9, 30, tzinfo=TZ)) == {}

    # 孙氏软件 applied; 张氏机械 did not
    said = bot.text(f"已申报 {policy.id}", sender="wxid_sun", room=None)
    assert "已记录" in said
    assert "孙氏软件" in said
    assert "无需重复" in bot.text("已申报 研发费用补助", sender="wxid_sun", room=None)
    # the deadline is Monday 30 November: three working days before is Wednesday the 25th
    assert _run_at(bot, datetime(2026, 11, 24, 9, 30, tzinfo=TZ)) == {}
    got = _run_at(bot, datetime(2026, 11, 25, 9, 30, tzinfo=TZ))
    assert list(got) == ["wxid_zhang"]
    assert "申报截止提醒" in got["wxid_zhang"][0]
    assert "11月30日(周一) 截止申报" in got["wxid_zhang"][0]
    assert _run_at(bot, datetime(2026, 11, 26, 9, 30, tzinfo=TZ)) == {}  # once

    # the member page's view: the policy, its deadline, applied or not
    matched = PolicyMatching(app).matched_for("wxid_sun")
    assert [(m.policy.id, m.deadline, m.applied) for m in matched] == [
        (policy.id, date(2026, 11, 30), True)
    ]
    assert PolicyMatching(app).matched_for("wxid_li") == []
    assert PolicyMatching(app).matched_for("wxid_nobody") == []


def test_two_matches_the_same_day_are_one_message(bot: ChatBot) -> None:
    app = bot.app
    _three(app)
    _policy(app, HIGH_TECH, HIGH_TECH_TEXT)
    _policy(
        app, "关于支持中小企业开展技术改造的若干措施", "对制造业中小企业技术改造项目给予补助。"
    )
    _policy(app, "关于做好2026年冬季安全生产工作的通知", "各单位要做好安全生产。")  # general
    got = _run_at(bot, datetime(2026, 11, 16, 9, 30, tzinfo=TZ))
    assert len(got["wxid_zhang"]) == 1
    assert HIGH_TECH in got["wxid_zhang"][0]
    assert "技术改造" in got["wxid_zhang"][0]
    assert "安全生产" not in got["wxid_zhang"][0]
    assert "技术改造" not in got["wxid_sun"][0]  # 中型 software firm: not 制造业
    assert "wxid_li" not in got


def test_the_push_waits_for_the_end_of_the_quiet_hours(bot: ChatBot) -> None:
    app = bot.app
    _three(app)
    _policy(app, HIGH_TECH, HIGH_TECH_TEXT)
    assert _run_at(bot, datetime(2026, 11, 16, 23, 0, tzinfo=TZ)) == {}  # held
    bot.clock.set(datetime(2026, 11, 17, 9, 0, tzinfo=TZ))
    assert sorted(_private(bot)) == ["wxid_sun", "wxid_zhang"]


def test_the_daily_job_is_a_real_cron_job(app: Services) -> None:
    (job,) = list(jobs(app))
    assert job.id == "policy_matching"
    assert job.func == "handlers.policies.matching_job:matching_job"
    fire = job.trigger.get_next_fire_time(None, datetime(2026, 11, 16, 9, 0, tzinfo=TZ))
    assert fire == datetime(2026, 11, 16, 9, 30, tzinfo=TZ)


def test_subscribe_and_unsubscribe_topics(bot: ChatBot) -> None:
    app = bot.app
    _three(app)
    said = bot.text("退订 科技创新", sender="wxid_zhang", room=None)
    assert "已退订：科技创新" in said
    said = bot.text("退订 炒股", sender="wxid_zhang", room=None)
    assert "没有「炒股」这个政策主题" in said
    assert "融资" in said
    assert MatchingStore(app.db).topics("wxid_zhang").unsubscribed == ("科技创新",)
    said = bot.text("订阅 融资", sender="wxid_li", room=None)
    assert "已订阅：融资" in said
    bot.text("退订全部", sender="wxid_sun", room=None)

    tech = _policy(app, HIGH_TECH, HIGH_TECH_TEXT)
    assert tech.tags == ("科技创新",)
    loans = _policy(app, "关于开展2026年度小额贷款贴息工作的通知", "对符合条件的贷款给予贴息。")
    got = _run_at(bot, datetime(2026, 11, 16, 9, 30, tzinfo=TZ))
    assert "wxid_zhang" not in got  # unsubscribed from its only topic
    assert "wxid_sun" not in got  # 退订全部
    assert len(got["wxid_li"]) == 1
    assert loans.title in got["wxid_li"][0]

    # 订阅 again undoes 退订 (the policy was never sent to 张氏机械: it comes the next day)
    assert "已订阅：科技创新" in bot.text("订阅 科技创新", sender="wxid_zhang", room=None)
    got = _run_at(bot, datetime(2026, 11, 17, 9, 30, tzinfo=TZ))
    assert list(got) == ["wxid_zhang"]
    assert HIGH_TECH in got["wxid_zhang"][0]


def test_applied_without_an_enterprise_or_a_policy_changes_nothing(bot: ChatBot) -> None:
    app = bot.app
    assert "还不知道您代表哪家企业" in bot.text("已申报 1", sender="wxid_zhao", room=None)
    _three(app)
    assert "没有找到「9999」" in bot.text("已申报 9999", sender="wxid_zhang", room=None)
    _policy(app, HIGH_TECH, HIGH_TECH_TEXT)
    _policy(app, "关于组织高新技术企业参加境外展会的通知", "对高新技术企业参展给予补助。")
    said = bot.text("已申报 高新技术企业", sender="wxid_zhang", room=None)
    assert "对应多项政策" in said
    assert "格式：已申报" in bot.text("已申报", sender="wxid_zhang", room=None)
    assert app.db.table("policy_applied").count == 0


async def test_a_staff_edit_wins_over_the_rules_and_survives_a_refetch(bot: ChatBot) -> None:
    app = bot.app
    _three(app)
    policy = _policy(app, "关于开展2026年度商贸企业促消费活动的通知", "活动时间另行通知。")
    async with http_console(app) as client:
        await http_login(client, "wang")
        page = await client.get(f"/policies/{policy.id}")
        assert page.status_code == 200
        assert "按规则识别" in page.text
        assert 'value="批发和零售业" checked' in page.text
        data = {
            "csrf": csrf_in(page.text),
            "industries": ["批发和零售业"],
            "qualifications": ["外贸"],
            "regions": "",
            "deadline": "2026-12-10",
        }
        bad = await client.post(
            f"/policies/{policy.id}/eligibility", data={**data, "deadline": "12月10日"}
        )
        assert bad.status_code == 303
        page = await client.get(f"/policies/{policy.id}")
        assert "申报截止日期」填写有误" in page.text
        saved = await client.post(f"/policies/{policy.id}/eligibility", data=data)
        assert saved.status_code == 303
        page = await client.get(f"/policies/{policy.id}")
        assert "人工设定（王科长" in page.text
        assert "李氏贸易" in page.text
    # the source sends the policy again, changed: the staff's eligibility stays
    again = Item(
        title=policy.title,
        summary="面向制造业企业，请于11月30日前申报。",
        issuer="商务局",
        published_at=PUBLISHED,
    )
    add_manual(app, again)
    matched = PolicyMatching(app).matched_for("wxid_li")
    assert [(m.policy.id, m.deadline) for m in matched] == [(policy.id, date(2026, 12, 10))]
    got = _run_at(bot, datetime(2026, 11, 16, 9, 30, tzinfo=TZ))
    assert list(got) == ["wxid_li"]


def test_a_rule_for_a_value_no_profile_can_have_is_a_config_error(tmp_path: Path) -> None:
    rule = {"dimension": "industry", "value": "炼丹业", "keywords": ["炼丹"]}
    config = demo_config(matching={"rules": [rule]})
    app = make_services(config, tmp_path / "bot.db", FrozenClock(START))
    try:
        assert policies.FEATURE.check is not None
        assert policies.FEATURE.check(app) == (
            "matching.rules[0].value",
            "'炼丹业' is not in enterprises.industries",
        )
    finally:
        app.close()


def test_changed_rules_read_the_policies_again_but_not_the_staffs(
    app: Services, tmp_path: Path
) -> None:
    _three(app)
    steel = _policy(app, "关于支持炼钢企业节能降碳的通知", "对炼钢企业给予补助。")
    kept = _policy(app, "关于开展2026年度商贸企业促消费活动的通知", "活动另行通知。")
    MatchingStore(app.db).save(kept.id, Eligibility(sizes=("大型",)), source="staff")
    assert PolicyMatching(app).matched_for("wxid_zhang") == []
    app.close()
    rule = {"dimension": "industry", "value": "制造业", "keywords": ["炼钢"]}
    config = demo_config(matching={"rules": [rule]})
    again = make_services(config, tmp_path / "bot.db", FrozenClock(START))
    try:
        matched = PolicyMatching(again).matched_for("wxid_zhang")
        assert [m.policy.id for m in matched] == [steel.id]
        staff = MatchingStore(again.db).eligibility(kept.id)
        assert staff is not None
        assert staff.by_staff
        assert staff.eligibility.sizes == ("大型",)
    finally:
        again.close()
