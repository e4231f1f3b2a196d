"""The figures by where cases came from (the Dalian table) and the 回访 rates.

按来源: per route of `cases.routes` (群聊, 私聊, 接待日, …), over `report_facts`, the same
scopes as the totals (figures.py): 受理 and 办结 of the cases received in the period,
按期办结率 of those due in the period, 满意率 of the rated ones received in the period.
Routes with nothing to count are left out; the order is the configured one, then any
route no longer configured, then cases with none.

回访率: of the cases asked in the period (`follow_up_asked_at`), the share answered
(已解决 or 未解决, the reporter's or a staff call's) by the cut-off; 回访满意率: of those
answered, the share 已解决.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from handlers.reports.facts import RATINGS, Window
from handlers.reports.rate import Rate

__all__ = ["FollowUpFigures", "SourceRow", "follow_up_figures", "source_rows"]


@dataclass(frozen=True)
class SourceRow:
    name: str | None  # None: a case with no route
    received: int
    resolved: int
    on_time: Rate
    satisfaction: Rate


@dataclass(frozen=True)
class FollowUpFigures:
    asked: int
    answered: int
    solved: int

    @property
    def rate(self) -> Rate:
        return Rate(self.answered, self.asked)

    @property
    def satisfaction(self) -> Rate:
        return Rate(self.solved, self.answered)


_PLEASED = f"({RATINGS['satisfied']}, {RATINGS['basic']})"
_RATED = f"({', '.join(str(code) for code in RATINGS.values())})"
_BY_SOURCE = f"""
select route,
  count(*) filter (where p and not withdrawn),
  count(*) filter (where p and resolved and not withdrawn),
  count(*) filter (where dp and on_time), count(*) filter (where dp),
  count(*) filter (where p and rating in {_PLEASED}),
  count(*) filter (where p and rating in {_RATED})
from {{facts}} where p or dp group by route
"""


def source_rows(db: Database, facts: str, routes: list[str]) -> list[SourceRow]:
    """The table by route, in the order of `routes` (the configured ones)."""
    found = [
        SourceRow(name, n, r, Rate(ot, due), Rate(pleased, rated))
        for name, n, r, ot, due, pleased, rated in db.execute(_BY_SOURCE.format(facts=facts))
        if n or due or rated
    ]
    order = {name: i for i, name in enumerate(routes)}
    return sorted(
        found,
        key=lambda s: (s.name is None, order.get(s.name or "", len(order)), s.name or ""),
    )


def follow_up_figures(db: Database, window: Window) -> FollowUpFigures:
    asked, answered, solved = db.execute(
        "select count(*),"
        " count(*) filter (where follow_up_result in ('solved', 'unsolved')"
        "   and follow_up_at < :cut),"
        " count(*) filter (where follow_up_result = 'solved' and follow_up_at < :cut)"
        " from cases where follow_up_asked_at >= :start and follow_up_asked_at < :end",
        window.params,
    ).fetchone()
    return FollowUpFigures(asked, answered, solved)
