"""The `events` settings section (config.example.yaml documents each with its default)."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field

from bot.config import HHMM

__all__ = ["EventsSettings", "settings"]


class EventsSettings(BaseModel):
    """活动: kinds, reminders, the check-in window, @mentions per message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: list[str] = Field(
        default_factory=lambda: ["讲座", "沙龙", "下午茶", "早餐会", "培训", "接待日"],
        min_length=1,
    )
    remind_day_before_at: HHMM = time(18, 0)
    remind_before_minutes: int = Field(60, ge=1, le=24 * 60)
    checkin_opens_minutes: int = Field(60, ge=0, le=24 * 60)
    mentions_per_message: int = Field(20, ge=1, le=100)


def settings(config: object) -> EventsSettings:
    """The section from a loaded config (its defaults when the file has none)."""
    from bot.config import Config

    assert isinstance(config, Config)
    return config.section("events", EventsSettings)
