"""Reports over many cases: the yearly report, the XLSX ledger, 共性问题 alone.

    .venv/bin/python bench/reports.py [--cases 100000] [--ledger 10000]

The cases and their timelines are made with set-based SQL (a recursive CTE), spread over
2026 in 40 member groups and 4,000 enterprises: 6 events a case on average (opened,
claimed, answered, resolved, rated, closed; some escalated, reopened, withdrawn or still
open). Descriptions are one of the 44 sample problems of tests/data/common_issues.tsv
followed by six random characters, so no two are alike and 共性问题 has to compare them
(the worst case for the wording groups). Prints the time of `compute` for the year (every
figure, breakdowns, overdue list, 共性问题 over the last 3 months) and of `write_ledger`
for the first `--ledger` cases of the year, each against its target (≤ 2 s, ≤ 5 s), with
the process's CPU time beside the wall time (the machine may be shared), the load average
before and after, and the floor under the ledger: openpyxl alone writing the same cells.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.xlsx_writers import WRITERS, Sheets, same_dates  # noqa: E402
from bot.clock import FrozenClock  # noqa: E402
from bot.config import parse_config  # noqa: E402
from chamberbot.root import sections  # noqa: E402
from chamberbot.root import services as build_services  # noqa: E402
from handlers.cases.service import TIMELINE_COLUMNS, created_between, ledger_rows  # noqa: E402
from handlers.reports.figures import compute  # noqa: E402
from handlers.reports.ledger import write_ledger  # noqa: E402
from handlers.reports.period import Period  # noqa: E402
from handlers.reports.settings import report_settings  # noqa: E402
from handlers.reports.similar import common_issues  # noqa: E402
from handlers.reports.text import labels  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")
SAMPLE = ROOT / "tests" / "data" / "common_issues.tsv"
CATEGORIES = [
    ("市场环境", "融资信贷", "经济处"),
    ("市场环境", "拖欠账款", "经济处"),
    ("政务环境", "审批服务", "经济处"),
    ("政务环境", "惠企政策", "经济处"),
    ("政务环境", "基础设施", "经济处"),
    ("法治环境", "合同纠纷", "法律处"),
    ("法治环境", "执法检查", "法律处"),
    ("创新环境", "人才用工", "政研室"),
    ("其他", "", "秘书处"),
]

_CASES = """
with recursive n(i) as (select 1 union all select i + 1 from n where i < :count),
base as (
  select i, abs(random()) % 100 as fate,
    datetime('2026-01-01', '+' || (i * 365 * 86400 / :count) || ' seconds') as t
  from n
)
insert into cases (id, number, year, seq, reporter_id, reporter_name, enterprise,
  conversation_id, conversation_is_group, description, category, aspect, department,
  assignee_id, assignee_name, status, escalation, reopen_count, rating, created_at,
  updated_at, first_response_at, response_due_at, due_at, level2_due_at, resolved_at,
  closed_at, close_reason, channel)
select i, printf('2026-%05d', i), 2026, i, 'wxid_m' || (i % 4000), '会员' || (i % 4000),
  '企业' || (i % 4000) || '有限公司', 'room_' || (i % 40), 1,
  (select text from sample where k = i % :samples) || char(19968 + abs(random()) % 20000,
    19968 + abs(random()) % 20000, 19968 + abs(random()) % 20000,
    19968 + abs(random()) % 20000, 19968 + abs(random()) % 20000,
    19968 + abs(random()) % 20000),
  c.category, c.aspect, c.department, 'wxid_wang', '王科长',
  case when fate < 5 then 'withdrawn' when fate < 15 then 'in_progress'
       when fate < 20 then 'resolved' else 'closed' end,
  case when fate between 5 and 9 then 2 when fate between 10 and 19 then 1 else 0 end,
  case when fate % 7 = 0 then 1 else 0 end,
  case when fate < 20 then null when fate < 60 then 'satisfied' when fate < 80 then 'basic'
       when fate < 90 then 'unrated' else 'unsatisfied' end,
  strftime('%Y-%m-%dT%H:%M:%S+00:00', t), strftime('%Y-%m-%dT%H:%M:%S+00:00', t),
  strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+' || (fate % 30) || ' hours'),
  strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+24 hours'),
  strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+14 days'),
  strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+21 days'),
  case when fate >= 15
    then strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+' || (fate % 20) || ' days') end,
  case when fate < 5 then strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+1 hours')
       when fate >= 20
    then strftime('%Y-%m-%dT%H:%M:%S+00:00', t, '+' || (fate % 20 + 3) || ' days') end,
  case when fate < 5 then 'withdrawn' when fate >= 20 then 'rated' end, 'wechat'
