"""The rules of who joins where, for every channel: a welcome for new members of member
groups (none in staff rooms), groups remembered as the bot joins them or they are renamed,
invitations into groups accepted only from admins, contacts greeted when they add the bot
or open a private chat with it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.services import Services

__all__ = ["MAX_WELCOME_MENTIONS", "MembershipService"]

log = logging.getLogger(__name__)

MAX_WELCOME_MENTIONS = 20


class MembershipService:
    def __init__(self, services: Services) -> None:
        self.services = services

    def group_joined(self, room_id: str, topic: str, inviter_id: str) -> None:
        with self.services.db.atomic():
            self.services.places.remember_room(room_id, topic)
        log.info("joined group %s 「%s」 (invited by %s)", room_id, topic, inviter_id or "?")

    def members_joined(
        self, room_id: str, topic: str, members: Sequence[tuple[str, str]], key: str
    ) -> None:
        """`members` as (contact id, name); `key` names the join event (welcomed once)."""
        s = self.services
        log.info(
            "group %s 「%s」: %s joined",
            room_id,
            topic,
            ", ".join(f"{n} ({i})" for i, n in members),
        )
        with s.db.atomic():
            s.places.remember_room(room_id, topic)
            for contact_id, name in members:
                s.people.remember(contact_id, name=name)
            if s.people.is_staff_room(room_id):
                return
            greeted = [contact_id for contact_id, _ in members[:MAX_WELCOME_MENTIONS]]
            welcome = s.notices.to(room_id, "welcome", greeted, topic=topic, count=len(members))
            s.outbox.enqueue([welcome], dedupe_key=f"welcome:{key}")

    def group_renamed(self, room_id: str, topic: str) -> None:
        with self.services.db.atomic():
            self.services.places.remember_room(room_id, topic)
        log.info("group %s is now called 「%s」", room_id, topic)

    def may_add_to_group(self, inviter_id: str, topic: str) -> bool:
        """Only an admin may bring the bot into a group."""
        accept = inviter_id in self.services.config.admins
        verdict = "accepted" if accept else "declined (only admins may add the bot to a group)"
        log.info("invitation to group 「%s」 from %s: %s", topic, inviter_id, verdict)
        return accept

    def may_befriend(self, contact_id: str, hello: str) -> bool:
        log.info("friend request from %s (%s): accepted", contact_id, hello)
        return True

    def chat_opened(self, contact_id: str, key: str, *, channel: str) -> None:
        """A contact opened the private chat with the bot (WeCom's `enter_chat`, once a
        day; `key` names the event): the bot's hello, as the answer to that event."""
        s = self.services
        with s.db.atomic():
            s.people.remember(contact_id, channel=channel)
            hello = s.notices.to_contact(contact_id, "hello", channel=channel, reply_to=key)
            s.outbox.enqueue([hello], dedupe_key=f"hello:{key}")

    def contact_added(self, contact_id: str, name: str, key: str) -> None:
        s = self.services
        with s.db.atomic():
            s.people.remember(contact_id, name=name)
            greeting = s.notices.to_contact(contact_id, "greeting", friend=name)
            s.outbox.enqueue([greeting], dedupe_key=f"greeting:{key}")
