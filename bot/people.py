"""Who is who: roles from the config, and the `contacts` table (its one writer).

Role checks use contact ids, never display names. A person may have several contacts (one
per channel, linked by the identity feature, which installs `persons`): whatever is theirs
(cases, registrations …) is looked up by `same_person`. Staff are the config's `staff` list
plus anyone speaking in a staff room (`staff_rooms`, or a channel's `staff_groups`);
admins are the config's `admins`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.clock import Clock
from bot.config import Config, StaffMember
from bot.db import to_db
from bot.messages import Incoming, Role

__all__ = ["SYSTEM", "Actor", "People"]


@dataclass(frozen=True)
class Actor:
    """Who acts: a contact, or the system; `place` is where they typed."""

    id: str
    name: str
    place: str | None = None


SYSTEM = Actor("system", "系统")

_EMPTY = {"name": None, "enterprise": None, "phone": None}


class People:
    def __init__(self, db: Database, config: Config, clock: Clock) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.staff: dict[str, StaffMember] = config.staff_by_id()
        self._admins = frozenset(config.admins)
        self._staff_groups = config.staff_groups()
        self._staff_rooms = frozenset(self._staff_groups)
        self._remembered: dict[str, dict[str, Any]] = {}  # what this process last stored
        self.persons: Callable[[str], list[str]] | None = None  # contact -> its person's

    def same_person(self, contact_id: str) -> list[str]:
        """Every contact id of the person `contact_id` is, itself first."""
        return self.persons(contact_id) if self.persons else [contact_id]

    # -- roles ---------------------------------------------------------------------------

    def role_of(self, msg: Incoming) -> Role:
        if msg.sender_id in self._admins:
            return Role.ADMIN
        if msg.sender_id in self.staff or msg.conversation_id in self._staff_rooms:
            return Role.STAFF
        return Role.MEMBER

    def is_staff_room(self, conversation_id: str) -> bool:
        return conversation_id in self._staff_rooms

    def is_staff_place(self, conversation_id: str) -> bool:
        """A staff room, or a private chat with staff or an admin."""
        return (
            conversation_id in self._staff_rooms
            or conversation_id in self.staff
            or conversation_id in self._admins
        )

    def shows_phones(self, conversation_id: str) -> bool:
        return self.is_staff_place(conversation_id)

    def staff_places(self) -> list[str]:
        """Where staff notices go: every staff room, or with none configured each admin."""
        return list(self._staff_groups or self.config.admins)

    # -- contacts ------------------------------------------------------------------------

    def contact(self, contact_id: str) -> dict[str, Any]:
        row = self.db.execute(
            "select name, enterprise, phone from contacts where id = ?", [contact_id]
        ).fetchone()
        values = dict(zip(("name", "enterprise", "phone"), row, strict=True)) if row else _EMPTY
        return {"id": contact_id, **values}

    def of_enterprise(self, enterprise: str) -> list[tuple[str, str | None]]:
        """The contacts (id, name) known to speak for an enterprise, staff excepted."""
        rows = self.db.execute(
            "select id, name from contacts where enterprise = ? order by id", [enterprise]
        ).fetchall()
        return [(str(i), n) for i, n in rows if i not in self.staff]

    def name(self, contact_id: str) -> str:
        return str(self.contact(contact_id)["name"] or contact_id)

    def staff_name(self, contact_id: str) -> str:
        member = self.staff.get(contact_id)
        return member.name if member else self.name(contact_id)

    def forget(self) -> None:
        """Drop the memo of what was stored: after a rollback it may not be true."""
        self._remembered.clear()

    def remember(self, contact_id: str, **values: Any) -> None:
        """Store what is known of a contact; empty values never erase known ones.

        What this process stored is memoised, so an unchanged value (every message brings
        its sender's name) costs no statement; whoever rolls back a transaction that
        remembered something calls `forget`.
        """
        values = {k: v for k, v in values.items() if v}
        known = self._remembered.get(contact_id)
        if known is not None and all(known.get(k) == v for k, v in values.items()):
            return  # nothing new (every message remembers its sender's name)
        now = to_db(self.clock.now())
        columns = ["id", *values, "updated_at"]
        updates = ", ".join(f"{c} = excluded.{c}" for c in [*values, "updated_at"])
        self.db.execute(
            f"insert into contacts ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"
            f" on conflict(id) do update set {updates}",
            [contact_id, *values.values(), now],
        )
        self._remembered[contact_id] = {**(known or {}), **values}
