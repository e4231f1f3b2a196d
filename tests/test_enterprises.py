"""企业画像: the profile service's rules (a real SQLite file, the demo config)."""

from __future__ import annotations

import pytest

from bot.services import Services
from handlers.enterprises.fields import credit_code_ok
from handlers.enterprises.service import (
    EnterpriseService,
    ProfileError,
    ProfileFilter,
)
from tests.conftest import ChatBot, actor

# Real-format codes with a fitting check character (GB 32100-2015)
GOOD_CODE = "91350100M000100Y43"
OTHER_CODE = "91110000600037341L"


def service(app: Services) -> EnterpriseService:
    return app.service(EnterpriseService)


def test_the_credit_code_check_character_is_verified() -> None:
    assert credit_code_ok(GOOD_CODE)
    assert credit_code_ok(OTHER_CODE)
    assert not credit_code_ok(GOOD_CODE[:-1] + "2")  # one character off
    assert not credit_code_ok("91350100M000100Y4")  # 17 characters
    assert not credit_code_ok("91350100M000100I43")  # I is not in the alphabet


def test_a_profile_is_written_all_or_nothing(app: Services) -> None:
    svc = service(app)
    zhang = actor("wxid_zhang")
    with pytest.raises(ProfileError) as bad:
        svc.save(
            {"name": "张氏机械", "industry": "制造业", "credit_code": GOOD_CODE[:-1] + "2"},
            zhang,
            source="chat",
        )
    assert bad.value.field == "credit_code"
    assert "校验位" in bad.value.reason
    assert svc.all() == []

    saved = svc.save(
        {"name": "张氏机械", "industry": "C", "size": "小", "qualifications": "高新、专精特新"},
        zhang,
        contact_id="wxid_zhang",
        source="chat",
    )
    assert (saved.industry, saved.size) == ("制造业", "小型")
    assert saved.qualifications == ("高新技术企业", "专精特新")
    assert svc.of_contact("wxid_zhang") == saved
    assert saved.reachable == ["wxid_zhang"]
    assert saved.missing == ["credit_code", "region"]
    # the change log says who changed what from where
    logged = {(c["field"], c["new"], c["source"]) for c in svc.changes(saved.id)}
    assert ("qualifications", "高新技术企业、专精特新", "chat") in logged


def test_unknown_values_are_refused_with_the_choices(app: Services) -> None:
    svc = service(app)
    with pytest.raises(ProfileError) as bad:
        svc.save({"name": "李氏贸易", "size": "巨型"}, actor("wxid_li"), source="chat")
    assert bad.value.reason.startswith("没有「巨型」这个规模，可选：大型、中型、小型、微型")
    with pytest.raises(ProfileError) as ambiguous:
        svc.save(
            {"name": "李氏贸易", "qualifications": "中小企业"}, actor("wxid_li"), source="chat"
        )
    assert "科技型中小企业、创新型中小企业" in ambiguous.value.reason


def test_a_credit_code_belongs_to_one_enterprise(app: Services) -> None:
    svc = service(app)
    svc.save({"name": "张氏机械", "credit_code": GOOD_CODE}, actor("wxid_zhang"), source="console")
    with pytest.raises(ProfileError) as taken:
        svc.save(
            {"name": "李氏贸易", "credit_code": GOOD_CODE}, actor("wxid_li"), source="console"
        )
    assert taken.value.reason == "这个统一社会信用代码已登记为「张氏机械」"
    assert [p.name for p in svc.all()] == ["张氏机械"]


def test_a_survey_answer_fills_the_enterprise_named_in_chat(bot: ChatBot) -> None:
    """A member the bot knows from a 诉求 (its enterprise named) gets a profile made from it."""
    bot.report(reporter="wxid_zhang", enterprise="张氏机械")
    svc = service(bot.app)
    profile = svc.set_field("wxid_zhang", "size", "中型企业", actor("wxid_zhang"), "survey:1")
    assert (profile.name, profile.size) == ("张氏机械", "中型")
    assert svc.matching(ProfileFilter(sizes=("中型",))) == [profile]
    assert svc.matching(ProfileFilter(sizes=("小型",), industries=("制造业",))) == []
    with pytest.raises(ProfileError):
        svc.set_field("wxid_stranger", "size", "中型", actor("wxid_stranger"), "survey:1")
