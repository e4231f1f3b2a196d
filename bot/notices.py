"""Composing what the bot says: a template rendered into an `Outgoing` for a place.

Mentions stay contact ids here; the transport renders them. A private chat with a contact
is addressed by the contact's id on every channel we know (WeChat and WeCom do so), which
this module alone assumes. A notice goes out on the channel its conversation belongs to
(`Places.channel_of`) unless the caller names one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.messages import Outgoing
from bot.people import People
from bot.places import Places
from bot.templates import Templates

__all__ = ["Notices"]


class Notices:
    def __init__(self, templates: Templates, people: People, places: Places) -> None:
        self.templates = templates
        self.people = people
        self.places = places

    def render(self, template: str, **context: Any) -> str:
        return self.templates.render(template, **context)

    def to(
        self,
        conversation_id: str,
        template: str,
        mention_ids: Sequence[str] = (),
        *,
        channel: str | None = None,
        reply_to: str | None = None,
        **context: Any,
    ) -> Outgoing:
        """`template` rendered for a conversation, on its channel unless one is named;
        `reply_to`: the inbound message it answers; the template's choices (buttons)."""
        text, choices = self.templates.compose(template, **context)
        where = channel or self.places.channel_of(conversation_id)
        return Outgoing(
            conversation_id, text, tuple(mention_ids), where, choices=choices, reply_to=reply_to
        )

    def to_contact(
        self, contact_id: str, template: str, *, channel: str | None = None, **context: Any
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
