"""A burst of 诉求 over the test gateway while the bot is `kill -9`ed and restarted.

Used by tests/test_chaos.py (a few hundred reports, 2 kills) and bench/chaos.py (1,000
reports, 3 kills). Loopback only; the bot is killed by PID. Members' enterprises are in
the database before the bot first starts, so every report opens a case at once.

While the bot is down the gateway has no event stream and drops what is said (so does a
real puppet-service gateway): the burst pauses from each kill until the restarted bot is
logged in. A report counts as *on the stream* when the gateway answered its `/say` more
than `WINDOW` seconds before the next kill; each of those must have exactly one case and
one acknowledgement. The ones inside the window may be lost, never doubled.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.db import open_db
from tests.gateway_harness import STAFF, Bot, Gateway, wait_for, write_config

WINDOW = 0.1
MEMBERS = [(f"wxid_m{i}", f"会员{'甲乙丙丁戊己'[i]}", f"第{i + 1}机械有限公司") for i in range(6)]
GROUPS = [f"chaos{g}@chatroom" for g in range(3)]


class Sent(Protocol):
    """What a network received from the bot: conversation_id and text of each message."""

    def sent(self) -> list[dict[str, Any]]: ...


@dataclass
class Report:
    tag: str
    sender: str
    room: str
    said_at: float  # wall clock when the gateway had emitted it


@dataclass
class Outcome:
    reports: list[Report]
    kills: list[float]
    reconnects: list[float]  # seconds from starting the bot again to its login
    cases: dict[str, list[str]]  # tag → case numbers
    acks: dict[str, int]  # tag → acknowledgements the gateway received
    ack_status: dict[str, str]  # tag → the ack's outbox status
    sent: list[dict[str, Any]]
    integrity: str
    windows_ms: list[float]  # journal: frame read → its batch committed
    leftover_journal: int
    unknown_notices: int
    failed_notices: int
    logs: list[str] = field(default_factory=list)

    def strict(self, window: float = WINDOW) -> list[Report]:
        """Reports on the stream more than `window` s before any later kill."""
        out = []
        for r in self.reports:
            later = [k for k in self.kills if k >= r.said_at]
            if not later or later[0] - r.said_at > window:
                out.append(r)
        return out

    def doubled(self) -> int:
        return sum(
            n - 1 for n in Counter((m["conversation_id"], m["text"]) for m in self.sent).values()
        )


def seed(db_path: Path) -> None:
    db = open_db(db_path)
    with db.atomic():
        for contact_id, name, enterprise in MEMBERS:
            db.execute(
                "insert into contacts (id, name, enterprise) values (?, ?, ?)",
                [contact_id, name, enterprise],
            )
    db.close()


def _start(config: Path, folder: Path, n: int) -> tuple[Bot, float]:
    began = time.monotonic()
    bot = Bot(config, folder / f"bot{n}.log")
    bot.wait_log("logged in to WeChat as", timeout=30)
    return bot, time.monotonic() - began


def run(folder: Path, reports: int, kills: int) -> Outcome:
    gw = Gateway(folder / "gateway.log")
    bots: list[Bot] = []
    try:
        gw.populate()
        for contact_id, name, _ in MEMBERS:
            gw.post("/contacts", id=contact_id, name=name)
        for g, room in enumerate(GROUPS):
            gw.post("/rooms", id=room, topic=f"会员{g + 1}群", member_ids=[m[0] for m in MEMBERS])
        config = write_config(folder, gw.endpoint, gw.token)
        db_path = folder / "data" / "chamberbot.db"
        seed(db_path)
        bot, _ = _start(config, folder, 0)
        bots.append(bot)
        at_kill = {reports * (k + 1) // (kills + 1) for k in range(kills)}
        said: list[Report] = []
        killed: list[float] = []
        reconnects: list[float] = []
        for i in range(reports):
            if i in at_kill:
                killed.append(bots[-1].kill())
                bot, seconds = _start(config, folder, len(bots))
                bots.append(bot)
                reconnects.append(seconds)
            contact_id = MEMBERS[i % len(MEMBERS)][0]
            room = GROUPS[i % len(GROUPS)]
            tag = f"R{i:04d}号"
            gw.say(contact_id, f"诉求 {tag} 园区道路破损，货车进出困难", room, mention_bot=True)
            said.append(Report(tag, contact_id, room, time.time()))
        outcome = settle(gw, db_path, said, killed, reconnects)
        bots[-1].stop()
        outcome.integrity = _integrity(db_path)
        outcome.logs = [b.log() for b in bots]
        return outcome
    finally:
        for bot in bots:
            bot.stop()
        gw.close()


def _read(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10) as con:
        return con.execute(sql, params).fetchall()


def settle(
    gw: Sent, db_path: Path, said: list[Report], killed: list[float], reconnects: list[float]
) -> Outcome:
    def quiet() -> bool:
        busy = _read(
            db_path,
            "select (select count(*) from outbox where status in ('pending', 'sending'))"
            " + (select count(*) from journal where status in ('raw', 'ready'))",
        )[0][0]
        return busy == 0

    wait_for(quiet, "the journal and the outbox to settle", timeout=120, every=0.1)
    rows = _read(db_path, "select number, description from cases")
    outbox = _read(db_path, "select conversation_id, text, status from outbox")
    sent = gw.sent()
    cases: dict[str, list[str]] = {r.tag: [] for r in said}
    for number, description in rows:
        for tag in cases:
            if tag in description:
                cases[tag].append(number)
    acks: dict[str, int] = {}
    status: dict[str, str] = {}
    for r in said:
        marks = [f"编号 {n}，" for n in cases[r.tag]]
        acks[r.tag] = sum(
            1
            for m in sent
            if m["conversation_id"] == r.room and any(k in m["text"] for k in marks)
        )
        found = [s for c, t, s in outbox if c == r.room and any(k in t for k in marks)]
        status[r.tag] = ",".join(found)
    windows = [
        (c - r) * 1000
        for r, c in _read(db_path, "select read_at, committed_at from journal")
        if r and c
    ]
    left = _read(db_path, "select count(*) from journal where status in ('raw', 'ready')")[0][0]
    staff = [m["text"] for m in sent if m["conversation_id"] == STAFF]
    return Outcome(
        reports=said,
        kills=killed,
        reconnects=reconnects,
        cases=cases,
        acks=acks,
        ack_status=status,
        sent=sent,
        integrity="",
        windows_ms=windows,
        leftover_journal=left,
        unknown_notices=sum("未确认送达" in t for t in staff),
        failed_notices=sum("未能送达" in t for t in staff),
    )


def handled(db_path: Path) -> int:
    """How many journalled messages have been handled."""
    return int(_read(db_path, "select count(*) from journal where status = 'handled'")[0][0])


def _integrity(db_path: Path) -> str:
    return str(_read(db_path, "pragma integrity_check")[0][0])
