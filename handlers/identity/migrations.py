"""The identity feature's tables: persons, their contacts, and the one-time link codes."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations("identity")


@MIGRATIONS()
def m001_persons(db: Database) -> None:
    """A person is the contacts linked with 绑定 (one per channel, usually); a contact
    belongs to at most one person and is reached in `conversation_id`, its private chat.
    A link code is shown in one chat (`contact_id` asked for it) and typed in another:
    single use (`used_at`), `expires_at`, `tries`: wrong codes typed while it was live. A
    failure is a wrong code a contact typed (at most 5 in the code lifetime)."""
    db.table("persons").create({"id": int, "created_at": str}, pk="id")
    db.table("person_contacts").create(
        {
            "contact_id": str,
            "person_id": int,
            "channel": str,
            "conversation_id": str,
            "linked_at": str,
            "linked_by": str,
        },
        pk="contact_id",
        foreign_keys=[("person_id", "persons", "id")],
    )
    db.execute("create index person_contacts_person on person_contacts (person_id)")
    db.table("link_codes").create(
        {
            "id": int,
            "code": str,
            "contact_id": str,
            "channel": str,
            "conversation_id": str,
            "created_at": str,
            "expires_at": str,
            "used_at": str,
            "tries": int,
        },
        pk="id",
        defaults={"tries": 0},
    )
    db.execute("create index link_codes_code on link_codes (code, expires_at)")
    db.table("link_failures").create({"id": int, "contact_id": str, "at": str}, pk="id")
    db.execute("create index link_failures_contact on link_failures (contact_id, at)")
