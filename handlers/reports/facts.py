"""One row per case as it stood at the report's cut-off: the temp table every figure reads.

`report_facts` holds the cases any figure of the period can need — opened since 1 January
of the period's year, or with a first-response or resolution deadline in the period, or
still open past due at the cut-off — with what the timeline says about each at the cut-off
(events after it are ignored, so a report of a past month does not change):

    withdrawn / closed   撤回 / 销号 before the cut-off
    overdue              open (neither) and not 办结 at the cut-off, and past due
    resolved             办结 at the cut-off: closed, or the last 办结 is later than the last 重办
    ever_resolved        办结 at least once before the cut-off
    on_time              办结 at the due date (the same rule, with the due date as cut-off)
    responded_on_time    first staff response no later than `response_due_at`
    level                escalation level reached before the cut-off (0, 1, 2)
    conv                 the group conversation it came from (NULL from a private chat;
                         '~' and its route for a case staff registered, 代录)
    route                where it came from (`cases.routes`: 群聊, 私聊, 接待日, …)
    rating               the last rating given before the cut-off (a reopened case counts
                         by its last one) as its code in RATINGS (0 for 未评价 or anything
                         else, NULL when never rated): the code of the rated event with the
                         highest id, taken as max(id * 4 + code) % 4 in the same pass

the scopes the figures count in, as flags (so that a figure is one `count(*) filter`):

    p / y                opened in the period / since 1 January (up to the period's end)
    rp / ry              first-response deadline in the period / since 1 January, and not
                         withdrawn before it
    dp / dy              due date in the period / since 1 January, not withdrawn before it
                         (y, ry, dy only when the period starts after 1 January: else the
                         year to date is the period, see `year_scope`)

and, for the medians, whole Unix seconds (as SQLite's date functions read the stored
text): `created_s`, `first_s` (the first response, if before the cut-off) and `resolved_s`
(the last 办结, if resolved at the cut-off). Names and dates only the overdue list shows
are read back from `cases` for its rows.

It is one aggregate query, one row per case (cases joined with their resolved / reopened /
escalated / rated events): the flags are written over the case's columns and the
aggregates directly, with no subquery to copy each row through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count

from sqlite_utils import Database

__all__ = ["FACTS", "RATINGS", "Window", "facts_table", "year_scope"]

FACTS = "report_facts"
_ids = count()


class Window:
    """The times a report needs, as stored (UTC ISO text)."""

    def __init__(self, start: str, end: str, year_start: str, cutoff: str) -> None:
        self.start, self.end, self.year_start, self.cutoff = start, end, year_start, cutoff

    @property
    def params(self) -> dict[str, str]:
        return {"start": self.start, "end": self.end, "ys": self.year_start, "cut": self.cutoff}


def _epoch(column: str) -> str:
    """Whole Unix seconds of a stored time: unixepoch() from SQLite 3.38, the same integer
    through strftime('%s') before it."""
    if sqlite3.sqlite_version_info >= (3, 38):
        return f"unixepoch({column})"
    return f"cast(strftime('%s', {column}) as integer)"


def _last(kind: str, until: str = "") -> str:
    """The time of the case's last `kind` event before the cut-off (and `until`)."""
    return f"max(case when e.kind = '{kind}' and e.at < :cut{until} then e.at end)"


def _deadline(column: str, since: str) -> str:
    """The deadline fell in [since, end), and the case was not withdrawn before it."""
    return (
        f"c.{column} >= {since} and c.{column} < :end"
        f" and not (c.status = 'withdrawn' and c.closed_at <= c.{column})"
    )


_WITHDRAWN = "(c.status = 'withdrawn' and c.closed_at < :cut)"
_CLOSED = "(c.status = 'closed' and c.closed_at < :cut)"
# The code of a rated event's rating: 1 满意, 2 基本满意, 3 不满意, 0 anything else.
RATINGS = {"satisfied": 1, "basic": 2, "unsatisfied": 3}
_RATING_CODE = (
    "case json_extract(e.data, '$.rating')"
    + "".join(f" when '{name}' then {code}" for name, code in RATINGS.items())
    + " else 0 end"
)
_YEAR = f"""
  c.created_at >= :ys and c.created_at < :end as y,
  {_deadline("response_due_at", ":ys")} as ry,
  {_deadline("due_at", ":ys")} as dy,"""
_LAST_RESOLVED, _LAST_REOPENED = _last("resolved"), _last("reopened")
_DUE_RESOLVED = _last("resolved", " and e.at <= c.due_at")
_DUE_REOPENED = _last("reopened", " and e.at <= c.due_at")
_RESOLVED = (
    f"({_CLOSED} or ({_LAST_RESOLVED} is not null"
    f" and ({_LAST_REOPENED} is null or {_LAST_RESOLVED} > {_LAST_REOPENED})))"
)

_BUILD = f"""
create temp table {{name}} as
select c.id, c.category, coalesce(c.aspect, '') as aspect, c.department, c.route,
  case when c.registered_by_id is not null then '~' || c.route
    when c.conversation_is_group then c.conversation_id end as conv,
  coalesce(max(case when e.kind = 'escalated' and e.at < :cut
    then cast(json_extract(e.data, '$.level') as integer) end), 0) as level,
  c.created_at >= :start and c.created_at < :end as p,
  {_deadline("response_due_at", ":start")} as rp,
  {_deadline("due_at", ":start")} as dp,{{year}}
  {_WITHDRAWN} as withdrawn,
  {_CLOSED} as closed,
  {_RESOLVED} as resolved,
  not {_WITHDRAWN} and not {_CLOSED} and not {_RESOLVED} and c.due_at < :cut as overdue,
  {_LAST_RESOLVED} is not null as ever_resolved,
  {_DUE_RESOLVED} is not null
    and ({_DUE_REOPENED} is null or {_DUE_RESOLVED} > {_DUE_REOPENED}) as on_time,
  c.first_response_at is not null and c.first_response_at < :cut
    and c.first_response_at <= c.response_due_at as responded_on_time,
  max(case when e.kind = 'rated' and e.at < :cut
    then e.id * 4 + {_RATING_CODE} end) % 4 as rating,
  {_epoch("c.created_at")} as created_s,
  case when c.first_response_at < :cut then {_epoch("c.first_response_at")} end as first_s,
  case when {_RESOLVED} then {_epoch(_LAST_RESOLVED)} end as resolved_s
from cases c
left join case_events e on e.case_id = c.id
  and e.kind in ('resolved', 'reopened', 'escalated', 'rated')
where c.created_at < :cut and (
  c.created_at >= :since
  or (c.response_due_at >= :start and c.response_due_at < :end)
  or (c.due_at >= :start and c.due_at < :end)
  or (c.due_at < :cut and (c.closed_at is null or c.closed_at >= :cut)))
group by c.id
"""


def year_scope(window: Window) -> str:
    """The flag of the year-to-date scope: `y`, or `p` when the period starts on 1 January
    (the year's flags are then the period's, and the table leaves them out)."""
    return "p" if window.year_start == window.start else "y"


@contextmanager
def facts_table(db: Database, window: Window) -> Iterator[str]:
    """Build the facts of `window` in a temp table; yields its name, drops it after."""
    name = f"{FACTS}_{next(_ids)}"
    sql = _BUILD.format(name=name, year=_YEAR if year_scope(window) == "y" else "")
    db.execute(sql, {**window.params, "since": min(window.start, window.year_start)})
    try:
        yield name
    finally:
        db.execute(f"drop table if exists temp.{name}")
