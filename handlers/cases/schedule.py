"""When the sweep next has something to do for a case: the `next_action_at` column.

The case service's one writer (handlers/cases/store.py) stores it with every change, from the
same rules the sweep's steps check (handlers/cases/deadline_intents.py), so a sweep pass reads only
the cases that are due (an index on `next_action_at`) rather than every open one. A step
still re-checks its own rule on the row; the column only says when to look.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.db import from_db, to_db
from handlers.cases.model import OPEN, Status

__all__ = ["next_action_at"]

_UNANSWERED = frozenset({Status.NEW, Status.ACCEPTED})
_FINISHED = frozenset({Status.CLOSED, Status.WITHDRAWN})


def next_action_at(row: Mapping[str, Any], now: datetime, remind_before: timedelta) -> str | None:
    """The earliest time a sweep step can act on this case as it is now; None: never.

    The steps, as in `DeadlineIntents.advance`: flag an unanswered new case
    (`response_due_at`), remind before the deadline (from `due_at - remind_before` until
    `due_at`, once), escalate at `due_at` (level 1) and `level2_due_at` (level 2) — or,
    while the clock is paused (待补充), only restart it at `pause_until` —, close an
    unrated resolution at `rate_due_at`; follow a closed or withdrawn case up at
    `follow_up_due_at`, and record no answer at `follow_up_expires_at`.
    """
    status = Status(row["status"])
    times: list[str] = []
    if (
        status in _UNANSWERED
        and not row["first_response_at"]
        and not row["response_flagged_at"]
        and row["response_due_at"]
    ):
        times.append(str(row["response_due_at"]))
    if status in OPEN and row.get("paused_at"):
        # 待补充: no reminder nor escalation while the clock stands still; resume at the latest
        if row.get("pause_until"):
            times.append(str(row["pause_until"]))
    elif status in OPEN:
        due, escalation = row["due_at"], int(row["escalation"] or 0)
        if due and not row["reminded_at"] and from_db(str(due)) > now:
            times.append(to_db(from_db(str(due)) - remind_before))
        if due and escalation < 1:
            times.append(str(due))
        if row["level2_due_at"] and escalation < 2:
            times.append(str(row["level2_due_at"]))
    if status == Status.RESOLVED and row["rate_due_at"]:
        times.append(str(row["rate_due_at"]))
    if status in _FINISHED and not row.get("follow_up_result"):
        if not row.get("follow_up_asked_at") and row.get("follow_up_due_at"):
            times.append(str(row["follow_up_due_at"]))
        elif row.get("follow_up_expires_at"):
            times.append(str(row["follow_up_expires_at"]))
    return min(times) if times else None
