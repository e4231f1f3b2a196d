"""The 活动 form: read, check and turn into the events service's column values.

The checks are the ones chat's 发布活动 and `chamberbot event add|edit` make: a title of
1–60 characters, a start in the future (when it is set or moved) and an end after it, a
place, 0 (unlimited) to 100,000 seats, a readable target (`全部` or a tag expression), a
registration deadline not after the start, a kind from `events.kinds`. Every problem is
kept by field (a code the template words); values are kept as typed to show them again.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from bot.db import from_db
from bot.targeting import ALL, TargetError, parse_target
from handlers.events.store import Activity

__all__ = ["MAX_CAPACITY", "MAX_TITLE", "EventForm", "read_form"]

MAX_TITLE = 60  # as 发布活动 asks
MAX_CAPACITY = 100_000
_LOCAL = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


@dataclass
class EventForm:
    """What the form shows: the typed values, and a problem code per bad field."""

    values: dict[str, str]
    announce: bool = False
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def blank(cls, kind: str) -> EventForm:
        return cls({"kind": kind, "capacity": "0", "target": ALL})

    @classmethod
    def of(cls, event: Activity, tz: tzinfo) -> EventForm:
        def local(value: str | None) -> str:
            return from_db(value).astimezone(tz).strftime(_LOCAL) if value else ""

        deadline = "" if event.deadline_at in (None, event.starts_at) else event.deadline_at
        return cls(
            {
                "title": event.title,
                "kind": event.kind,
                "start": local(event.starts_at),
                "end": local(event.ends_at),
                "deadline": local(deadline),
                "place": event.place or "",
                "capacity": str(event.capacity),
                "target": event.target,
                "description": event.description or "",
                "code": event.checkin_code or "",
                "phone": "1" if event.need_phone else "",
            }
        )


def _text(form: Mapping[str, Any], key: str, limit: int) -> str:
    return unicodedata.normalize("NFC", str(form.get(key, "") or "")).strip()[:limit]


def _when(text: str, tz: tzinfo) -> datetime | None:
    try:
        when = datetime.fromisoformat(unicodedata.normalize("NFKC", text).replace(" ", "T"))
    except ValueError:
        return None
    return when.replace(tzinfo=tz, second=0, microsecond=0) if when.tzinfo is None else when


def read_form(
    form: Mapping[str, Any], event: Activity | None, kinds: list[str], now: datetime
) -> tuple[EventForm, dict[str, Any]]:
    """The form as typed (with its problems) and, when it has none, the column values."""
    assert now.tzinfo is not None
    tz = now.tzinfo
    typed = {
        "title": _text(form, "title", 200),
        "kind": _text(form, "kind", 20),
        "start": _text(form, "start", 30),
        "end": _text(form, "end", 30),
        "deadline": _text(form, "deadline", 30),
        "place": _text(form, "place", 300),
        "capacity": _text(form, "capacity", 10),
        "target": _text(form, "target", 200),
        "description": _text(form, "description", 2000),
        "code": _text(form, "code", 30),
        "phone": "1" if form.get("phone") else "",
    }
    result = EventForm(typed, announce=bool(form.get("announce")))
    bad = result.problems
    values: dict[str, Any] = {}

    if not typed["title"] or len(typed["title"]) > MAX_TITLE:
        bad["title"] = "title"
    values["title"] = typed["title"]
    if typed["kind"] not in kinds:
        bad["kind"] = "kind"
    values["kind"] = typed["kind"]

    start, end = _when(typed["start"], tz), _when(typed["end"], tz)
    moved = event is None or start is None or start != from_db(event.starts_at)
    if start is None:
        bad["start"] = "time"
    elif moved and start <= now:
        bad["start"] = "past"
    if end is None:
        bad["end"] = "time"
    elif start is not None and end <= start:
        bad["end"] = "before_start"
    values["starts_at"], values["ends_at"] = start, end

    if typed["deadline"]:
        deadline = _when(typed["deadline"], tz)
        if deadline is None:
            bad["deadline"] = "time"
        elif start is not None and deadline > start:
            bad["deadline"] = "after_start"
        values["deadline_at"] = deadline
    elif event is None or event.deadline_at != event.starts_at:
        values["deadline_at"] = start  # no deadline: registration runs until the start

    if not typed["place"]:
        bad["place"] = "place"
    values["place"] = typed["place"]

    # As 发布活动 reads the seats: "30人", "不限" (the words a secretary types).
    seats = unicodedata.normalize("NFKC", typed["capacity"]).removesuffix("人").strip()
    if seats in ("", "不限", "无限"):
        seats = "0"
    if not seats.isdigit() or int(seats) > MAX_CAPACITY:
        bad["capacity"] = "capacity"
    else:
        values["capacity"] = int(seats)

    try:
        values["target"] = parse_target(typed["target"] or ALL).text
    except TargetError:
        bad["target"] = "target"

    values["description"] = typed["description"]
    values["checkin_code"] = typed["code"] or None
    values["need_phone"] = int(bool(typed["phone"]))
    return result, ({} if bad else values)
