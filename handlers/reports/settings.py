"""The `reports` section of the config."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel, ConfigDict, Field

from bot.config import HHMM, Config

__all__ = ["ReportSettings", "report_settings"]


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    monthly_at: HHMM = Field(
        time(9, 0),
        description="HH:MM on the 1st the monthly summary goes out",
    )
    grace_hours: int = Field(72, ge=0, description="a missed monthly run still goes this late")
    common_issue_months: int = Field(3, ge=1, le=24, description="共性问题 look-back window")
    common_issue_enterprises: int = Field(3, ge=2, description="enterprises that make a 共性问题")
    similarity: int = Field(50, ge=1, le=100, description="wording similarity threshold (0–100)")
    overdue_in_text: int = Field(20, ge=1, description="overdue cases listed in the chat text")


def report_settings(config: Config) -> ReportSettings:
    """The validated `reports` section (its defaults when the file has none)."""
    return config.section("reports", ReportSettings)
