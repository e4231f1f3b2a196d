"""The member page's one service: personal links (signed, expiring, revocable), the
sessions they open, and the photos sent with a report.

A link is `/m/open?t=<id>.<nonce>.<mac>`: the row `id` of `portal_links`, a random nonce,
and an HMAC-SHA256 over both with the contact and the expiry, under a key made at first use
and kept in the database. A link opens while its row says it is neither revoked nor expired;
a fresh link, or `chamberbot portal revoke`, revokes the older ones — and with them every
session they opened, since a session is only as good as its link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from bot.config import Config
from bot.db import from_db, to_db
from handlers.portal.settings import PortalSettings, settings
from handlers.portal.store import Link, Photo, PortalStore, Session

__all__ = ["PREFIX", "Opened", "PortalService"]

PREFIX = "/m"  # where the member page is mounted on the console's server


@dataclass(frozen=True)
class Opened:
    """What opening a link came to: a new session's cookie value, or why not."""

    cookie: str = ""
    refused: str = ""  # bad | expired | revoked


def _mac(key: bytes, link: Link) -> str:
    message = f"{link.id}.{link.nonce}.{link.contact_id}.{link.expires_at}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hashed(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class PortalService:
    def __init__(self, db: Database, config: Config, uploads: Path) -> None:
        self.store = PortalStore(db)
        self.config = config
        self.uploads = uploads  # the photos, under random names

    @property
    def settings(self) -> PortalSettings:
        return settings(self.config)

    # -- links -----------------------------------------------------------------------------

    def issue(self, contact_id: str, channel: str, conversation_id: str, now: datetime) -> str:
        """A fresh link for `contact_id` (its path and query); the older ones are revoked."""
        expires = now + timedelta(days=self.settings.link_days)
        link = self.store.add_link(
            {
                "contact_id": contact_id,
                "nonce": secrets.token_urlsafe(12),
                "channel": channel,
                "conversation_id": conversation_id,
                "created_at": to_db(now),
                "expires_at": to_db(expires),
                "revoked_at": None,
            }
        )
        self.store.revoke(contact_id, now, keep=link.id)
        return f"{PREFIX}/open?t={link.id}.{link.nonce}.{_mac(self.store.key(), link)}"

    def check(self, token: str, now: datetime) -> Link | str:
        """The link a token stands for, or why it opens nothing: bad | expired | revoked."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 18:
            return "bad"
        link = self.store.link(int(parts[0]))
        if link is None or not hmac.compare_digest(link.nonce, parts[1]):
            return "bad"
        if not hmac.compare_digest(_mac(self.store.key(), link), parts[2]):
            return "bad"
        if link.revoked_at:
            return "revoked"
        if from_db(link.expires_at) <= now:
            return "expired"
        return link

    def open(self, token: str, now: datetime) -> Opened:
        """A new session from a link (the cookie's value is returned once, kept hashed)."""
        found = self.check(token, now)
        if isinstance(found, str):
            return Opened(refused=found)
        cookie = secrets.token_urlsafe(32)
        self.store.add_session(_hashed(cookie), found, secrets.token_urlsafe(24), now)
        return Opened(cookie=cookie)

    def session(self, cookie: str, now: datetime) -> Session | None:
        return self.store.session(_hashed(cookie), now) if cookie else None

    def end_session(self, cookie: str) -> None:
        self.store.end_session(_hashed(cookie))

    def revoke(self, contact_id: str, now: datetime) -> int:
        """Staff: every link of a contact stops opening, and every session they opened ends."""
        return self.store.revoke(contact_id, now)

    # -- photos ----------------------------------------------------------------------------

    def photo_path(self, photo: Photo) -> Path:
        return self.uploads / photo.name
