"""What WeChat's room and friendship events mean for the bot (`GatewayEvents`).

New members of member groups get a welcome, groups the bot joins are registered, topic
changes are recorded, room invitations are accepted only from admins, and friend
requests are accepted with a greeting. Also the gateway settings of the config.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.config import Config, ConfigError
from bot.services import Services
from channels.wechaty_events import Contact, parse_endpoint

__all__ = ["ENV_ENDPOINT", "ENV_TOKEN", "WechatEvents", "wechat_settings"]

log = logging.getLogger(__name__)

ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"
ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"
MAX_WELCOME_MENTIONS = 20


class WechatEvents:
    def __init__(self, services: Services) -> None:
        self.services = services

    def bot_joined_room(self, room_id: str, topic: str, inviter_id: str) -> None:
        with self.services.db.atomic():
            self.services.places.remember_room(room_id, topic)
        log.info("joined group %s 「%s」 (invited by %s)", room_id, topic, inviter_id or "?")

    def members_joined(
        self, room_id: str, topic: str, members: Sequence[Contact], inviter_id: str, key: str
    ) -> None:
        s = self.services
        log.info(
            "group %s 「%s」: %s joined",
            room_id,
            topic,
            ", ".join(f"{m.name} ({m.id})" for m in members),
        )
        with s.db.atomic():
            s.places.remember_room(room_id, topic)
            for member in members:
                s.people.remember(member.id, name=member.name)
            if s.people.is_staff_room(room_id):
                return
            greeted = members[:MAX_WELCOME_MENTIONS]
            welcome = s.notices.to(
                room_id,
                "wechat_welcome",
                [m.id for m in greeted],
                topic=topic,
                count=len(members),
            )
            s.outbox.enqueue([welcome], dedupe_key=f"welcome:{key}")

    def room_topic_changed(self, room_id: str, topic: str) -> None:
        with self.services.db.atomic():
            self.services.places.remember_room(room_id, topic)
        log.info("group %s is now called 「%s」", room_id, topic)

    def accept_room_invitation(self, inviter_id: str, topic: str) -> bool:
        accept = inviter_id in self.services.config.admins
        log.info(
            "invitation to group 「%s」 from %s: %s",
            topic,
            inviter_id,
            "accepted" if accept else "declined (only admins may add the bot to a group)",
        )
        return accept

    def accept_friend_request(self, contact_id: str, hello: str) -> bool:
        log.info("friend request from %s (%s): accepted", contact_id, hello)
        return True

    def friend_added(self, contact: Contact, key: str) -> None:
        s = self.services
        with s.db.atomic():
            s.people.remember(contact.id, name=contact.name)
            greeting = s.notices.to_contact(contact.id, "wechat_greeting", friend=contact.name)
            s.outbox.enqueue([greeting], dedupe_key=f"greeting:{key}")

    def own_message_seen(self, conversation_id: str, text: str) -> None:
        row = self.services.outbox.confirm_echo("wechat", conversation_id, text)
        if row is not None:
            log.info("outbox row %s of unknown fate was delivered: WeChat echoed it", row)


def wechat_settings(config: Config, file: str, environ: Mapping[str, str]) -> tuple[str, str]:
    """The gateway's endpoint and token.

    WECHATY_PUPPET_SERVICE_ENDPOINT / WECHATY_PUPPET_SERVICE_TOKEN, when set, win over
    `channels.wechat.endpoint` / `.token` (short form `wechat.endpoint` / `wechat.token`):
    the Wechaty convention, so that a deployment can keep the token out of the config
    file and override it without editing the file.
    """
    settings = config.channel("wechat")
    key = "channels.wechat" if "wechat" in config.channels else "wechat"
    endpoint = environ.get(ENV_ENDPOINT) or settings.endpoint
    token = environ.get(ENV_TOKEN) or settings.token
    if not endpoint:
        raise ConfigError(file, f"{key}.endpoint", f"required (or set {ENV_ENDPOINT})")
    try:
        parse_endpoint(endpoint)
    except ValueError as exc:
        source = f" (from {ENV_ENDPOINT})" if environ.get(ENV_ENDPOINT) else ""
        raise ConfigError(file, f"{key}.endpoint", f"{exc}{source}") from None
    if not token:
        raise ConfigError(file, f"{key}.token", f"required (or set {ENV_TOKEN})")
    return endpoint, token
