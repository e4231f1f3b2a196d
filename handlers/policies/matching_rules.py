"""A policy's eligibility read from its text by the `matching` rules, and its deadline.

`Eligibility` is what a policy asks of an enterprise: industries, sizes, regions and
qualifications (each "any of these"; empty = the policy does not say), and the
application deadline. `read_eligibility` applies the rules (matching_settings); the
deadline parser understands the usual ways a notice states one:

    11月30日前 / 请于2026年12月15日（星期二）17:00前 / 2026年12月15日止
    截止日期：2026年12月15日 / 申报截止时间为12月15日
    申报时间：2026年11月1日至12月31日 / 受理时间：…至2026年12月31日

A date without a year takes the policy's publication year, or the next year when that
date is already past at publication; without a publication date it is not read. Dates
about something else (成立、注册、认定 … before a date; 有效期至 …) are not deadlines, and
a text stating two different deadlines is unclear: nothing is guessed, the deadline is
left empty for staff to fill in on the console.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from bot.normalize import normalize
from handlers.policies.matching_settings import EligibilityRule, MatchingSettings

__all__ = [
    "DIMENSIONS",
    "Eligibility",
    "Rules",
    "parse_deadline",
    "read_eligibility",
]

DIMENSIONS = ("industries", "sizes", "regions", "qualifications")


@dataclass(frozen=True)
class Eligibility:
    industries: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()
    deadline: date | None = None

    @property
    def named(self) -> bool:
        """Whether the policy names any dimension at all."""
        return any(getattr(self, d) for d in DIMENSIONS)


@lru_cache(maxsize=4096)
def _clean(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))


@dataclass(frozen=True)
class _Rule:
    value: str
    keywords: tuple[str, ...]
    unless: tuple[str, ...]

    def named_in(self, text: str) -> bool:
        for phrase in self.unless:
            text = text.replace(phrase, "|")
        return any(k in text for k in self.keywords)


def _compile(rules: Sequence[EligibilityRule]) -> tuple[_Rule, ...]:
    return tuple(
        _Rule(r.value, tuple(_clean(k) for k in r.keywords), tuple(_clean(u) for u in r.unless))
        for r in rules
    )


_SUFFIX = re.compile(r"(特别行政区|自治区|自治州|地区|新区|省|市|区|县|旗|盟)$")


def region_stem(name: str) -> str:
    """`宁波市` → 宁波, `鄞州区` → 鄞州: how a region is usually written in a text."""
    clean = _clean(name)
    stem = _SUFFIX.sub("", clean)
    return stem if len(stem) >= 2 else clean


class Rules:
    """The compiled rules of one `matching` section (and the profiles' regions)."""

    def __init__(self, settings: MatchingSettings, regions: Sequence[str] = ()) -> None:
        self.industries = _compile(settings.of("industry"))
        self.sizes = _compile(settings.of("size"))
        self.qualifications = _compile(settings.of("qualification"))
        region_rules = settings.of("region") or [
            EligibilityRule(dimension="region", value=r, keywords=[r, region_stem(r)])
            for r in regions
        ]
        self.regions = _compile(region_rules)
        self.region_alone_targets = settings.region_alone_targets
        #: changes when the rules do: what they read before is read again
        self.fingerprint = hashlib.sha1(
            json.dumps(
                [settings.model_dump(mode="json"), list(regions)], ensure_ascii=False
            ).encode("utf-8"),
            usedforsecurity=False,
        ).hexdigest()[:16]
        self.all_sizes = frozenset(r.value for r in self.sizes)
        #: region value → the texts a profile's region may contain to be inside it
        self.region_places = {
            r.value: tuple(
                dict.fromkeys(
                    _clean(p) for p in [r.value, region_stem(r.value), *r.keywords, *r.covers]
                )
            )
            for r in region_rules
        }

    def targeted(self, found: Eligibility) -> bool:
        """Whether a policy is for particular enterprises (else it is general: digests
        only): it names an industry, a size or a qualification — or, with
        `region_alone_targets`, a region."""
        if found.industries or found.sizes or found.qualifications:
            return True
        return self.region_alone_targets and bool(found.regions)

    def innermost(self, regions: Sequence[str]) -> tuple[str, ...]:
        """The named regions without those that contain another named one (宁波 and 浙江
        named: 宁波)."""
        return tuple(
            r
            for r in regions
            if not any(other != r and self.profile_in_region(other, r) for other in regions)
        )

    def profile_in_region(self, profile_region: str, region: str) -> bool:
        text = _clean(profile_region)
        if not text:
            return False
        places = self.region_places.get(region, (_clean(region), region_stem(region)))
        return any(p and p in text for p in places)


def _named(rules: Sequence[_Rule], text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.value for r in rules if r.named_in(text)))


