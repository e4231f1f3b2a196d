"""The application: settings, storage, clock, templates and routes, wired once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.cases import Case, CaseStore
from bot.clock import Clock, SystemClock
from bot.config import Config
from bot.db import open_db, to_db
from bot.messages import Incoming, Outgoing, Role
from bot.outbox import Outbox
from bot.router import Handler, Route, Router
from bot.sessions import Sessions
from bot.templates import Templates

__all__ = ["App"]


class App:
    def __init__(
        self,
        config: Config,
        *,
        db_path: Path | str,
        clock: Clock | None = None,
        routes: Sequence[Route] | None = None,
        prompts: dict[str, Handler] | None = None,
        base_dir: Path | None = None,
    ) -> None:
        if routes is None or prompts is None:
            import handlers

            routes = handlers.ROUTES if routes is None else routes
            prompts = handlers.PROMPTS if prompts is None else prompts
        self.config = config
        self.clock: Clock = clock or SystemClock(config.tz)
        self.db: Database = open_db(db_path)
        self.db_path = db_path
        self.base_dir = base_dir or Path.cwd()  # relative paths in the config start here
        self.router = Router(routes, prompts, config.commands)
        override = None
        if config.templates_dir:
            override = Path(config.templates_dir)
            if not override.is_absolute() and base_dir is not None:
                override = base_dir / override
        self.templates = Templates(config.tz, override, bot_name=config.bot_name)
        self.sessions = Sessions(self.db, timedelta(minutes=config.prompt_minutes))
        self.cases = CaseStore(self.db, config)
        self.staff = config.staff_by_id()
        self.outbox = Outbox(
            self.db,
            self.clock,
            self.shows_phones,
            mask=config.privacy.mask_phones,
            quiet=config.quiet_hours,
        )

    # -- who is who ----------------------------------------------------------------------

    def role_of(self, msg: Incoming) -> Role:
        if msg.sender_id in self.config.admins:
            return Role.ADMIN
        if msg.sender_id in self.staff or msg.conversation_id in self.config.staff_rooms:
            return Role.STAFF
        return Role.MEMBER

    def is_staff_place(self, conversation_id: str) -> bool:
        """A staff room, or a private chat with staff or an admin."""
        return (
            conversation_id in self.config.staff_rooms
            or conversation_id in self.staff
            or conversation_id in self.config.admins
        )

    def shows_phones(self, conversation_id: str) -> bool:
        return self.is_staff_place(conversation_id)

    def staff_name(self, contact_id: str) -> str:
        member = self.staff.get(contact_id)
        return member.name if member else self.contact_name(contact_id)

    # -- contacts and conversations ------------------------------------------------------

    def contact(self, contact_id: str) -> dict[str, Any]:
        rows = list(self.db.table("contacts").rows_where("id = ?", [contact_id]))
        return (
            rows[0]
            if rows
            else {"id": contact_id, "name": None, "enterprise": None, "phone": None}
        )

    def contact_name(self, contact_id: str) -> str:
        return self.contact(contact_id)["name"] or contact_id

    def remember_contact(self, contact_id: str, **values: Any) -> None:
        values = {k: v for k, v in values.items() if v}
        self.db.table("contacts").upsert(
            {"id": contact_id, **values, "updated_at": to_db(self.clock.now())}, pk="id"
        )

    def conversation_name(self, conversation_id: str) -> str:
        """A group's topic, or the name of the contact of a private chat."""
        row = self.db.execute(
            "select topic from conversations where id = ?", [conversation_id]
        ).fetchone()
        return str(row[0]) if row and row[0] else self.contact_name(conversation_id)

    def remember_conversation(self, msg: Incoming) -> None:
        now = to_db(self.clock.now())
        kind = "staff" if msg.conversation_id in self.config.staff_rooms else "member"
        table = self.db.table("conversations")
        if table.count_where("id = ?", [msg.conversation_id]):
            if msg.room_topic:
                table.update(msg.conversation_id, {"topic": msg.room_topic, "updated_at": now})
            return
        table.insert(
            {
                "id": msg.conversation_id,
                "is_group": int(msg.is_group),
                "topic": msg.room_topic,
                "kind": kind,
                "tags": "[]",
                "first_seen": now,
                "updated_at": now,
            }
        )

    # -- composing messages --------------------------------------------------------------

    def render(self, template: str, **context: Any) -> str:
        return self.templates.render(template, **context)

    def compose(
        self, conversation_id: str, template: str, mention_ids: Sequence[str] = (), **context: Any
    ) -> Outgoing:
        """Render a template; each mention becomes a leading `@name` as WeChat shows it."""
        text = self.render(template, **context)
        prefix = "".join(f"@{self.contact_name(m)}\u2005" for m in mention_ids)
        return Outgoing(conversation_id, prefix + text, tuple(mention_ids))

    def to_staff(self, template: str, **context: Any) -> list[Outgoing]:
        """One message to every staff room (or, with none configured, to each admin)."""
        places = self.config.staff_rooms or self.config.admins
        return [self.compose(place, template, **context) for place in places]

    def to_reporter(self, case: Case, template: str, **context: Any) -> Outgoing:
        """A status update into the conversation the case came from, @reporter in a group."""
        mentions = (case.reporter_id,) if case.conversation_is_group else ()
        return self.compose(case.conversation_id, template, mentions, case=case, **context)

    def to_contact(self, contact_id: str, template: str, **context: Any) -> Outgoing:
        return self.compose(contact_id, template, **context)
