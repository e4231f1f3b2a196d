"""The member page's tables: its signing key, the links sent, the sessions they opened and
the photos sent with a problem report. Every read and write of them is here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.db import to_db

__all__ = ["MIGRATIONS", "Link", "Photo", "PortalStore", "Session"]

MIGRATIONS = Migrations("chamberbot.portal")


@MIGRATIONS()
def m001_portal(db: Database) -> None:
    db.table("portal_meta").create({"key": str, "value": str}, pk="key")
    db.table("portal_links").create(
        {
            "id": int,
            "contact_id": str,
            "nonce": str,
            "channel": str,  # the private chat the link was sent in: where a report's
            "conversation_id": str,  # status updates go
            "created_at": str,
            "expires_at": str,
            "revoked_at": str,
        },
        pk="id",
        not_null={"contact_id", "nonce", "channel", "conversation_id", "created_at"},
    )
    db.table("portal_links").create_index(["contact_id", "revoked_at"])
    db.table("portal_sessions").create(
        # id: SHA-256 of the cookie's value, so a copy of the database opens no session
        {"id": str, "link_id": int, "csrf": str, "created_at": str},
        pk="id",
        not_null={"link_id", "csrf", "created_at"},
        foreign_keys=[("link_id", "portal_links", "id")],
    )
    db.table("portal_sessions").create_index(["link_id"])
    db.table("portal_photos").create(
        {
            "id": int,
            "case_id": int,
            "contact_id": str,
            "name": str,  # random, the file's name in the uploads folder
            "mime": str,
            "size": int,
            "created_at": str,
        },
        pk="id",
        not_null={"case_id", "contact_id", "name", "mime", "size", "created_at"},
    )
    db.table("portal_photos").create_index(["name"], unique=True)
    db.table("portal_photos").create_index(["case_id"])


@dataclass(frozen=True)
class Link:
    id: int
    contact_id: str
    nonce: str
    channel: str
    conversation_id: str
    created_at: str
    expires_at: str
    revoked_at: str | None


@dataclass(frozen=True)
class Session:
    """A member's open session: whose, from which link, its CSRF token, until when."""

    contact_id: str
    link: Link
    csrf: str


@dataclass(frozen=True)
class Photo:
    id: int
    case_id: int
    contact_id: str
    name: str
    mime: str
    size: int
    created_at: str


class PortalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def key(self) -> bytes:
        """The key that signs links: made at first use, kept in the database."""
        row = self.db.execute("select value from portal_meta where key = 'link_key'").fetchone()
        if row:
            return bytes.fromhex(str(row[0]))
        with self.db.atomic():
            self.db.execute(
                "insert or ignore into portal_meta (key, value) values ('link_key', ?)",
                [secrets.token_hex(32)],
            )
        return self.key()

    # -- links -----------------------------------------------------------------------------

    def add_link(self, values: dict[str, Any]) -> Link:
        table = self.db.table("portal_links")
        table.insert(values)
        link = self.link(int(str(table.last_pk)))
        assert link is not None
        return link

    def link(self, link_id: int) -> Link | None:
        rows = list(self.db.table("portal_links").rows_where("id = ?", [link_id]))
        return Link(**rows[0]) if rows else None

    def revoke(self, contact_id: str, now: datetime, *, keep: int | None = None) -> int:
        """End every live link of `contact_id` but `keep`, and the sessions they opened."""
        count = self.db.execute(
            "update portal_links set revoked_at = ? where contact_id = ? and revoked_at is null"
            " and id != ?",
            [to_db(now), contact_id, keep or 0],
        ).rowcount
        self.db.execute(
            "delete from portal_sessions where link_id in (select id from portal_links"
            " where contact_id = ? and id != ? and (revoked_at is not null or expires_at <= ?))",
            [contact_id, keep or 0, to_db(now)],
        )
        return count

    # -- sessions --------------------------------------------------------------------------

    def add_session(self, key: str, link: Link, csrf: str, now: datetime) -> None:
        self.db.table("portal_sessions").insert(
            {"id": key, "link_id": link.id, "csrf": csrf, "created_at": to_db(now)}
        )

    def session(self, key: str, now: datetime) -> Session | None:
        """The session behind a cookie, while its link is neither revoked nor expired."""
        row = self.db.execute(
            "select s.csrf, l.* from portal_sessions s join portal_links l on l.id = s.link_id"
            " where s.id = ? and l.revoked_at is null and l.expires_at > ?",
            [key, to_db(now)],
        ).fetchone()
        if row is None:
            return None
        link = Link(*row[1:])
        return Session(link.contact_id, link, str(row[0]))

    def end_session(self, key: str) -> None:
        self.db.execute("delete from portal_sessions where id = ?", [key])

    # -- photos ----------------------------------------------------------------------------

    def add_photo(self, values: dict[str, Any]) -> None:
        self.db.table("portal_photos").insert(values)

    def photo(self, name: str) -> Photo | None:
        rows = list(self.db.table("portal_photos").rows_where("name = ?", [name]))
        return Photo(**rows[0]) if rows else None

    def photos(self, case_id: int) -> list[Photo]:
        rows = self.db.table("portal_photos").rows_where("case_id = ?", [case_id], order_by="id")
        return [Photo(**row) for row in rows]
