"""共性问题: one problem that three or more different enterprises raised ("从解剖一个问题到
解决一类问题").

Within the last `reports.common_issue_months` months before the cut-off (withdrawn cases
left out), a common issue is either
- a sub-aspect (方面) raised by at least `reports.common_issue_enterprises` enterprises, or
- a group of near-duplicate descriptions from that many enterprises: descriptions are
  compared without punctuation, digits and spaces by RapidFuzz's normalised InDel ratio
  (`fuzz.ratio`, 0–100), only within one category; a description joins the first group
  whose leading description it matches at `reports.similarity` or more (leader
  clustering). tests/data/common_issues.tsv is the labelled sample this is checked on
  (tests/test_reports_similar.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import opencc
from rapidfuzz import fuzz, process
from sqlite_utils import Database

from bot.db import to_db
from bot.normalize import mask_phones, normalize
from handlers.reports.settings import ReportSettings

__all__ = [
    "CommonIssue",
    "clean",
    "clean_all",
    "cluster",
    "common_issue_cases",
    "common_issues",
    "group_common_issues",
    "months_before",
]

_NOISE = re.compile(r"[\W\d_]+")
_LABEL_CHARS = 30
# For `clean_all`: the noise but not the line breaks between texts, and the characters
# NFKC turns into one ASCII character each, whatever surrounds them (full-width ASCII, the
# ideographic space): replaced first, most Chinese text is then already in NFKC, which
# unicodedata checks quickly instead of rebuilding the text.
_NOISE_NOT_LF = re.compile(r"(?:[^\w\n]|[\d_])+")
_WIDE = re.compile("[\uff01-\uff5e\u3000]")
_NARROW = {chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {"\u3000": " "}


@dataclass(frozen=True)
class CommonIssue:
    kind: str  # "aspect" | "wording"
    label: str
    category: str
    enterprises: int
    cases: tuple[str, ...]  # case numbers


def clean(text: str) -> str:
    return _NOISE.sub("", normalize(text))


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")  # bot.normalize's converter, for whole batches


def clean_all(texts: list[str]) -> list[str]:
    """`clean` of each text (the same strings), in a few passes over all of them joined by
    line breaks (their own become carriage returns: both are noise, never composed with
    another character by NFKC, and in no conversion rule of OpenCC)."""
    if not texts:
        return []
    joined = "\n".join(t.replace("\n", "\r") for t in texts)
    joined = _WIDE.sub(lambda m: _NARROW[m[0]], joined)
    if not unicodedata.is_normalized("NFKC", joined):
        joined = "\n".join(unicodedata.normalize("NFKC", t) for t in joined.split("\n"))
    simplified = str(_t2s().convert(joined)).lower()
    return _NOISE_NOT_LF.sub("", simplified).split("\n")


def cluster(texts: list[str], threshold: int) -> list[list[int]]:
    """Groups (indexes into `texts`, at least two each) of near-duplicate texts.

    Leader clustering: each distinct cleaned text joins the group whose leader (its first
    text) it matches best at `threshold` or more (the first such on a tie), else it leads a
    new group. The cost is texts × groups comparisons (C++ inside RapidFuzz), not texts².
    """
    return _cluster(clean_all(texts), threshold)


def _cluster(cleaned: list[str], threshold: int) -> list[list[int]]:
    leaders: list[str] = []
    group_of: dict[str, int] = {}
    for text in dict.fromkeys(cleaned):
        best = process.extractOne(text, leaders, scorer=fuzz.ratio, score_cutoff=threshold)
        if best is None:
            group_of[text] = len(leaders)
            leaders.append(text)
        else:
            group_of[text] = best[2]
    groups: dict[int, list[int]] = defaultdict(list)
    for index, text in enumerate(cleaned):
        groups[group_of[text]].append(index)
    return [g for g in groups.values() if len(g) > 1]


def months_before(when: datetime, months: int) -> datetime:
    """The same local day and time `months` calendar months earlier (clamped to month end)."""
    total = when.year * 12 + when.month - 1 - months
    year, month = divmod(total, 12)
    day = when.day
    while True:
        try:
            return when.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


def _label(description: str) -> str:
    text = mask_phones(" ".join(description.split()))
    return text if len(text) <= _LABEL_CHARS else text[:_LABEL_CHARS] + "…"


def common_issues(db: Database, settings: ReportSettings, cutoff: datetime) -> list[CommonIssue]:
    return group_common_issues(common_issue_cases(db, settings, cutoff), settings)


def common_issue_cases(
    db: Database, settings: ReportSettings, cutoff: datetime
) -> list[tuple[str, str, str, str, str]]:
    """The cases 共性问题 looks at: (number, enterprise, category, aspect, description)."""
    since = months_before(cutoff, settings.common_issue_months)
    return db.execute(
        "select number, coalesce(nullif(enterprise, ''), reporter_id), category,"
        " coalesce(aspect, ''), description from cases"
        " where created_at >= ? and created_at < ?"
        " and not (status = 'withdrawn' and closed_at < ?) order by id",
        [to_db(since), to_db(cutoff), to_db(cutoff)],
    ).fetchall()


def group_common_issues(
    rows: list[tuple[str, str, str, str, str]], settings: ReportSettings
) -> list[CommonIssue]:
    """共性问题 among `rows` (no database: the report runs this beside its SQL)."""
    need = settings.common_issue_enterprises
    found: list[CommonIssue] = []
    by_aspect: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    by_category: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    cleaned = clean_all([row[4] for row in rows])
    for (number, enterprise, category, aspect, description), text in zip(
        rows, cleaned, strict=True
    ):
        if aspect:
            by_aspect[(category, aspect)].append((number, enterprise))
        by_category[category].append((number, enterprise, description, text))
    for (category, aspect), items in by_aspect.items():
        enterprises = {e for _, e in items}
        if len(enterprises) >= need:
            numbers = tuple(n for n, _ in items)
            found.append(CommonIssue("aspect", aspect, category, len(enterprises), numbers))
    for category, cases in by_category.items():
        for group in _cluster([c[3] for c in cases], settings.similarity):
            enterprises = {cases[i][1] for i in group}
            if len(enterprises) >= need:
                label = _label(min((cases[i][2] for i in group), key=len))
                numbers = tuple(cases[i][0] for i in group)
                found.append(CommonIssue("wording", label, category, len(enterprises), numbers))
    found.sort(key=lambda c: (-c.enterprises, c.kind, c.category, c.label))
    return found
