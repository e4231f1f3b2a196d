"""WeChat's room and friendship events (`GatewayEvents`), handed to the membership
feature (handlers/membership: welcome, invitations, greeting); and the gateway settings."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.config import Config, ConfigError
from bot.services import Services
from channels.wechaty_events import Contact, parse_endpoint
from handlers.membership import MembershipService

__all__ = ["ENV_ENDPOINT", "ENV_TOKEN", "WechatEvents", "wechat_settings"]

log = logging.getLogger(__name__)

ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"
ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"


class WechatEvents:
    """The gateway's events handed to the membership feature, whose service decides."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.membership = services.service(MembershipService)

    def bot_joined_room(self, room_id: str, topic: str, inviter_id: str) -> None:
        self.membership.group_joined(room_id, topic, inviter_id)

    def members_joined(
        self, room_id: str, topic: str, members: Sequence[Contact], inviter_id: str, key: str
    ) -> None:
        joined = [(m.id, m.name) for m in members]
        self.membership.members_joined(room_id, topic, joined, key)

    def room_topic_changed(self, room_id: str, topic: str) -> None:
        self.membership.group_renamed(room_id, topic)

    def accept_room_invitation(self, inviter_id: str, topic: str) -> bool:
        return self.membership.may_add_to_group(inviter_id, topic)

    def accept_friend_request(self, contact_id: str, hello: str) -> bool:
        return self.membership.may_befriend(contact_id, hello)

    def friend_added(self, contact: Contact, key: str) -> None:
        self.membership.contact_added(contact.id, contact.name, key)

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
    key = "channels.wechat" if config.channels.wechat is not None else "wechat"
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
