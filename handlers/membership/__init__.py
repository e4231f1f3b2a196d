"""入群与加好友 (membership): what joining a group or adding the bot as a contact means,
whatever the channel. The adapters report the events; `MembershipService` decides."""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature
from handlers.membership.service import MembershipService

__all__ = ["FEATURE", "MembershipService"]

FEATURE = Feature(
    name="membership",
    service=MembershipService,
    templates=Path(__file__).resolve().parent / "templates",
)
