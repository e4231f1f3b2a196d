"""The case ledger (工作台账): one definition of its columns and rows, for the CLI export
(`chamberbot cases export`), the web console's export and the report's 台账 and 办理记录.

The labels (headers, statuses, ratings, levels, event kinds) are bot/templates/
case_ledger.j2, `key|中文`. The rows are built from plain tuples, with the labels looked up
once (bench/reports.py measures it at 10 k cases): the rows are about a fifth of an
XLSX's time, the writing of the cells (sheets/) the rest. Times are naive datetimes in
the chamber's time zone (Excel has no time zones); `as_text` turns a row into strings for
CSV. Phone numbers are in the ledger only when the caller asks (the report for the
secretariat, the CLI with --phone).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlite_utils import Database

from bot.db import from_db, to_db
from bot.places import conversation_name
from handlers.cases.model import OPEN

__all__ = [
    "LEDGER_COLUMNS",
    "TIMELINE_COLUMNS",
    "Ledger",
    "as_text",
    "ledger_labels",
    "ledger_rows",
]

# Column key → width; the headers are col.<key> in case_ledger.j2.
LEDGER_COLUMNS: dict[str, int] = {
    "number": 11, "created_at": 17, "enterprise": 22, "reporter": 10, "phone": 14,
    "group": 14, "route": 12, "collected_on": 11, "registered_by": 10, "category": 10,
    "aspect": 10, "department": 10, "assignee": 10, "status": 12, "level": 10,
    "first_response_at": 17, "due_at": 17, "paused_days": 9, "resolved_at": 17, "rating": 9,
    "reopen_count": 9, "follow_up": 11, "topic": 16, "overdue": 9, "description": 40, "answer": 30,
    "summary": 30,
}  # fmt: skip
TIMELINE_COLUMNS: dict[str, int] = {"number": 11, "at": 17, "kind": 12, "actor": 10, "text": 60}
_PHONE = list(LEDGER_COLUMNS).index("phone")
_OPEN = frozenset(str(s) for s in OPEN)

#: the cases of a selection (a WHERE over `cases` alone) with their group, phone and the
#: 专题 they are in (not taken out)
_CASES = """
select c.id, c.number, c.created_at, c.enterprise, c.reporter_name, p.phone, v.topic,
  c.conversation_id, c.conversation_is_group, c.route, c.collected_on, c.registered_by_name,
  c.category, c.aspect, c.department,
  c.assignee_name, c.status, c.escalation, c.first_response_at, c.due_at, c.paused_days,
  c.resolved_at, c.rating, c.reopen_count, c.follow_up_result,
  (select max(l.topic_id) from topic_cases l where l.case_id = c.id and l.left_at is null),
  c.description
