"""The `policies` section of the config: the policy library's sources and tagging rules.

Part of the policies feature (handlers/policies declares it in its manifest); here, below
the feature, because the sources and the tagger are built from it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from bot.strict import Strict as _Strict

__all__ = ["FEED_FIELDS", "Feed", "PolicySettings", "TagRule"]

FEED_FIELDS = ("items", "title", "url", "id", "date", "summary", "issuer", "tags")


class Feed(_Strict):
    id: str = Field(min_length=1, description="the policies' source name; not folder/manual")
    kind: Literal["rss", "json"] = "rss"
    url: str = Field(min_length=1, description="http(s), file:// or a path (config-relative)")
    issuer: str = Field("", description="发文机关 for entries that do not name one")
    tags: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(20.0, gt=0)
    fields: dict[str, str] = Field(default_factory=dict, description="JSON key paths")

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in ("folder", "manual"):
            raise ValueError(f"{value!r} is reserved for policies from the folder and the CLI")
        return value

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(FEED_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown field {unknown[0]!r}; expected one of {', '.join(FEED_FIELDS)}"
            )
        return value


class TagRule(_Strict):
    tag: str = Field(min_length=1)
    kind: Literal["topic", "industry", "region"] = "topic"
    keywords: list[str] = Field(min_length=1)


class PolicySettings(_Strict):
    """`policies`: where policies come from, how they are tagged, how many a search shows."""

    folder: str | None = None
    feeds: list[Feed] = Field(default_factory=list)
    tag_rules: list[TagRule] = Field(default_factory=list)
    fetch_interval_minutes: int = Field(60, ge=1)
    search_limit: int = Field(5, ge=1, le=20)

    @field_validator("feeds")
    @classmethod
    def _unique_ids(cls, value: list[Feed]) -> list[Feed]:
        seen: set[str] = set()
        for feed in value:
            if feed.id in seen:
                raise ValueError(f"feed id {feed.id!r} is listed twice")
            seen.add(feed.id)
        return value