from base join cat c on c.k = base.i % :cats
"""

# One row per event kind per case, where the case's fate has that step.
_EVENTS = """
insert into case_events (case_id, kind, actor_id, actor_name, at, text, data)
select c.id, k.kind, 'wxid_wang', '王科长',
  case k.kind when 'opened' then c.created_at when 'claimed' then c.first_response_at
    when 'answered' then c.first_response_at
    when 'escalated' then c.due_at
    when 'reopened' then c.resolved_at when 'rated' then c.closed_at
    when 'resolved' then c.resolved_at else c.closed_at end,
  k.kind, case k.kind when 'escalated' then '{"level": ' || c.escalation || '}'
    when 'rated' then '{"rating": "' || c.rating || '"}' else '{}' end
from cases c join (select 'opened' as kind union all select 'claimed' union all
  select 'answered' union all select 'escalated' union all select 'resolved' union all
  select 'rated' union all select 'closed' union all select 'withdrawn') k
where (k.kind in ('opened', 'claimed', 'answered'))
   or (k.kind = 'escalated' and c.escalation > 0)
   or (k.kind = 'resolved' and c.resolved_at is not null)
   or (k.kind = 'rated' and c.rating in ('satisfied', 'basic', 'unsatisfied'))
   or (k.kind = 'closed' and c.status = 'closed')
   or (k.kind = 'withdrawn' and c.status = 'withdrawn')