from (select * from cases where {where}) c
left join conversations v on v.id = c.conversation_id
left join contacts p on p.id = c.reporter_id
order by c.year, c.seq limit {limit}
"""

Render = Callable[..., str]


def ledger_labels(render: Render) -> dict[str, str]:
    """case_ledger.j2 as a mapping: key → Chinese label."""
    out: dict[str, str] = {}
    for line in render("case_ledger").splitlines():
        key, sep, label = line.partition("|")
        if sep:
            out[key.strip()] = label.strip()
    return out


@dataclass(frozen=True)
class Ledger:
    """台账's header, widths and rows, and 办理记录's rows (every event of those cases)."""

    header: list[str]
    widths: list[int]
    rows: list[list[Any]]
    timeline: list[list[Any]]


def _local(value: str | None, tz: tzinfo) -> datetime | None:
    return from_db(value).astimezone(tz).replace(tzinfo=None) if value else None


def ledger_rows(
    db: Database,
    lab: dict[str, str],
    tz: tzinfo,
    cutoff: datetime,
    selection: tuple[str, list[Any]] = ("1", []),
    *,
    phone: bool = True,
    limit: int = -1,
    with_timeline: bool = True,
) -> Ledger:
    """The ledger of the cases `selection` (a WHERE over `cases` and its parameters) picks,
    oldest first; overdue means open past its due date at `cutoff`. Without the timeline
    (the console's one-sheet export) 办理记录's rows are not made: a sixth of the work."""
    where, params = selection
    rows = db.execute(_CASES.format(where=where, limit=int(limit)), params).fetchall()
    events = _events(db, [r[0] for r in rows])
    cut = to_db(cutoff)
    status = {k[7:]: v for k, v in lab.items() if k.startswith("status.")}
    rating = {k[7:]: v for k, v in lab.items() if k.startswith("rating.")}
    kinds = {k[5:]: v for k, v in lab.items() if k.startswith("kind.")}
    level = {i: lab[f"level.{i}"] for i in range(3)}
    follow_up = {k[10:]: v for k, v in lab.items() if k.startswith("follow_up.")}
    topics = _topics(db, {r[-2] for r in rows if r[-2] is not None})
    yes, no, private = lab["yes"], lab["no"], lab["private"]
    cases: list[list[Any]] = []
    timeline: list[list[Any]] = []
    for (case_id, number, created_at, enterprise, reporter, tel, topic, conv, is_group,
         route, collected_on, registered_by, category, aspect, department, assignee, state,
         escalation, first_at, due_at, paused, resolved_at, rated, reopened, followed, topic_id,
         description) in rows:  # fmt: skip
        answer = summary = None
        for kind, at, actor, text in events.get(case_id, ()):
            if kind == "answered":
                answer = text
            elif kind == "resolved":
                summary = text
            if with_timeline:
                timeline.append([number, _local(at, tz), kinds.get(kind, kind), actor, text])
        overdue = state in _OPEN and due_at and due_at < cut
        row = [
            number, _local(created_at, tz), enterprise, reporter, tel,
            conversation_name(conv, topic) if is_group else private, route,
            date.fromisoformat(collected_on) if collected_on else None, registered_by,
            category, aspect, department, assignee, status.get(state, state),
            level[min(escalation or 0, 2)],
            _local(first_at, tz), _local(due_at, tz), paused or 0, _local(resolved_at, tz),
            rating.get(rated), reopened or 0, follow_up.get(followed or "none"),
            topics.get(topic_id),
            yes if overdue else no, description, answer, summary,
        ]  # fmt: skip
        if not phone:
            del row[_PHONE]
        cases.append(row)
    keys = [k for k in LEDGER_COLUMNS if phone or k != "phone"]
    return Ledger(
        [lab[f"col.{k}"] for k in keys], [LEDGER_COLUMNS[k] for k in keys], cases, timeline
    )


def _topics(db: Database, ids: set[int]) -> dict[int, str]:
    """The 专题 the cases are in, as 3「名称」 (the number staff type, then the name)."""
    if not ids:
        return {}
    rows = db.execute(
        f"select id, name from topics where id in ({', '.join('?' * len(ids))})", sorted(ids)
    ).fetchall()
    return {topic_id: f"{topic_id}「{name}」" for topic_id, name in rows}


def as_text(row: list[Any]) -> list[str]:
    """A row's cells as text (CSV): times to the minute, dates as YYYY-MM-DD, nothing as
    ''."""
    return [
        f"{v:%Y-%m-%d %H:%M}" if isinstance(v, datetime) else "" if v is None else str(v)
        for v in row
    ]


def _events(db: Database, case_ids: list[int]) -> dict[int, list[tuple[str, str, str, str]]]:
    """Each case's timeline in order: (kind, at, actor name, text)."""
    out: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    if not case_ids:
        return out
    rows = db.execute(
        "select case_id, kind, at, actor_name, text from case_events"
        " where case_id between ? and ? order by case_id, id",
        [min(case_ids), max(case_ids)],
    ).fetchall()
    wanted = set(case_ids)
    for case_id, *event in rows:
        if case_id in wanted:
            out[case_id].append(tuple(event))
    return out
