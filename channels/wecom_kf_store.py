"""What the 微信客服 adapter keeps in the bot's SQLite file, in tables of its own (its own
`Migrations` set, applied when the adapter is built): the `sync_msg` cursor, each
customer's reply window and session state, and the callbacks already seen (replays)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.db import from_db, to_db

__all__ = ["HUMAN", "MIGRATIONS", "KfStore", "Session"]

MIGRATIONS = Migrations("wecom_kf")

#: kf/service_state: 0 unhandled, 1 智能助手 (the bot), 2 queued, 3 a human servicer, 4 ended
UNHANDLED, BOT, QUEUED, HUMAN, ENDED = 0, 1, 2, 3, 4


@MIGRATIONS()
def m001_kf(db: Database) -> None:
    db.table("wecom_kf_cursor").create({"open_kfid": str, "cursor": str}, pk="open_kfid")
    db.table("wecom_kf_sessions").create(
        {
            "user": str,
            "last_in_at": str,  # the customer's last message: the window opens
            "sent": int,  # messages the bot sent in this window
            "state": int,
            "servicer": str,
        },
        pk="user",
        defaults={"sent": 0, "state": 0},
    )
    db.table("wecom_kf_callbacks").create({"signature": str, "at": str}, pk="signature")


@dataclass(frozen=True)
class Session:
    user: str
    last_in_at: datetime | None
    sent: int
    state: int
    servicer: str

    def window_left(self, now: datetime, hours: float, limit: int) -> int:
        """How many messages may still go in the reply window (0: closed)."""
        if self.last_in_at is None or now >= self.last_in_at + timedelta(hours=hours):
            return 0
        return max(0, limit - self.sent)


class KfStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        MIGRATIONS.apply(db)

    def cursor(self, open_kfid: str) -> str:
        row = self.db.execute(
            "select cursor from wecom_kf_cursor where open_kfid = ?", [open_kfid]
        ).fetchone()
        return str(row[0]) if row else ""

    def set_cursor(self, open_kfid: str, cursor: str) -> None:
        with self.db.atomic():
            self.db.execute(
                "insert into wecom_kf_cursor (open_kfid, cursor) values (?, ?)"
                " on conflict (open_kfid) do update set cursor = excluded.cursor",
                [open_kfid, cursor],
            )

    def session(self, user: str) -> Session:
        row = self.db.execute(
            "select last_in_at, sent, state, servicer from wecom_kf_sessions where user = ?",
            [user],
        ).fetchone()
        if row is None:
            return Session(user, None, 0, UNHANDLED, "")
        return Session(user, from_db(row[0]) if row[0] else None, row[1], row[2], row[3] or "")

    def customer_wrote(self, user: str, at: datetime) -> None:
        """A new window: 0 sent since the customer's message at `at`."""
        self._upsert(user, "last_in_at = ?, sent = 0", [to_db(at)])

    def sent_one(self, user: str) -> None:
        self._upsert(user, "sent = sent + 1", [])

    def window_used_up(self, user: str, limit: int) -> None:
        """The vendor said the window is spent (95001) though we counted less."""
        self._upsert(user, "sent = max(sent, ?)", [limit])

    def set_state(self, user: str, state: int, servicer: str = "") -> None:
        self._upsert(user, "state = ?, servicer = ?", [state, servicer])

    def first_callback(self, signature: str, at: datetime) -> bool:
        """Whether a callback (by its signature) is new; old ones are forgotten after a week."""
        with self.db.atomic():
            self.db.execute(
                "delete from wecom_kf_callbacks where at < ?", [to_db(at - timedelta(days=7))]
            )
            return bool(
                self.db.execute(
                    "insert or ignore into wecom_kf_callbacks (signature, at) values (?, ?)",
                    [signature, to_db(at)],
                ).rowcount
            )

    def _upsert(self, user: str, assignments: str, params: list[object]) -> None:
        with self.db.atomic():
            self.db.execute("insert or ignore into wecom_kf_sessions (user) values (?)", [user])
            self.db.execute(
                f"update wecom_kf_sessions set {assignments} where user = ?", [*params, user]
            )