order by c.id
"""


def fill(services: object, count: int) -> None:
    """`count` cases over 2026 and their timelines (bench/ledger_latency.py uses it too)."""
    db = services.db  # type: ignore[attr-defined]
    lines = [ln for ln in SAMPLE.read_text("utf-8").splitlines() if not ln.startswith("#")]
    texts = [ln.split("\t", 1)[1] for ln in lines]
    with db.atomic():
        db.execute("create temp table sample (k integer primary key, text text)")
        db.conn.executemany("insert into sample values (?, ?)", list(enumerate(texts)))
        db.execute("create temp table cat (k integer primary key, category, aspect, department)")
        db.conn.executemany(
            "insert into cat values (?, ?, ?, ?)", [(i, *c) for i, c in enumerate(CATEGORIES)]
        )
        db.execute(_CASES, {"count": count, "samples": len(texts), "cats": len(CATEGORIES)})
        db.execute(_EVENTS)
        db.conn.executemany(
            "insert into conversations (id, is_group, topic, kind, tags, first_seen, updated_at)"
            " values (?, 1, ?, 'member', '[]', '2026-01-01', '2026-01-01')",
            [(f"room_{i}", f"会员{i}群") for i in range(40)],
        )
    db.execute("analyze")


def _load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _verdict(took: float, target: float) -> str:
    return f"target ≤ {target:g} s: {'met' if took <= target else 'NOT met'}"


def _timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """fn(), its wall time and the process's CPU time (all threads) while it ran."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def _writers(sheets: Sheets, scratch: Path) -> tuple[float, float]:
    """Each candidate writer (bench/xlsx_writers.py) writing the ledger's two big sheets, in
    one run, against openpyxl write-only of the same run; returns openpyxl's wall and CPU
    time."""
    base = base_cpu = 0.0
    for name, write in WRITERS.items():
        path = scratch / f"{name.split()[0]}.xlsx"
        try:
            _, took, cpu = _timed(lambda w=write, p=path: w(sheets, p))  # type: ignore[misc]
        except ImportError:
            print(f"  {name}: not installed")
            continue
        base, base_cpu = base or took, base_cpu or cpu
        dates = "dates read back as dates" if same_dates(path) else "dates NOT read back"
        print(
            f"  {name}: {took:.2f} s (CPU {cpu:.2f} s), {base / took:.1f}× openpyxl"
            f" write-only ({base_cpu / cpu:.1f}× by CPU), {path.stat().st_size / 1e6:.1f} MB,"
            f" {dates}"
        )
    return base, base_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=10_000)
    args = parser.parse_args()
    config = parse_config(
        yaml.safe_load((ROOT / "bot/demo/config.yaml").read_text("utf-8")), "demo", sections()
    )
    now = datetime(2027, 1, 1, 9, 0, tzinfo=TZ)
    print(f"load average (1 / 5 / 15 min) at start: {_load()} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as scratch:
        services = build_services(
            config, db_path=Path(scratch) / "bench.db", clock=FrozenClock(now)
        )
        db = services.db
        _, took, _ = _timed(lambda: fill(services, args.cases))
        events = db.execute("select count(*) from case_events").fetchone()[0]
        print(f"built {args.cases:,} cases, {events:,} events in {took:.1f} s")

        year = Period.of_days(date(2026, 1, 1), date(2026, 12, 31), TZ)
        report, took, cpu = _timed(lambda: compute(db, config, year, now))
        t = report.totals
        print(
            f"yearly report over {t.opened:,} cases: {took:.2f} s ({_verdict(took, 2)};"
            f" CPU {cpu:.2f} s) — received {t.received:,}, 办结率 {t.resolved.pct}%,"
            f" 响应率 {t.responded.pct}%, 满意率 {t.satisfaction.pct}%,"
            f" overdue {len(report.overdue):,}, 共性问题 {len(report.common)}"
        )
        _, took, _ = _timed(lambda: common_issues(db, report_settings(config), now))
        print(
            f"  共性问题 alone (last 3 months, unique wording): {took:.2f} s"
            " (inside the report it runs in a thread beside the SQL)"
        )

        # The ledger: the first `--ledger` cases of the year, as one period.
        cut = db.execute(
            "select created_at from cases order by id limit 1 offset ?", [args.ledger - 1]
        ).fetchone()[0]
        last = datetime.fromisoformat(cut).astimezone(TZ).date()
        span = Period.of_days(date(2026, 1, 1), last, TZ)
        month = compute(db, config, span, now)
        out = Path(scratch) / "l.xlsx"
        render = services.templates.render
        rows, took, cpu = _timed(lambda: write_ledger(db, render, config, month, out))
        size = out.stat().st_size
        selection = created_between(month.period.start, month.period.end)
        ledger = ledger_rows(db, labels(render), config.tz, month.cutoff, selection)
        cases, timeline = ledger.rows, ledger.timeline
        cells = sum(len(r) for r in cases) + sum(len(r) for r in timeline)
        print(
            f"XLSX ledger of {rows:,} cases and their {len(timeline):,} events ({cells:,}"
            f" cells): {took:.2f} s ({_verdict(took, 5)}; CPU {cpu:.2f} s), {size / 1e6:.1f} MB"
        )
        print("  the same two sheets (台账, 办理记录: header, widths, frozen, filtered, dates)")
        lab = labels(render)
        heads = [lab[f"ev.{k}"] for k in TIMELINE_COLUMNS]
        sheets: Sheets = [
            (lab["sheet.ledger"], ledger.header, ledger.widths, cases),
            (lab["sheet.timeline"], heads, list(TIMELINE_COLUMNS.values()), timeline),
        ]
        base, base_cpu = _writers(sheets, Path(scratch))
        ratio = base / took
        print(
            f"  the ledger (write_ledger, all three sheets and their rows) is {ratio:.2f}× as"
            f" fast as openpyxl write-only (target ≥ 2×: {'met' if ratio >= 2 else 'NOT met'});"
            f" by CPU time {base_cpu / cpu:.2f}× (less disturbed by other work on the machine)"
        )
        services.close()
    print(f"load average at end: {_load()}")


if __name__ == "__main__":
    main()
