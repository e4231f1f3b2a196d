"""The `matching` section: how a policy's eligibility is read from its text, and when the
matched policies and the 申报截止 reminders go out.

`rules` is one list for the four dimensions (industry, size, qualification, region); a
rule names one value of the enterprise profiles' vocabulary (EnterpriseService.settings)
and the keywords that, found in the policy's text, make the policy name that value. `unless`
lists phrases taken out of the text before this rule looks (`科技型中小企业` is a
qualification, not a size). Regions look at the issuer and the title only (a summary
mentions other places in passing); `covers` lists the places inside a region, so that a
profile in 宁波 is in a policy's 浙江. Without region rules, each configured region of
the profiles is its own rule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.config import Config
from bot.strict import Strict

__all__ = ["EligibilityRule", "MatchingSettings", "matching_settings"]


class EligibilityRule(Strict):
    dimension: Literal["industry", "size", "qualification", "region"]
    value: str = Field(min_length=1, description="a value of the profiles' vocabulary")
    keywords: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)
    covers: list[str] = Field(default_factory=list)


def _rules(dimension: str, *rows: tuple[str, list[str], list[str]]) -> list[EligibilityRule]:
    return [
        EligibilityRule.model_validate(
            {"dimension": dimension, "value": v, "keywords": k, "unless": u}
        )
        for v, k, u in rows
    ]


_QUALIFIED_SMES = ["科技型中小企业", "创新型中小企业", "专精特新中小企业"]

DEFAULT_INDUSTRIES = _rules(
    "industry",
    (
        "农、林、牧、渔业",
        ["农业", "农产品", "种植", "养殖", "林业", "渔业", "畜牧", "农民专业合作社", "家庭农场"],
        ["农业银行", "农村商业银行", "农商行"],
    ),
    (
        "制造业",
        [
            "制造业",
            "制造类",
            "工贸企业",
            "制造企业",
            "工业企业",
            "规上工业",
            "规模以上工业",
            "技术改造",
            "技改",
            "智能化改造",
            "智能制造",
            "工业设计",
            "生产线",
            "首台（套）",
            "首台套",
            "工业互联网",
        ],
        [],
    ),
    ("建筑业", ["建筑业", "建筑企业", "施工企业", "建筑施工", "装配式建筑", "工程总承包"], []),
    (
        "批发和零售业",
        [
            "批发和零售",
            "工贸企业",
            "批发零售",
            "零售企业",
            "商贸企业",
            "商贸流通",
            "限额以上批发",
            "限上批零",
            "商超",
            "连锁经营",
        ],
        [],
    ),
    (
        "交通运输、仓储和邮政业",
        ["交通运输", "物流企业", "道路货运", "仓储", "快递", "冷链物流", "多式联运"],
        [],
    ),
    ("住宿和餐饮业", ["住宿和餐饮", "住宿餐饮", "餐饮企业", "餐饮业", "酒店", "民宿"], []),
    (
        "信息传输、软件和信息技术服务业",
        [
            "软件企业",
            "软件和信息技术服务",
            "信息技术服务",
            "集成电路设计",
            "软件产品",
            "数据服务企业",
            "互联网企业",
            "人工智能企业",
        ],
        [],
    ),
    ("金融业", ["金融机构", "银行业金融机构"], []),
    ("房地产业", ["房地产开发企业", "房地产企业", "物业服务企业"], []),
    (
        "租赁和商务服务业",
        ["商务服务业", "人力资源服务机构", "会展企业", "广告企业", "律师事务所", "会计师事务所"],
        [],
    ),
    (
        "科学研究和技术服务业",
        ["研发机构", "技术服务机构", "检验检测机构", "科技服务业", "工程设计企业", "新型研发机构"],
        [],
    ),
    (
        "文化、体育和娱乐业",
        ["文化企业", "文创企业", "影视", "演艺", "体育企业", "动漫游戏", "文化产业"],
        [],
    ),
)

DEFAULT_SIZES = _rules(
    "size",
    ("大型", ["大型企业", "龙头企业", "链主企业"], []),
    ("中型", ["中小企业", "中小微企业", "中型企业"], _QUALIFIED_SMES),
    ("小型", ["中小企业", "中小微企业", "小微企业", "小型企业", "小企业"], _QUALIFIED_SMES),
    ("微型", ["中小企业", "中小微企业", "小微企业", "微型企业", "个体工商户"], _QUALIFIED_SMES),
)

DEFAULT_QUALIFICATIONS = _rules(
    "qualification",
    ("高新技术企业", ["高新技术企业", "高企"], ["高新技术企业培育", "高企培育"]),
    ("专精特新", ["专精特新", "小巨人"], []),
    ("科技型中小企业", ["科技型中小企业", "科技型企业"], []),
    ("创新型中小企业", ["创新型中小企业"], []),
    (
        "规上企业",
        ["规上企业", "规模以上企业", "规上工业企业", "规模以上工业企业", "规上服务业"],
        [],
    ),
    ("外贸", ["外贸企业", "外贸", "进出口", "出口企业", "跨境电商", "海外仓", "境外展会"], []),
)


class MatchingSettings(Strict):
    """`matching`: eligibility rules and the daily push of matched policies."""

    enabled: bool = True
    #: when the daily push runs (crontab, the chamber's time zone)
    cron: str = Field("30 9 * * *", min_length=1)
    #: policies published (or stored, without a date) this many days back are still new
    since_days: int = Field(30, ge=1, le=365)
    #: at most this many policies in one day's message; the rest go the next day
    max_items: int = Field(6, ge=1, le=20)
    #: the 申报截止 reminder goes this many working days before the deadline
    reminder_workdays: int = Field(3, ge=1, le=20)
    #: whether a policy naming a region but no industry, size or qualification is pushed
    #: privately to every enterprise there (false: it is general, for the digests)
    region_alone_targets: bool = False
    #: what makes a policy name a value of a profile dimension (see the module docstring);
    #: without region rules, each of the profiles' configured regions is its own rule
    rules: list[EligibilityRule] = Field(
        default_factory=lambda: [*DEFAULT_INDUSTRIES, *DEFAULT_SIZES, *DEFAULT_QUALIFICATIONS]
    )

    def of(self, dimension: str) -> list[EligibilityRule]:
        return [r for r in self.rules if r.dimension == dimension]


def matching_settings(config: Config) -> MatchingSettings:
    return config.section("matching", MatchingSettings)
