"""Labelled examples: each case staff re-classified (改类), with its description and the
classification it ended with — what a chamber exports to improve its keyword rules.

No table of its own: the `reclassified` events of the timeline are the record. The first
event's `from` is what the rules said; the case's category and aspect now are the label.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from handlers.cases.model import EventKind, classified

__all__ = ["Example", "labelled_examples"]


@dataclass(frozen=True)
class Example:
    number: str
    description: str
    label: str  # `分类/方面` the case ended with
    rules_said: str  # `分类/方面` before the first 改类
    corrected_at: str  # the last 改类
    corrected_by: str


def labelled_examples(db: Database) -> list[Example]:
    """Every re-classified case, oldest first; one whose 改类 was undone (back to what the
    rules said) is no correction and is left out."""
    rows = db.execute(
        "select c.number, c.description, c.category, c.aspect,"
        " min(e.id), max(e.id) from cases c join case_events e on e.case_id = c.id"
        " where e.kind = ? group by c.id order by c.id",
        [EventKind.RECLASSIFIED.value],
    ).fetchall()
    found = []
    for number, description, category, aspect, first_id, last_id in rows:
        first = db.execute("select data from case_events where id = ?", [first_id]).fetchone()
        last = db.execute(
            "select at, actor_name from case_events where id = ?", [last_id]
        ).fetchone()
        rules_said = json.loads(first[0] or "{}").get("from", "")
        label = classified(category, aspect)
        if label != rules_said:
            found.append(Example(number, description, label, rules_said, last[0], last[1]))
    return found
