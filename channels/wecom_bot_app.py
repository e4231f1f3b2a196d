"""The WeCom AI bot in a running chamberbot: its settings (the secret from the environment),
the transport built from them, and its events handed to the membership feature."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.config import Config, ConfigError, WecomBot
from bot.journal import Journal
from bot.services import Services
from channels.wecom_bot import WecomBotTransport
from channels.wecom_bot_frames import CHANNEL
from handlers.membership import MembershipService

__all__ = ["WecomApp", "WecomSettings", "wecom_settings", "wecom_transport"]

log = logging.getLogger(__name__)

KEY = "channels.wecom_bot"


@dataclass(frozen=True)
class WecomSettings:
    """`channels.wecom_bot` with the secret read and the CA file found."""

    section: WecomBot
    secret: str
    ca_file: Path | None

    def ssl_context(self) -> ssl.SSLContext:
        """The system's CAs, and the configured CA file's besides."""
        context = ssl.create_default_context()
        if self.ca_file is not None:
            context.load_verify_locations(cafile=str(self.ca_file))
        return context


def wecom_settings(config: Config, file: str, environ: Mapping[str, str]) -> WecomSettings | None:
    """The WeCom AI bot's settings, or None when the config has no `channels.wecom_bot`.

    The secret comes from the environment variable named by `secret_env` (never from the
    file); `ca_file` is relative to the config file's folder."""
    section = config.channels.wecom_bot
    if section is None:
        return None
    secret = environ.get(section.secret_env, "")
    if not secret:
        reason = f"environment variable {section.secret_env} is not set"
        raise ConfigError(file, f"{KEY}.secret_env", reason)
    ca_file = None
    if section.ca_file:
        ca_file = Path(section.ca_file)
        ca_file = ca_file if ca_file.is_absolute() else Path(file).parent / ca_file
        try:
            ssl.create_default_context().load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            reason = f"cannot read a PEM certificate from {ca_file} ({exc})"
            raise ConfigError(file, f"{KEY}.ca_file", reason) from None
    return WecomSettings(section, secret, ca_file)


class WecomApp:
    """WeCom's events handed to the membership feature, whose service decides."""

    def __init__(self, services: Services) -> None:
        self.membership = services.service(MembershipService)

    def chat_entered(self, user_id: str, event_id: str) -> None:
        self.membership.chat_opened(user_id, event_id, channel=CHANNEL)


def wecom_transport(services: Services, settings: WecomSettings) -> WecomBotTransport:
    """The transport for a running bot: journal in the bot's database, the groups it
    knows (configured, or seen before) as groups, the chamber's templates and contacts'
    names for what a clicked card shows."""
    section = settings.section
    known = {c.id for c in services.places.conversations(CHANNEL) if c.is_group}
    groups = known | set(section.staff_groups) | set(section.member_groups)
    return WecomBotTransport(
        section.url,
        section.bot_id,
        settings.secret,
        names=(section.name or services.config.bot_name, services.config.bot_name),
        events=WecomApp(services),
        journal=Journal(services.db, CHANNEL),
        groups=groups,
        ssl_context=settings.ssl_context(),
        heartbeat=section.heartbeat_seconds,
        max_backoff=section.max_backoff_seconds,
        reply_window=section.reply_window_seconds,
        render=services.templates.render,
        people=services.people.staff_name,
    )
