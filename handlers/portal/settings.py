"""The member page's settings section (`portal:` in the config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config import Config

__all__ = ["PortalSettings", "settings"]


class PortalSettings(BaseModel):
    """企业服务页: the enterprise's own page, opened from a personal link sent in chat."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the address members open the page at (the console's server behind its proxy), e.g.
    #: https://bot.example.org; empty: http://<web.listen>, right only on the server itself
    base_url: str = ""
    #: how long a link (and the session it opens) is good for
    link_days: int = Field(7, ge=1, le=90)
    #: a photo with a problem report: at most this many bytes each, this many per report
    photo_max_bytes: int = Field(5 * 1024 * 1024, ge=10 * 1024, le=50 * 1024 * 1024)
    photos_per_report: int = Field(6, ge=0, le=20)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value


def settings(config: Config) -> PortalSettings:
    return config.section("portal", PortalSettings)
