"""The `surveys` settings section (config.example.yaml documents each with its default)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["SurveysSettings", "settings"]


class SurveysSettings(BaseModel):
    """问卷: when the one reminder goes before a survey's deadline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the reminder to those who have not submitted goes this many hours before the deadline
    remind_hours_before: int = Field(24, ge=1, le=24 * 30)


def settings(config: object) -> SurveysSettings:
    """The section from a loaded config (its defaults when the file has none)."""
    from bot.config import Config

    assert isinstance(config, Config)
    return config.section("surveys", SurveysSettings)
