"""The enterprises feature's settings section (`enterprises:` in the config): the
vocabularies a profile is written in. config.example.yaml documents each with its default."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["INDUSTRIES", "EnterpriseSettings"]

#: 国民经济行业分类 (GB/T 4754-2017), its 门类 A–T
INDUSTRIES = (
    "农、林、牧、渔业",
    "采矿业",
    "制造业",
    "电力、热力、燃气及水生产和供应业",
    "建筑业",
    "批发和零售业",
    "交通运输、仓储和邮政业",
    "住宿和餐饮业",
    "信息传输、软件和信息技术服务业",
    "金融业",
    "房地产业",
    "租赁和商务服务业",
    "科学研究和技术服务业",
    "水利、环境和公共设施管理业",
    "居民服务、修理和其他服务业",
    "教育",
    "卫生和社会工作",
    "文化、体育和娱乐业",
    "公共管理、社会保障和社会组织",
    "国际组织",
)

QUALIFICATIONS = (
    "高新技术企业",
    "专精特新",
    "科技型中小企业",
    "创新型中小企业",
    "外贸",
    "规上企业",
)


def _distinct(value: list[str]) -> list[str]:
    names = [v.strip() for v in value]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise ValueError("must be distinct, non-empty names")
    return names


class EnterpriseSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: an industry is one of these (by default the 门类 of GB/T 4754-2017, in its order,
    #: so a letter A–T also names one)
    industries: list[str] = Field(default_factory=lambda: list(INDUSTRIES))
    sizes: list[str] = Field(default_factory=lambda: ["大型", "中型", "小型", "微型"])
    qualifications: list[str] = Field(default_factory=lambda: list(QUALIFICATIONS))
    #: the regions a profile may name; empty: any text
    regions: list[str] = Field(default_factory=list)

    _check = field_validator("industries", "sizes", "qualifications", "regions")(
        classmethod(lambda cls, v: _distinct(v))
    )
