"""Multi-turn prompts: per (conversation, user) state in SQLite, with expiry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.db import to_db, to_json

__all__ = ["Prompt", "Sessions"]


@dataclass(frozen=True)
class Prompt:
    state: str
    data: dict[str, Any]
    expired: bool


class Sessions:
    """The `sessions` table's one writer (only the running bot asks questions).

    Every routed command clears its asker's prompt; the keys that have a row are memoised
    (read once, kept by ask/clear/purge), so clearing a prompt that is not there costs no
    statement. Whoever rolls back a transaction that asked or cleared calls `forget`.
    """

    def __init__(self, db: Database, ttl: timedelta) -> None:
        self.db = db
        self.ttl = ttl
        self._keys: set[tuple[str, str]] | None = None  # None: not read yet

    def _live(self) -> set[tuple[str, str]]:
        if self._keys is None:
            rows = self.db.execute("select conversation_id, user_id from sessions").fetchall()
            self._keys = {(r[0], r[1]) for r in rows}
        return self._keys

    def forget(self) -> None:
        self._keys = None

    def ask(
        self, conversation_id: str, user_id: str, state: str, now: datetime, **data: Any
    ) -> None:
        self.db.table("sessions").upsert(
            {
                "conversation_id": conversation_id,
                "user_id": user_id,
                "state": state,
                "data": to_json(data),
                "expires_at": to_db(now + self.ttl),
            },
            pk=("conversation_id", "user_id"),
        )
        self._live().add((conversation_id, user_id))

    def get(self, conversation_id: str, user_id: str, now: datetime) -> Prompt | None:
        rows = list(
            self.db.table("sessions").rows_where(
                "conversation_id = ? and user_id = ?", [conversation_id, user_id]
            )
        )
        if not rows:
            return None
        row = rows[0]
        return Prompt(row["state"], json.loads(row["data"]), row["expires_at"] <= to_db(now))

    def clear(self, conversation_id: str, user_id: str) -> None:
        live = self._live()
        if (conversation_id, user_id) not in live:
            return
        self.db.execute(
            "delete from sessions where conversation_id = ? and user_id = ?",
            [conversation_id, user_id],
        )
        live.discard((conversation_id, user_id))

    def purge(self, now: datetime, keep: timedelta = timedelta(days=1)) -> int:
        """Forget prompts that expired long ago (the sweep calls this)."""
        cursor = self.db.execute("delete from sessions where expires_at <= ?", [to_db(now - keep)])
        self._keys = None
        return cursor.rowcount
