"""Per-operation cost at scale: 1,000,000 cases (100,000 of them open).

    .venv/bin/python bench/scale.py [--cases 1000000] [--open 100000] [--repeat 20]

Builds the database with set-based SQL (one INSERT … SELECT over a recursive counter,
after the migrations, so every index is maintained), then times, through the whole bot
path (`Dispatcher.handle`), an intake message, 进度 <编号>, 我的诉求, 待办 and each of its
filters, and one sweep pass with nothing due and with 3,000 cases due. Intake is also
timed on a database of 1,000 cases built the same way, for the ratio.

The open cases: a third unassigned, the rest spread over the staff; one in twenty past its
deadline (already reminded and escalated twice, so not due); the others due in 25 hours
or later, so that an idle pass has nothing to do.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from handlers.cases import CaseService

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.intake import START, TEXT, _app  # noqa: E402
from bot.db import to_db  # noqa: E402
from bot.dispatcher import Dispatcher  # noqa: E402
from bot.messages import Incoming  # noqa: E402
from bot.services import Services  # noqa: E402
from handlers.cases.deadlines import sweep  # noqa: E402
from handlers.cases.store import OPEN_SQL  # noqa: E402

STAFF = ("wxid_wang", "wxid_zhao", "wxid_qian")
REPORTERS = 20_000

# One row per counter value i (1 … total); the last `open` rows are this year's open cases.
# Times come from `hours` (START + h hours, stored form), a lookup rather than strftime.
_BUILD = """
with recursive n(i) as (select 1 union all select i + 1 from n where i < :total)
insert into cases (number, year, seq, reporter_id, reporter_name, enterprise, channel,
  conversation_id, conversation_is_group, description, category, aspect, department,
  assignee_id, assignee_name, status, escalation, reopen_count, created_at, updated_at,
  first_response_at, response_due_at, response_flagged_at, due_at, reminded_at,
  level2_due_at, closed_at, close_reason, next_action_at)
select printf('%d-%04d', year, seq), year, seq, 'm' || (i % :reporters), '会员', '测试企业',
  'wechat', 'room_members', 1, '历史诉求', '市场环境', '', '经济处',
  case when not open or i % 3 = 0 then null when i / 3 % 3 = 0 then :staff0
    when i / 3 % 3 = 1 then :staff1 else :staff2 end,
  case when open and i % 3 != 0 then '王科长' end,
  status, escalation, 0, created, created, first_response,
  (select at from hours where h = 25 + i % 30), null,
  case when late then (select at from hours where h = -1 - i % 500)
    else (select at from hours where h = 25 + i % 2000) end,
  case when late then created end,
  (select at from hours where h = 200 + i % 2000),
  case when open then null else :start end,
  case when open then null else 'rated' end,
  case when open and not late then min(
    (select at from hours where h = 1 + i % 2000),
    case when first_response is null then (select at from hours where h = 25 + i % 30)
      else '9999' end)
  end