def read_eligibility(
    rules: Rules,
    title: str,
    summary: str = "",
    issuer: str = "",
    published: datetime | None = None,
) -> Eligibility:
    """What the rules read in a policy's text."""
    text = _clean(title) + "|" + _clean(summary)
    sizes = _named(rules.sizes, text)
    if len(rules.all_sizes) > 1 and set(sizes) >= rules.all_sizes:
        sizes = ()  # every size named (中小微企业 … 大型企业): no restriction
    regions = _named(rules.regions, _clean(issuer) + "|" + _clean(title))
    return Eligibility(
        industries=_named(rules.industries, text),
        sizes=sizes,
        regions=rules.innermost(regions),
        qualifications=_named(rules.qualifications, text),
        deadline=parse_deadline(f"{title}\n{summary}", published.date() if published else None),
    )


# -- deadlines -------------------------------------------------------------------------------

_D = r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]"
_ISO = r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"
_DAY = rf"(?:{_D}|{_ISO})"
_TAIL = (
    r"(?:\s*[（(][^)）]{0,8}[)）])?(?:\s*(?:上午|下午)?\s*\d{1,2}\s*[:：时点]\s*(?:\d{2})?\s*分?)?"
)
_BEFORE = re.compile(rf"{_DAY}{_TAIL}\s*(?:之前|以前|前|止|截止)")
_CUTOFF = re.compile(
    rf"(?:截止|截至日期|申报截至)(?:日期|时间)?\s*(?:为|是|到|至)?\s*[:：]?\s*{_DAY}"
)
_RANGE = re.compile(
    rf"(?:申报|受理|报名|申请|征集|提交|集中申报)(?:时间|日期|期限|期)?\s*(?:为|是)?\s*[:：]?"
    rf"[^。；;]{{0,20}}?(?:至|到|—|-|~|－|～)\s*{_DAY}"
)
_NOT_DEADLINE = re.compile(
    r"(成立|注册|设立|登记|认定|投产|签订|发生|购置|取得|入驻|落户|有效期|施行|执行|实施|建成|纳入|开工|批准)"
)
_CONTEXT = 12
_CLAUSE = re.compile(r"[，。；;,:：、\n]")


def _date(groups: Sequence[str | None], published: date | None) -> date | None:
    y1, m1, d1, y2, m2, d2 = groups
    year, month, day = (y1, m1, d1) if m1 else (y2, m2, d2)
    try:
        if year:
            return date(int(year), int(month or 0), int(day or 0))
        if published is None:
            return None
        found = date(published.year, int(month or 0), int(day or 0))
    except ValueError:
        return None
    if found < published:
        try:
            found = found.replace(year=published.year + 1)
        except ValueError:
            return None
    return found


def parse_deadline(text: str, published: date | None = None) -> date | None:
    """The application deadline a text states, or None when it states none or is unclear."""
    text = unicodedata.normalize("NFKC", text)
    found: set[date | None] = set()
    for pattern in (_BEFORE, _CUTOFF, _RANGE):
        for match in pattern.finditer(text):
            # the clause the date stands in: up to the punctuation before it, 3 after
            before = _CLAUSE.split(text[max(0, match.start() - _CONTEXT) : match.start()])[-1]
            after = text[match.end() : match.end() + 3]
            if pattern is _BEFORE and _NOT_DEADLINE.search(before + match.group(0) + after):
                continue
            if pattern is _CUTOFF and "有效期" in before:
                continue
            found.add(_date(match.groups()[-6:], published))
    if len(found) != 1:
        return None
    return found.pop()
