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
    WECOM_BOT_URL,
    Channel,
    Channels,
    Pacing,
    Robot,
    Webhooks,
    WecomBot,
)
from bot.strict import Strict as _Strict

__all__ = [
    "HHMM",
    "WECOM_BOT_URL",
    "Category",
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
    "config_key",
    "config_reason",
    "id_warnings",
    "load_config",
    "parse_config",
    "read_yaml",
]

#: feature settings sections: name in the YAML file -> the feature's pydantic model
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


class Aspect(_Strict):
    name: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)


class Category(_Strict):
    name: str = Field(min_length=1)
    department: str = Field(min_length=1)
    limit_days: int = Field(10, ge=1, le=365, description="working days to resolve")
    keywords: list[str] = Field(default_factory=list)
    aspects: list[Aspect] = Field(default_factory=list)


class WeChat(_Strict):
    endpoint: str | None = None
    token: str | None = None


_WORKING_HOURS = re.compile(r"(\d{1,2}):([0-5]\d)-(\d{1,2}):([0-5]\d)")


#: the default `cases.routes`: chat's two first (a chat case gets one of them by itself)
ROUTES = ("群聊", "私聊", "接待日", "走访调研", "座谈会/早餐会", "12345转办", "问卷", "其他")


class Cases(_Strict):
    first_response_hours: float = Field(24, gt=0)
    #: a first-response deadline outside these hours, or on a day off, moves to the next
    #: working day's start (bot/workdays.py WorkCalendar.working_time)
    working_hours: str = "09:00-18:00"
    remind_before_hours: float = Field(24, ge=0)
    level2_after_days: int = Field(5, ge=1)
    auto_close_days: int = Field(7, ge=1)
    default_category: str = "其他"
    default_department: str = "秘书处"
    default_limit_days: int = Field(10, ge=1)
    #: where cases come from; chat cases are 群聊 / 私聊, staff pick one when they 代录
    routes: list[str] = Field(default_factory=lambda: list(ROUTES))
    #: working days after 销号 (or 撤回) when the reporter is asked whether the problem is
    #: really solved (回访); 0: no follow-up
    follow_up_days: int = Field(5, ge=0)
    #: 待补充: working days at most that a case's deadline clock stands still waiting for
    #: the enterprise's 补充; then it runs again by itself
    max_pause_days: int = Field(10, ge=1)

    @field_validator("routes")
    @classmethod
    def _routes(cls, value: list[str]) -> list[str]:
        names = [v.strip() for v in value]
        if any(not n for n in names) or len(set(names)) != len(names):
            raise ValueError("routes must be distinct, non-empty names")
        missing = [r for r in ROUTES[:2] if r not in names]
        if missing:
            raise ValueError(f"routes must include the chat routes {'、'.join(missing)}")
        return names

    @field_validator("working_hours")
    @classmethod
    def _hours_span(cls, value: str) -> str:
        found = _WORKING_HOURS.fullmatch(value.replace(" ", ""))
        if not found or max(int(found[1]), int(found[3])) > 23:
            raise ValueError("expected HH:MM-HH:MM, e.g. 09:00-18:00")
        start_h, start_m, end_h, end_m = map(int, found.groups())
        if (start_h, start_m) >= (end_h, end_m):
            raise ValueError("the working day must end after it starts, e.g. 09:00-18:00")
        return f"{start_h:02d}:{start_m:02d}-{end_h:02d}:{end_m:02d}"

    @property
    def working_span(self) -> tuple[time, time]:
        """`working_hours` as (start, end) local times."""
        start, end = self.working_hours.split("-")
        return time.fromisoformat(start), time.fromisoformat(end)


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
    categories: list[Category] = Field(default_factory=list)
    cases: Cases = Cases()
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
        """WeChat's gateway settings, written in the long or the short form (another
        name: the defaults)."""
        if name == "wechat" and self.channels.wechat is not None:
            return self.channels.wechat
        if name == "wechat":
            return Channel(
                endpoint=self.wechat.endpoint, token=self.wechat.token, pacing=self.pacing
            )
        return Channel()

    def pacing_for(self, channel: str) -> Pacing:
        """The outbox sender's pacing on a channel."""
        if channel == "wecom_bot" and self.channels.wecom_bot is not None:
            return self.channels.wecom_bot.pacing
        if channel == "wecom_webhook" and self.channels.wecom_webhook is not None:
            return self.channels.wecom_webhook.pacing
        return self.channel(channel).pacing

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
    departments = set(cfg.departments) | {cfg.cases.default_department}
    for i, member in enumerate(cfg.staff):
        if member.department and member.department not in departments:
            return f"staff[{i}].department", f"{member.department!r} is not in departments"
    for i, cat in enumerate(cfg.categories):
        if cat.department not in departments:
            return f"categories[{i}].department", f"{cat.department!r} is not in departments"
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
