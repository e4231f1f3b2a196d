"""Deadline counting: the per-year working-day sets vs chinese_calendar.is_workday per day.

    .venv/bin/python bench/workdays.py [--deadlines 10000]

Prints microseconds per deadline (10 working days from a spread of start dates in 2026)
for the old way (one chinese_calendar.is_workday call per calendar day) and for
bot.workdays.WorkCalendar.add (a set look-up per day, each year's set built once), and
checks that both give the same dates.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.workdays import WorkCalendar

TZ = ZoneInfo("Asia/Shanghai")
DAYS = 10


def per_call(start: datetime, days: int) -> datetime:
    current, remaining = start, days
    while remaining > 0:
        current += timedelta(days=1)
        if chinese_calendar.is_workday(current.date()):
            remaining -= 1
    return current


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deadlines", type=int, default=10_000)
    n = parser.parse_args().deadlines
    first = datetime(2026, 1, 1, 9, 0, tzinfo=TZ)
    starts = [first + timedelta(hours=7 * i % (24 * 330)) for i in range(n)]

    began = time.perf_counter()
    old = [per_call(s, DAYS) for s in starts]
    old_s = time.perf_counter() - began

    calendar = WorkCalendar()
    began = time.perf_counter()
    new = [calendar.add(s, DAYS)[0] for s in starts]
    new_s = time.perf_counter() - began

    assert old == new, "the two ways disagree"
    print(f"{n} deadlines of {DAYS} working days (2026), same dates both ways")
    print(f"chinese_calendar.is_workday per day: {old_s / n * 1e6:8.1f} µs per deadline")
    print(f"WorkCalendar per-year sets:          {new_s / n * 1e6:8.1f} µs per deadline")
    print(f"speed-up: {old_s / new_s:.1f}×")


if __name__ == "__main__":
    main()
