"""共性问题 wording groups on the labelled sample tests/data/common_issues.tsv.

Each line is `label<TAB>description`: descriptions with the same label describe the same
problem in similar words (as several enterprises would), "-" ones stand alone — some of
them on purpose close in topic (路灯的电费, 贷款利率) to the groups.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from handlers.reports.settings import ReportSettings
from handlers.reports.similar import clean, cluster, months_before
from tests.conftest import TZ

SAMPLE = Path(__file__).resolve().parent / "data" / "common_issues.tsv"


def _sample() -> list[tuple[str, str]]:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t", 1)) for line in lines if not line.startswith("#")]  # type: ignore[misc]


def _pairs(groups: list[list[int]]) -> set[tuple[int, int]]:
    return {pair for group in groups for pair in combinations(sorted(group), 2)}


def test_wording_groups_have_precision_of_at_least_0_8() -> None:
    sample = _sample()
    assert len(sample) >= 40
    labels = [label for label, _ in sample]
    predicted = _pairs(cluster([text for _, text in sample], ReportSettings().similarity))
    truth = {
        (i, j) for i, j in combinations(range(len(sample)), 2) if labels[i] == labels[j] != "-"
    }
    precision = len(predicted & truth) / len(predicted)
    recall = len(predicted & truth) / len(truth)
    assert precision >= 0.8, precision
    assert recall >= 0.6, recall  # and it does find most of them
    assert len({labels[i] for i, _ in predicted}) >= 7  # most of the 8 problems are found


def test_lone_descriptions_join_no_group() -> None:
    sample = _sample()
    grouped = {i for group in cluster([t for _, t in sample], 50) for i in group}
    assert not [sample[i][1] for i in grouped if sample[i][0] == "-"]


def test_punctuation_digits_and_width_do_not_matter() -> None:
    assert clean("路灯坏了３天！，电话 138-1234-5678") == clean("路灯坏了 3 天 电话")
    assert cluster(["路灯坏了一个月", "路燈壞了一個月。", "融资难"], 90) == [[0, 1]]


def test_months_before_clamps_to_the_month_end() -> None:
    from datetime import datetime

    assert months_before(datetime(2026, 5, 31, 9, tzinfo=TZ), 3) == datetime(
        2026, 2, 28, 9, tzinfo=TZ
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=TZ), 3).date().isoformat() == "2025-10-15"
