"""Settings: one YAML file, validated at start; errors name file, key and reason.

The pydantic models below are the core's settings; each feature adds its own sections
(`Feature.settings`, e.g. `policies`, `broadcasts` and `digest` in
handlers/policies/settings.py), validated here too and read with `Config.section`. A time
of day is `HHMM` everywhere. `config.example.yaml` documents every setting with its
default, and tests/test_config.py keeps the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.channel_settings import (
    Channel,
    Channels,
    Pacing,
    Robot,
    Webhooks,
    WecomBot,
    WecomKf,
)
from bot.strict import Strict as _Strict

__all__ = [
    "HHMM",
    "Channel",
    "Channels",
    "Config",
    "ConfigError",
    "Pacing",
    "Robot",
    "Sections",
    "StaffMember",
    "Webhooks",
    "WecomBot",
    "WecomKf",
    "config_key",
    "config_reason",
    "id_warnings",
    "load_config",
    "parse_config",
    "read_yaml",
]

#: feature settings sections: name in the YAML file -> the feature's pydantic model (which
#: may define `cross_check(config) -> (key, reason) | None` for its relations to the rest)
Sections = Mapping[str, type[BaseModel]]
_M = TypeVar("_M", bound=BaseModel)


class ConfigError(Exception):
    """A setting is wrong: printed as `file: key: reason`, exit code 2."""

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}")
        self.file, self.key, self.reason = file, key, reason


_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


def _hh_mm(value: Any) -> Any:
    """A local time of day written "HH:MM"; the one wording of its error."""
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 22:00 as the number 1320 (base 60).
        raise ValueError(f'quote the time: write "{value // 60:02d}:{value % 60:02d}"')
    if isinstance(value, str) and _HH_MM.fullmatch(value):
        return time.fromisoformat(value)
    raise ValueError('expected HH:MM from 00:00 to 23:59, e.g. "09:00"')


#: a time of day in the config, written "HH:MM" (quoted: YAML reads 22:00 as a number)
HHMM = Annotated[time, BeforeValidator(_hh_mm)]


class StaffMember(_Strict):
    contact_id: str = Field(min_length=1, description="WeChat contact id")
    name: str = Field(min_length=1, description="name shown in replies")
    department: str = Field("", description="one of `departments`")


class WeChat(_Strict):
    endpoint: str | None = None
    token: str | None = None


class Privacy(_Strict):
    echo_description_in_group: bool = False
    mask_phones: bool = True


class QuietHours(_Strict):
    start: HHMM = time(22, 0)
    end: HHMM = time(8, 0)


class CalendarSettings(_Strict):
    file: str | None = Field(None, description="holidays and 调休 per year (config-relative)")
    warn_from: str = Field("11-01", description="MM-DD: from then on, missing next year is told")

    @field_validator("warn_from")
    @classmethod
    def _mm_dd(cls, value: str) -> str:
        if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", value):
            raise ValueError('expected MM-DD, e.g. "11-01"')
        return value

    def warns_on(self, day: date) -> bool:
        """Whether `day` is on or after warn_from in its year."""
        month, mday = self.warn_from.split("-")
        return (day.month, day.day) >= (int(month), int(mday))


class Config(_Strict):
    bot_name: str = "商会助手"
    data_dir: str = "./data"
    database: str = "chamberbot.db"
    timezone: str = "Asia/Shanghai"
    templates_dir: str | None = None
    wechat: WeChat = WeChat()
    admins: list[str] = Field(default_factory=list)
    staff: list[StaffMember] = Field(default_factory=list)
    staff_rooms: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=lambda: ["秘书处"])
    prompt_minutes: int = Field(30, ge=1)
    privacy: Privacy = Privacy()
    quiet_hours: QuietHours = QuietHours()
    pacing: Pacing = Pacing()
    sweep_interval_seconds: int = Field(60, ge=5)
    commands: dict[str, list[str]] = Field(default_factory=dict)
    channels: Channels = Channels()
    _sections: dict[str, BaseModel] = PrivateAttr(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _one_form_for_wechat(cls, data: Any) -> Any:
        """`wechat:` and `pacing:` are the short form of `channels.wechat`; not both."""
        channels = data.get("channels") if isinstance(data, dict) else None
        if isinstance(channels, dict) and "wechat" in channels:
            for short in ("wechat", "pacing"):
                if short in data:
                    raise ValueError(f"{short} is the short form of channels.wechat: use one")
        return data

    calendar: CalendarSettings = CalendarSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def database_path(self, base: Path) -> Path:
        data = Path(self.data_dir)
        data = data if data.is_absolute() else base / data
        db = Path(self.database)
        return db if db.is_absolute() else data / db

    def staff_by_id(self) -> dict[str, StaffMember]:
        return {s.contact_id: s for s in self.staff}

    def channel(self, name: str) -> Channel:
        """WeChat's gateway settings, in the long or the short form (another name: defaults)."""
        if name != "wechat":
            return Channel()
        short = Channel(endpoint=self.wechat.endpoint, token=self.wechat.token, pacing=self.pacing)
        return self.channels.wechat or short

    def pacing_for(self, channel: str) -> Pacing:
        """The outbox sender's pacing on a channel: its section's under `channels:`."""
        section: Any = getattr(self.channels, channel, None)
        return section.pacing if hasattr(section, "pacing") else self.channel(channel).pacing

    def robots(self, channel: str) -> dict[str, Robot]:
        """A send-only channel's group robots by name (none for another channel)."""
        hooks = self.channels.wecom_webhook if channel == "wecom_webhook" else None
        return hooks.robots if hooks is not None else {}

    def staff_groups(self) -> list[str]:
        """Every staff group: `staff_rooms` and each channel's `staff_groups`."""
        found = list(self.staff_rooms)
        wecom = self.channels.wecom_bot
        found += [g for g in (wecom.staff_groups if wecom else []) if g not in found]
        return found

    def channel_groups(self) -> dict[str, tuple[str, str]]:
        """The groups a channel's settings name: id → (channel, "staff" or "member")."""
        wecom = self.channels.wecom_bot
        if wecom is None:
            return {}
        found = dict.fromkeys(wecom.member_groups, ("wecom_bot", "member"))
        found.update(dict.fromkeys(wecom.staff_groups, ("wecom_bot", "staff")))
        return found

    def section(self, name: str, model: type[_M]) -> _M:
        """A feature's settings section (its defaults when the file has none)."""
        found = self._sections.get(name)
        return found if isinstance(found, model) else model()


