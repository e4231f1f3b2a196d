"""The `events` settings section (config.example.yaml documents each with its default)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["EventsSettings", "settings"]


class EventsSettings(BaseModel):
    """活动: kinds, reminders, the check-in window, @mentions per message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: list[str] = Field(
        default_factory=lambda: ["讲座", "沙龙", "下午茶", "早餐会", "培训", "接待日"],
        min_length=1,
    )
    remind_day_before_at: str = "18:00"
    remind_before_minutes: int = Field(60, ge=1, le=24 * 60)
    checkin_opens_minutes: int = Field(60, ge=0, le=24 * 60)
    mentions_per_message: int = Field(20, ge=1, le=100)

    @field_validator("remind_day_before_at")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("expected HH:MM, e.g. 18:00")
        return value


def settings(config: object) -> EventsSettings:
    """The section from a loaded config (its defaults when the file has none)."""
    from bot.config import Config

    assert isinstance(config, Config)
    return config.section("events", EventsSettings)
