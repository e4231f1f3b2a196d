"""The console's own tables (`Migrations("chamberbot.web")`) and its accounts.

An account is a login name linked to a staff contact id and a role (staff / admin). Its
password is stored as an argon2id hash; five failed logins in a row lock it for fifteen
minutes (`LOCK_AFTER`, `LOCK_FOR`), measured on the app's injected clock.

A login is a row of `web_sessions` (a random id, the only thing the signed cookie carries
for it): the server ends it — logging out ends that one; a new password, the account's
removal or a lock-out end all of the account's — so a copied cookie opens nothing after.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.db import from_db, to_db

__all__ = [
    "LOCK_AFTER",
    "LOCK_FOR",
    "MIGRATIONS",
    "Accounts",
    "Login",
    "User",
    "WebRole",
    "session_secret",
]

MIGRATIONS = Migrations("chamberbot.web")
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
_HASHER = PasswordHasher()


@MIGRATIONS()
def m001_web_users(db: Database) -> None:
    db.table("web_users").create(
        {
            "id": int,
            "username": str,
            "contact_id": str,
            "role": str,  # staff | admin
            "password_hash": str,
            "failed_logins": int,
            "locked_until": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"username", "contact_id", "role", "password_hash", "created_at"},
        defaults={"failed_logins": 0},
    )
    db.table("web_users").create_index(["username"], unique=True)
    db.table("web_meta").create({"key": str, "value": str}, pk="key")


@MIGRATIONS()
def m002_ledger_indexes(db: Database) -> None:
    """The ledger's filters, each read newest first."""
    for column in ("status", "department", "assignee_id", "conversation_id", "category"):
        db.table("cases").create_index([column, "id"], if_not_exists=True)


@MIGRATIONS()
def m003_web_sessions(db: Database) -> None:
    """Logins the server can end (see the module's docstring)."""
    db.table("web_sessions").create(
        {"id": str, "user_id": int, "created_at": str},
        pk="id",
        not_null={"user_id", "created_at"},
        foreign_keys=[("user_id", "web_users", "id")],
    )
    db.table("web_sessions").create_index(["user_id"])


class WebRole(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    contact_id: str
    role: WebRole

    @property
    def is_admin(self) -> bool:
        return self.role == WebRole.ADMIN


class Login(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown name or wrong password: one answer for both
    LOCKED = "locked"


def session_secret(db: Database) -> str:
    """The key that signs session cookies: made once, kept in the database."""
    row = db.execute("select value from web_meta where key = 'session_secret'").fetchone()
    if row:
        return str(row[0])
    secret = secrets.token_urlsafe(32)
    with db.atomic():
        db.execute(
            "insert or ignore into web_meta (key, value) values ('session_secret', ?)", [secret]
        )
    return session_secret(db)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


class Accounts:
    def __init__(self, db: Database) -> None:
        self.db = db
        MIGRATIONS.apply(db)

    @staticmethod
    def _user(row: dict[str, object]) -> User:
        return User(
            int(str(row["id"])),
            str(row["username"]),
            str(row["contact_id"]),
            WebRole(str(row["role"])),
        )

    def _row(self, username: str) -> dict[str, object] | None:
        rows = list(self.db.table("web_users").rows_where("username = ?", [username], limit=1))
        return rows[0] if rows else None

    def get(self, user_id: int) -> User | None:
        """The account of a session (every request): one indexed lookup, plain SQL."""
        row = self.db.execute(
            "select id, username, contact_id, role from web_users where id = ?", [user_id]
        ).fetchone()
        return User(int(row[0]), str(row[1]), str(row[2]), WebRole(str(row[3]))) if row else None

    def open_session(self, user: User, now: datetime) -> str:
        """A new login of `user`: the id its cookie carries."""
        sid = secrets.token_urlsafe(32)
        with self.db.atomic():
            self.db.execute(
                "insert into web_sessions (id, user_id, created_at) values (?, ?, ?)",
                [sid, user.id, to_db(now)],
            )
        return sid

    def session_user(self, sid: str, since: datetime) -> User | None:
        """The account of a login opened after `since` that the server has not ended
        (every request: one indexed lookup)."""
        row = self.db.execute(
            "select u.id, u.username, u.contact_id, u.role from web_sessions s"
            " join web_users u on u.id = s.user_id where s.id = ? and s.created_at > ?",
            [sid, to_db(since)],
        ).fetchone()
        return User(int(row[0]), str(row[1]), str(row[2]), WebRole(str(row[3]))) if row else None

    def close_session(self, sid: str) -> None:
        with self.db.atomic():
            self.db.execute("delete from web_sessions where id = ?", [sid])

    def _end_sessions(self, where: str, value: object) -> None:
        """End every login of the account(s) matching `where` (in the caller's write)."""
        self.db.execute(
            f"delete from web_sessions where user_id in (select id from web_users where {where})",
            [value],
        )

    def find(self, username: str) -> User | None:
        row = self._row(username)
        return self._user(row) if row else None

    def all(self) -> list[User]:
        return [self._user(r) for r in self.db.table("web_users").rows_where(order_by="username")]

    def add(
        self, username: str, contact_id: str, role: WebRole, password: str, now: datetime
    ) -> User:
        with self.db.atomic():
            self.db.table("web_users").insert(
                {
                    "username": username,
                    "contact_id": contact_id,
                    "role": role.value,
                    "password_hash": hash_password(password),
                    "failed_logins": 0,
                    "created_at": to_db(now),
                    "updated_at": to_db(now),
                }
            )
        user = self.find(username)
        assert user is not None
        return user

    def set_password(self, username: str, password: str, now: datetime) -> bool:
        """A new password; every login of the account ends."""
        with self.db.atomic():
            self._end_sessions("username = ?", username)
            return bool(
                self.db.execute(
                    "update web_users set password_hash = ?, failed_logins = 0,"
                    " locked_until = null, updated_at = ? where username = ?",
                    [hash_password(password), to_db(now), username],
                ).rowcount
            )

    def remove(self, username: str) -> bool:
        with self.db.atomic():
            self._end_sessions("username = ?", username)
            return bool(
                self.db.execute("delete from web_users where username = ?", [username]).rowcount
            )

    def stored_hash(self, username: str) -> str | None:
        row = self._row(username)
        return str(row["password_hash"]) if row else None

    def locked_until(self, username: str, now: datetime) -> datetime | None:
        row = self._row(username)
        if not row or not row["locked_until"]:
            return None
        until = from_db(str(row["locked_until"]))
        return until if until > now else None

    def login_result(self, username: str, password_ok: bool, now: datetime) -> Login:
        """Count a login attempt whose password was checked (see `check_password`)."""
        row = self._row(username)
        if row is None:
            return Login.WRONG
        if self.locked_until(username, now):
            return Login.LOCKED
        with self.db.atomic():
            if password_ok:
                self.db.execute(
                    "update web_users set failed_logins = 0, locked_until = null where id = ?",
                    [row["id"]],
                )
                return Login.OK
            failed = int(str(row["failed_logins"] or 0)) + 1
            locked = to_db(now + LOCK_FOR) if failed >= LOCK_AFTER else None
            self.db.execute(
                "update web_users set failed_logins = ?, locked_until = ? where id = ?",
                [0 if locked else failed, locked, row["id"]],
            )
            if locked:  # someone is guessing: whoever is logged in as it logs in again
                self._end_sessions("id = ?", row["id"])
        return Login.LOCKED if locked else Login.WRONG