def config_key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def config_reason(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown setting"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def _cross_check(cfg: Config) -> tuple[str, str] | None:
    """Relations between settings that a single field cannot check."""
    for section in cfg._sections.values():  # a feature's section may relate to the rest
        related = getattr(section, "cross_check", None)
        problem = related(cfg) if related else None
        if problem:
            return problem
    seen: set[str] = set()
    for i, member in enumerate(cfg.staff):
        if member.contact_id in seen:
            return f"staff[{i}].contact_id", f"{member.contact_id!r} is listed twice"
        seen.add(member.contact_id)
    wecom = cfg.channels.wecom_bot
    for i, group in enumerate(wecom.member_groups if wecom else []):
        if wecom and group in wecom.staff_groups:
            key = f"channels.wecom_bot.member_groups[{i}]"
            return key, f"{group!r} is also in staff_groups (a group is one or the other)"
    return None


def _error(file: str, exc: ValidationError, prefix: tuple[str, ...] = ()) -> ConfigError:
    first = exc.errors()[0]
    return ConfigError(file, config_key((*prefix, *first["loc"])), config_reason(first))


def parse_config(data: Any, file: str = "config.yaml", sections: Sections | None = None) -> Config:
    """Validate the settings; `sections` are the features' own settings models."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(file, "(top level)", "expected a mapping of settings")
    sections = sections or {}
    core = {k: v for k, v in data.items() if k not in sections}
    try:
        cfg = Config.model_validate(core)
    except ValidationError as exc:
        raise _error(file, exc) from None
    for name, model in sections.items():
        try:
            raw = data.get(name)  # an empty section (or none) is the defaults
            cfg._sections[name] = model.model_validate(raw) if raw else model()
        except ValidationError as exc:
            raise _error(file, exc, (name,)) from None
    problem = _cross_check(cfg)
    if problem:
        raise ConfigError(file, *problem)
    return cfg


# libyaml's parser (PyYAML's wheels carry it) reads a config ten times faster than the
# pure-Python one: 60 ms of every start of the bot and of each CLI command.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """safe_load, except that a key given twice in one mapping is an error, not a shadow."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)


def read_yaml(path: Path) -> Any:
    """A YAML file's data; unreadable, invalid or duplicate-keyed → ConfigError."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(name, "(file)", exc.strerror or str(exc)) from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise ConfigError(name, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None


def load_config(path: Path, sections: Sections | None = None) -> Config:
    data = read_yaml(path)
    if data is None:
        reason = "the file is empty; start from config.example.yaml"
        raise ConfigError(str(path), "(file)", reason)
    return parse_config(data, str(path), sections)


def _looks_like_a_name(value: str) -> bool:
    return not value.isascii() or any(c.isspace() for c in value)


def id_warnings(cfg: Config, file: str) -> list[str]:
    """Names written where WeChat ids belong: allowed (ids are opaque), but said."""
    found: list[str] = []
    hint = "`chamberbot rooms --config FILE --members` lists the ids"
    for i, room in enumerate(cfg.staff_rooms):
        if _looks_like_a_name(room):
            found.append(
                f"{file}: staff_rooms[{i}]: {room!r} looks like a group name; "
                f"group ids look like 12345678901@chatroom ({hint})"
            )
    people = [(f"admins[{i}]", a) for i, a in enumerate(cfg.admins)]
    people += [(f"staff[{i}].contact_id", s.contact_id) for i, s in enumerate(cfg.staff)]
    for key, contact in people:
        if _looks_like_a_name(contact):
            found.append(
                f"{file}: {key}: {contact!r} looks like a name; "
                f"contact ids look like wxid_abc123 ({hint})"
            )
    return found
