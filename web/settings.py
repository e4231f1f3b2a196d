"""The console's settings section (`web:` in the config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.services import Services

__all__ = ["WebSettings", "web_settings"]


class WebSettings(BaseModel):
    """The web console (web/): served next to the transport by `run` and `demo`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    listen: str = "127.0.0.1:8080"
    session_hours: int = Field(12, ge=1, le=24 * 30)
    page_size: int = Field(50, ge=10, le=500)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8080")
        return value


def web_settings(services: Services) -> WebSettings:
    return services.config.section("web", WebSettings)
