"""Settings: the example documents every setting with its default; errors name file and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, RootModel

from bot.config import Config, ConfigError, load_config, parse_config
from chamberbot.cli import main
from chamberbot.root import FEATURES, sections
from handlers.cases.settings import categories
from handlers.policies.settings import settings

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.yaml"
# Lists whose example shows an illustrative entry instead of the (empty) default.
ILLUSTRATED = {"staff", "departments", "categories", "commands", "policies", "broadcasts"}
# Lists the example leaves empty (no fake staff id, no feed that fails every hour), and the
# channels (no fake robot id): their entries' keys are documented in the comment above them.
EMPTY_EXAMPLES = ("staff.", "policies.feeds.", "channels.")

ROUTES = [route for feature in FEATURES for route in feature.routes]


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if issubclass(model, RootModel):  # a section that is a list: its entries' keys
        entry = getattr(model.model_fields["root"].annotation, "__args__", (None,))[0]
        return _keys(entry, prefix) if isinstance(entry, type) else keys
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        keys.add(path)
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            keys |= _keys(inner, f"{path}.")
    return keys


def _example_keys(data: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(data, dict):
        for name, value in data.items():
            path = f"{prefix}{name}"
            keys.add(path)
            if path != "commands":
                keys |= _example_keys(value, f"{path}.")
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        keys |= _example_keys(data[0], prefix)
    return keys


def test_example_and_settings_table_match_key_for_key() -> None:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    features = {f"{name}.{key}" for name, model in sections().items() for key in _keys(model)}
    expected = _keys(Config) | set(sections()) | features
    commented = {k for k in expected if k.startswith(EMPTY_EXAMPLES)}
    assert _example_keys(data) == expected - commented
    text = EXAMPLE.read_text(encoding="utf-8")
    assert [k for k in commented if f"{k.rsplit('.', 1)[1]}:" not in text] == []


def test_example_shows_every_default() -> None:
    example = load_config(EXAMPLE, sections())
    defaults = Config()
    for name in Config.model_fields:
        if name not in ILLUSTRATED:
            assert getattr(example, name) == getattr(defaults, name), name
    for name, model in sections().items():  # the features' own sections
        if name not in ILLUSTRATED:
            assert example.section(name, model) == model(), name


def test_example_lists_every_command_with_its_default_keywords() -> None:
    example = load_config(EXAMPLE, sections())
    assert example.commands == {r.command: list(r.keywords) for r in ROUTES}


def test_every_setting_has_a_help_comment() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    section = ""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if line[:1].isalpha():
            section = line.split(":")[0]
        elif section == "commands":
            continue  # one help line covers the keyword table
        if not stripped or stripped.startswith(("#", "-")) or line.startswith("    "):
            continue  # comments, list entries and the keys inside illustrated entries
        if line.startswith("  ") and lines[i - 1].strip().startswith("-"):
            continue
        assert lines[i - 1].strip().startswith("#"), f"line {i + 1} has no help: {line}"


def _error(data: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "config.yaml", sections())
    return str(caught.value)


def test_missing_staff_contact_id_names_the_entry() -> None:
    staff = [{"contact_id": "a", "name": "甲"}, {"contact_id": "b", "name": "乙"}, {"name": "丙"}]
    assert _error({"staff": staff}) == "config.yaml: staff[2].contact_id: required"


def test_unknown_setting_is_reported() -> None:
    assert _error({"cases": {"auto_close_day": 3}}) == (
        "config.yaml: cases.auto_close_day: unknown setting"
    )


def test_bad_values_are_reported_with_reason() -> None:
    assert _error({"timezone": "Mars/Base"}).startswith("config.yaml: timezone: unknown time")
    assert _error({"quiet_hours": {"start": "25:00"}}).startswith(
        "config.yaml: quiet_hours.start: expected HH:MM"
    )
    assert _error({"staff": [{"contact_id": "a", "name": "甲", "department": "外星处"}]}) == (
        "config.yaml: staff[0].department: '外星处' is not in departments"
    )


@pytest.mark.parametrize(
    "data",
    [
        {"quiet_hours": {"end": "8:00"}},
        {"events": {"remind_day_before_at": "24:00"}},
        {"reports": {"monthly_at": "09:60"}},
    ],
)
def test_every_time_of_day_is_checked_alike(data: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "config.yaml", sections())
    assert caught.value.reason == 'expected HH:MM from 00:00 to 23:59, e.g. "09:00"'


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"quiet_hours": {"start": 22 * 60}}, "quiet_hours.start"),
        ({"events": {"remind_day_before_at": 18 * 60}}, "events.remind_day_before_at"),
        ({"reports": {"monthly_at": 9 * 60}}, "reports.monthly_at"),
    ],
)
def test_an_unquoted_time_of_day_is_told_to_be_quoted(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "config.yaml", sections())
    assert caught.value.key == key
    assert caught.value.reason.startswith("quote the time: write ")


def test_the_policies_sections_keep_their_keys_and_defaults() -> None:
    cfg = parse_config(
        {"broadcasts": [{"id": "weekly", "cron": "0 9 * * 1"}], "digest": {"max_chars": 800}},
        "config.yaml",
        sections(),
    )
    found = settings(cfg)
    assert [(b.id, b.target, b.template, b.max_items) for b in found.broadcasts] == [
        ("weekly", "all", "digest", 8)
    ]
    assert (found.digest.max_chars, found.digest.grace_minutes) == (800, 180)
    assert (found.policies.search_limit, found.policies.fetch_interval_minutes) == (5, 60)
    with pytest.raises(ConfigError) as caught:
        parse_config({"broadcasts": [{"id": "weekly"}]}, "config.yaml", sections())
    assert str(caught.value) == "config.yaml: broadcasts[0].cron: required"


def test_cli_reports_bad_config_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("staff:\n  - name: 王科长\n", encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"{bad}: staff[0].contact_id: required"


def test_cli_reports_yaml_syntax_error_with_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("bot_name: 商会助手\nstaff: [\n", encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"{bad}: line ")


def test_cli_reports_unknown_command_keyword_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("commands:\n  fly: [起飞]\n", encoding="utf-8")
    assert main(["check", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"{bad}: commands.fly: unknown command"


def test_cli_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")


def test_cli_reports_a_broadcast_that_cannot_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "broadcasts:\n  - {id: weekly, cron: '0 9 * *'}\n  - {id: daily, cron: '0 9 * * *',"
        " target: '融资 &'}\n",
        encoding="utf-8",
    )
    assert main(["check", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"{bad}: broadcasts[0].cron: ")


def test_the_example_is_a_real_starting_point() -> None:
    example = load_config(EXAMPLE, sections())

    assert [c.name for c in categories(example)] == [
        "市场环境",
        "政务环境",
        "法治环境",
        "创新环境",
    ]
    assert all(c.aspects and all(a.keywords for a in c.aspects) for c in categories(example))
    assert {c.department for c in categories(example)} <= set(example.departments)
    assert len(example.departments) > 1
    assert example.staff == []  # no made-up contact id that would be granted staff rights
    assert settings(example).policies.feeds == []  # no feed that fails every hour
