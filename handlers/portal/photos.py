"""Photos sent with a problem report: checked by their first bytes (JPEG, PNG or WebP —
never by the name or the type the browser claims) and by size, then written under a random
name that only the photo's row knows. They are served only to the member who sent them and
to staff, by that name, through a page that checks who asks."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.db import to_db
from handlers.portal.store import PortalStore

__all__ = ["Checked", "PhotoError", "check", "kind_of", "save"]

_EXT = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def kind_of(head: bytes) -> str | None:
    """The image type its magic bytes say, if one we take."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


class PhotoError(ValueError):
    """A photo refused: `code` names the reason for the page (type | size | count)."""

    def __init__(self, code: str, filename: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.filename = filename


@dataclass(frozen=True)
class Checked:
    data: bytes
    mime: str


def check(filename: str, data: bytes, max_bytes: int) -> Checked:
    if len(data) > max_bytes:
        raise PhotoError("size", filename)
    mime = kind_of(data[:16])
    if mime is None:
        raise PhotoError("type", filename)
    return Checked(data, mime)


def save(
    store: PortalStore,
    folder: Path,
    photos: list[Checked],
    *,
    case_id: int,
    contact_id: str,
    now: datetime,
) -> list[Path]:
    """Write the photos and their rows (in the caller's transaction); the files written,
    for the caller to remove if the transaction rolls back."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    for photo in photos:
        name = f"{secrets.token_urlsafe(24)}.{_EXT[photo.mime]}"
        path = folder / name
        path.write_bytes(photo.data)
        written.append(path)
        store.add_photo(
            {
                "case_id": case_id,
                "contact_id": contact_id,
                "name": name,
                "mime": photo.mime,
                "size": len(photo.data),
                "created_at": to_db(now),
            }
        )
    return written