from (
  select i, open, late, year, seq, status,
    case when late then 2 else 0 end as escalation,
    (select at from hours where h = -24 * (i % 300)) as created,
    case when open and status != 'new' then :start end as first_response
  from (
    select i, open, open and i % 20 = 0 as late,
      case when open then 2026 else 2016 + (i - 1) / 100000 end as year,
      case when open then i - (:total - :open) else (i - 1) % 100000 + 1 end as seq,
      case when not open then 'closed' when i % 3 = 0 then 'new'
        when i % 3 = 1 then 'accepted' else 'in_progress' end as status
    from (select i, i > :total - :open as open from n)
  )
)
"""


def build(app: Services, total: int, open_: int) -> float:
    """The rows in one statement; the indexes and triggers of `cases` are set aside
    meanwhile and made again from their own SQL (then the open counter is recounted)."""
    began = time.perf_counter()
    schema = app.db.execute(
        "select type, name, sql from sqlite_master where tbl_name = 'cases'"
        " and type in ('index', 'trigger') and sql is not null"
    ).fetchall()
    app.db.execute("create temp table hours (h integer primary key, at text)")
    app.db.conn.executemany(
        "insert into temp.hours values (?, ?)",
        [(h, to_db(START + timedelta(hours=h))) for h in range(-7200, 2300)],
    )
    with app.db.atomic():
        for kind, name, _sql in schema:
            app.db.execute(f"drop {kind} {name}")
        app.db.execute(
            _BUILD,
            {
                "total": total,
                "open": open_,
                "reporters": REPORTERS,
                "start": to_db(START),
                **{f"staff{k}": staff for k, staff in enumerate(STAFF)},
            },
        )
        for _kind, _name, sql in schema:
            app.db.execute(sql)
        app.db.execute("delete from open_cases")
        app.db.execute(
            "insert into open_cases select ifnull(assignee_id, ''), count(*) from cases"
            f" where {OPEN_SQL} group by 1"
        )
    return time.perf_counter() - began


class Bench:
    def __init__(self, folder: Path, total: int, open_: int) -> None:
        self.app, self.clock = _app(folder, 0)
        self.built = build(self.app, total, open_)
        self.dispatcher = Dispatcher(self.app)
        self.count = 0

    def say(self, text: str, sender: str, room: str) -> str:
        self.count += 1
        msg = Incoming(f"scale-{self.count}", room, True, sender, "测试", text, START)
        return "\n".join(o.text for o in self.dispatcher.handle(msg))

    def per_call(self, repeat: int, text: str, sender: str, room: str) -> float:
        """Median milliseconds of one message (after one untimed warm-up)."""
        self.say(text, sender, room)
        times = []
        for _ in range(repeat):
            self.clock.advance(timedelta(seconds=1))
            began = time.perf_counter()
            self.say(text, sender, room)
            times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000

    def intake(self, repeat: int) -> float:
        times = []
        for k in range(repeat + 1):
            sender = f"new{k}"
            self.app.people.remember(sender, name="新会员", enterprise="测试企业")
            self.clock.advance(timedelta(seconds=1))
            began = time.perf_counter()
            self.say(TEXT, sender, "room_members")
            times.append(time.perf_counter() - began)
        return statistics.median(times[1:]) * 1000

    def sweep_ms(self) -> tuple[float, int]:
        began = time.perf_counter()
        outs = sweep(self.app)
        return (time.perf_counter() - began) * 1000, len(outs)

    def make_due(self, count: int) -> None:
        """`count` open, unreminded cases enter their reminder window now."""
        now = self.clock.now()
        with self.app.db.atomic():
            self.app.db.execute(
                "update cases set due_at = ?, next_action_at = ? where id in (select id from"
                " cases where status = 'in_progress' and reminded_at is null"
                " and next_action_at is not null order by id limit ?)",
                [to_db(now + timedelta(hours=12)), to_db(now - timedelta(hours=12)), count],
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    r = args.repeat
    with tempfile.TemporaryDirectory() as small_dir:
        small = Bench(Path(small_dir), 1_000, 100)
        intake_1k = small.intake(r * 5)
        small.app.close()
    with tempfile.TemporaryDirectory() as folder:
        big = Bench(Path(folder), args.cases, args.open)
        print(f"built {args.cases:,} cases ({args.open:,} open) in {big.built:.1f} s")
        intake_big = big.intake(r * 5)
        print(f"intake, 1,000 cases:        {intake_1k:8.3f} ms/message")
        print(
            f"intake, {args.cases:,} cases:   {intake_big:8.3f} ms/message"
            f"  ({intake_big / intake_1k:.2f} x)"
        )
        number = f"2026-{args.open // 2:04d}"
        owner = big.app.service(CaseService).find(number, START, "", staff=True).reporter_id
        rows = [
            (f"进度 {number}", owner, "room_members"),
            ("我的诉求", owner, "room_members"),
            ("待办", "wxid_wang", "room_staff"),
            ("待办 超期", "wxid_wang", "room_staff"),
            ("待办 未分配", "wxid_wang", "room_staff"),
            ("待办 我的", "wxid_wang", "room_staff"),
        ]
        for text, sender, room in rows:
            label = text.replace(number, "<编号>")
            print(f"{label:<14}              {big.per_call(r, text, sender, room):8.3f} ms")
        big.sweep_ms()  # the first pass after building: nothing is due either
        idle = [big.sweep_ms()[0] for _ in range(r)]
        print(f"sweep pass, nothing due:    {statistics.median(idle):8.3f} ms")
        big.make_due(3000)
        busy, sent = big.sweep_ms()
        print(f"sweep pass, 3,000 due:      {busy:8.1f} ms ({sent} messages queued)")
        big.app.close()


if __name__ == "__main__":
    main()
