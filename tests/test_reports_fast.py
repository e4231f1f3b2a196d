"""The report's fast paths give what the plain definitions give, to the last bit.

- `clean_all` (one pass over all descriptions) is `clean` of each.
- `working_hours_sql` (integer day keys, Unix seconds) is the working-hours formula over
  SQLite's `julianday()` of the local text times, as the report first computed it.
- 共性问题 read through a second connection (a file) or the report's own (in memory).
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.workdays import is_workday
from handlers.reports import compute
from handlers.reports.similar import clean, clean_all
from handlers.reports.workhours import day_number, working_hours_sql
from tests.conftest import ChatBot
from tests.test_reports import DEC, build, december

SAMPLE = Path(__file__).resolve().parent / "data" / "common_issues.tsv"


def test_clean_all_is_clean_of_each_text() -> None:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    texts = [line.split("\t", 1)[1] for line in lines if not line.startswith("#")]
    texts += [
        "",
        "\n",
        "路燈壞了\n一個月，電話１３８",  # Traditional, a line break, full-width digits
        "Ａ\u0301bc",  # a full-width letter with a combining accent: NFKC composes them
        "e,\u0301",  # a combining accent after punctuation
        "\u0301開頭",  # a text that starts with a combining mark
        "ΟΔΟΣ\nΣ",  # final sigma, by context
        "가\u11a8 \u1100\u1161",  # Hangul jamo compose
        "ｶﾞｷﾞ①②㍿ﬁ",  # half-width kana, circled digits, compatibility characters
        "x\r\ny\u3000z",
    ]
    rng = random.Random(12)
    pool = [chr(c) for c in [*range(0x20, 0x250), *range(0x300, 0x370), *range(0xFF00, 0xFFEF)]]
    pool += list("路燈壞个個了\n\r")
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 10))) for _ in range(2000)]
    assert clean_all(texts) == [clean(t) for t in texts]
    assert clean_all([]) == []


def _julianday_hours(start: str, end: str, x: str, y: str) -> str:
    """The formula over julianday() of local text times and a days table keyed by date."""
    return (
        f"max(0, case when {x}.d = {y}.d then {x}.w * (julianday({end}) - julianday({start}))"
        f" else {x}.w * (julianday({x}.d, '+1 day') - julianday({start}))"
        f" + {y}.w * (julianday({end}) - julianday({y}.d))"
        f" + ({y}.cum - {x}.cum - {x}.w) end * 24)"
    )


def test_working_hours_sql_is_the_julianday_formula_bit_for_bit() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("create table by_date (d text primary key, w integer, cum integer)")
    db.execute("create table by_number (n integer primary key, w integer, cum integer)")
    before, day = 0, date(2025, 12, 20)
    while day <= date(2026, 12, 31):  # the New Year, Spring Festival, 调休 Sundays …
        work = int(is_workday(day))
        db.execute("insert into by_date values (?, ?, ?)", (day.isoformat(), work, before))
        db.execute("insert into by_number values (?, ?, ?)", (day_number(day), work, before))
        before += work
        day += timedelta(days=1)
    rng = random.Random(7)
    origin = datetime(2025, 12, 25, tzinfo=UTC).timestamp()
    pairs = []
    for _ in range(3000):
        start = int(origin) + rng.randrange(0, 300 * 86400)
        length = rng.choice([0, 1, 59, 3600, 86399, 86400]) + rng.randrange(0, 40 * 86400)
        pairs.append((start, start + rng.choice([length, -rng.randrange(0, 86400)])))
    db.execute("create table t (s integer, e integer, s_text text, e_text text)")
    db.executemany(
        "insert into t values (?, ?, datetime(?, 'unixepoch'), datetime(?, 'unixepoch'))",
        [(s, e, s, e) for s, e in pairs],
    )
    off = 8 * 3600
    plain = _julianday_hours(
        "datetime(t.s_text, '+480 minutes')", "datetime(t.e_text, '+480 minutes')", "x", "y"
    )
    old = db.execute(
        f"select {plain} from t"
        " join by_date x on x.d = date(datetime(t.s_text, '+480 minutes'))"
        " join by_date y on y.d = date(datetime(t.e_text, '+480 minutes')) order by t.rowid"
    ).fetchall()
    fast = working_hours_sql(f"(t.s + {off})", f"(t.e + {off})", "x", "y")
    new = db.execute(
        f"select {fast} from t join by_number x on x.n = (t.s + {off}) / 86400"
        f" join by_number y on y.n = (t.e + {off}) / 86400 order by t.rowid"
    ).fetchall()
    assert len(old) == len(pairs)
    assert [v for (v,) in new] == [v for (v,) in old]  # exact float equality
    assert any(0 < v < 24 for (v,) in new)
    assert any(v == 0 for (v,) in new)


def test_a_database_in_memory_gives_the_same_report(bot: ChatBot) -> None:
    """共性问题 reads through a connection of its own when the database is a file; in
    memory it reads through the report's (the only one that sees the data)."""
    build(bot)
    december(bot)
    bot.clock.set(bot.clock.now() + timedelta(hours=1))
    app = bot.app
    in_memory = sqlite3.connect(":memory:")
    app.db.conn.backup(in_memory)
    try:
        on_file = compute(app.db, app.config, DEC, bot.clock.now())
        again = compute(Database(in_memory), app.config, DEC, bot.clock.now())
    finally:
        in_memory.close()
    assert repr(again) == repr(on_file)
    assert on_file.totals.opened == 2
    assert on_file.common  # the street lights, from three enterprises
