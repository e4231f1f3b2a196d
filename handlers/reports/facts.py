"""One row per case as it stood at the report's cut-off: the temp table every figure reads.

`report_facts` holds the cases any figure of the period can need — opened since 1 January
of the period's year, or with a first-response or resolution deadline in the period, or
still open past due at the cut-off — with what the timeline says about each at the cut-off
(events after it are ignored, so a report of a past month does not change):

    withdrawn / closed   撤回 / 销号 before the cut-off
    resolved             办结 at the cut-off: closed, or the last 办结 is later than the last 重办
    ever_resolved        办结 at least once before the cut-off
    on_time              办结 at the due date (the same rule, with the due date as cut-off)
    responded_on_time    first staff response no later than `response_due_at`
    level                escalation level reached before the cut-off (0, 1, 2)
    rating               the last rating given before the cut-off (a reopened case counts
                         by its last one); NULL when never rated — 未评价 is no rating
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from sqlite_utils import Database

__all__ = ["FACTS", "Window", "facts_table"]

FACTS = "report_facts"
_ids = count()


class Window:
    """The times a report needs, as stored (UTC ISO text)."""

    def __init__(self, start: str, end: str, year_start: str, cutoff: str) -> None:
        self.start, self.end, self.year_start, self.cutoff = start, end, year_start, cutoff

    @property
    def params(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end, "ys": self.year_start, "cut": self.cutoff}


_BUILD = """
create temp table {name} as
select x.*,
  x.status = 'withdrawn' and x.closed_at < :cut as withdrawn,
  x.status = 'closed' and x.closed_at < :cut as closed,
  (x.status = 'closed' and x.closed_at < :cut)
    or (x.last_resolved is not null
        and (x.last_reopened is null or x.last_resolved > x.last_reopened)) as resolved,
  x.last_resolved is not null as ever_resolved,
  x.due_resolved is not null
    and (x.due_reopened is null or x.due_resolved > x.due_reopened) as on_time,
  x.first_response_at is not null and x.first_response_at < :cut
    and x.first_response_at <= x.response_due_at as responded_on_time,
  (select json_extract(r.data, '$.rating') from case_events r where r.id = x.rated_id)
    as rating
from (
  select c.id, c.number, c.created_at, c.due_at, c.response_due_at, c.first_response_at,
    c.status, c.closed_at, c.category, coalesce(c.aspect, '') as aspect, c.department,
    coalesce(nullif(c.enterprise, ''), c.reporter_name, c.reporter_id) as enterprise,
    c.reporter_id, c.assignee_name,
    case when c.conversation_is_group then coalesce(v.topic, c.conversation_id) end as grp,
    max(case when e.kind = 'resolved' and e.at < :cut then e.at end) as last_resolved,
    max(case when e.kind = 'reopened' and e.at < :cut then e.at end) as last_reopened,
    max(case when e.kind = 'resolved' and e.at <= c.due_at and e.at < :cut
        then e.at end) as due_resolved,
    max(case when e.kind = 'reopened' and e.at <= c.due_at and e.at < :cut
        then e.at end) as due_reopened,
    coalesce(max(case when e.kind = 'escalated' and e.at < :cut
        then cast(json_extract(e.data, '$.level') as integer) end), 0) as level,
    max(case when e.kind = 'rated' and e.at < :cut then e.id end) as rated_id
  from cases c
  left join conversations v on v.id = c.conversation_id
  left join case_events e on e.case_id = c.id
    and e.kind in ('resolved', 'reopened', 'escalated', 'rated')
  where c.created_at < :cut and (
    c.created_at >= min(:ys, :start)
    or (c.response_due_at >= :start and c.response_due_at < :end)
    or (c.due_at >= :start and c.due_at < :end)
    or (c.due_at < :cut and (c.closed_at is null or c.closed_at >= :cut)))
  group by c.id
) x
"""


@contextmanager
def facts_table(db: Database, window: Window) -> Iterator[str]:
    """Build the facts of `window` in a temp table; yields its name, drops it after."""
    name = f"{FACTS}_{next(_ids)}"
    db.execute(_BUILD.format(name=name), window.params)
    try:
        yield name
    finally:
        db.execute(f"drop table if exists temp.{name}")
