"""The policies feature's settings sections: `policies`, `broadcasts` and `digest`.

The same keys as ever, at the top of the config file; config.example.yaml documents each
with its default. Read them through `settings(config)`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, RootModel

from bot.config import Config
from handlers.policies.matching_settings import MatchingSettings
from policy_feeds.settings import Feed, PolicySettings, TagRule

__all__ = [
    "SECTIONS",
    "Broadcast",
    "Broadcasts",
    "DigestSettings",
    "Feed",
    "PolicySettings",
    "Settings",
    "TagRule",
    "settings",
]


class Broadcast(BaseModel):
    """One scheduled digest (`broadcasts[i]`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    cron: str = Field(min_length=1)
    target: str = "all"
    template: str = "digest"
    max_items: int = Field(8, ge=1, le=50)


class Broadcasts(RootModel[list[Broadcast]]):
    """`broadcasts`: a list at the top of the file."""

    model_config = ConfigDict(frozen=True)

    root: list[Broadcast] = Field(default_factory=list)


class DigestSettings(BaseModel):
    """`digest`: how late a missed digest still goes out, and how long one message is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    grace_minutes: int = Field(180, ge=0)
    max_chars: int = Field(1500, ge=200)
    #: a digest to a group robot (`<channel>:<robot>`) is markdown, measured in UTF-8
    #: bytes; WeCom's webhook takes at most 4,096
    max_bytes: int = Field(4096, ge=512, le=4096)


SECTIONS: dict[str, type[BaseModel]] = {
    "policies": PolicySettings,
    "matching": MatchingSettings,
    "broadcasts": Broadcasts,
    "digest": DigestSettings,
}


@dataclass(frozen=True)
class Settings:
    """The feature's sections, named as in the config file."""

    policies: PolicySettings
    broadcasts: list[Broadcast]
    digest: DigestSettings


def settings(config: Config) -> Settings:
    """The sections from a loaded config (their defaults when the file has none)."""
    return Settings(
        config.section("policies", PolicySettings),
        config.section("broadcasts", Broadcasts).root,
        config.section("digest", DigestSettings),
    )
