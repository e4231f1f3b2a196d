"""Composing what the bot says: a template rendered into an `Outgoing` for a place.

Mentions stay contact ids here; the transport renders them. A private chat with a contact
is addressed by the contact's id on every channel we know (WeChat does so), which this
module alone assumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.messages import DEFAULT_CHANNEL, Outgoing
from bot.people import People
from bot.templates import Templates

__all__ = ["Notices"]


class Notices:
    def __init__(self, templates: Templates, people: People) -> None:
        self.templates = templates
        self.people = people

    def render(self, template: str, **context: Any) -> str:
        return self.templates.render(template, **context)

    def to(
        self,
        conversation_id: str,
        template: str,
        mention_ids: Sequence[str] = (),
        *,
        channel: str = DEFAULT_CHANNEL,
        **context: Any,
    ) -> Outgoing:
        text, choices = self.templates.compose(template, **context)
        return Outgoing(conversation_id, text, tuple(mention_ids), channel, choices)

    def to_contact(
        self, contact_id: str, template: str, *, channel: str = DEFAULT_CHANNEL, **context: Any
    ) -> Outgoing:
        """A private message to one contact."""
        return self.to(contact_id, template, channel=channel, **context)

    def to_staff(
        self, template: str, *, skip: str | None = None, **context: Any
    ) -> list[Outgoing]:
        """One message to every staff room (or, with none configured, to each admin);
        `skip` leaves out the place the staff member is typing in."""
        return [
            self.to(place, template, **context)
            for place in self.people.staff_places()
            if place != skip
        ]
