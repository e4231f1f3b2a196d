"""Wording lives in templates; a chamber overrides any of them from its own folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError

from bot.clock import FrozenClock
from bot.services import Services
from chamberbot.root import services as build_services
from tests.conftest import ChatBot, demo_config


def test_override_folder_replaces_the_builtin_wording(tmp_path: Path, clock: FrozenClock) -> None:
    folder = tmp_path / "wording"
    folder.mkdir()
    (folder / "hello.j2").write_text("{{ bot_name }}在此，请发送「帮助」。", encoding="utf-8")
    app = build_services(
        demo_config(templates_dir=str(folder)), db_path=tmp_path / "t.db", clock=clock
    )
    bot = ChatBot(app, clock)
    assert bot.text("@商会助手", mention=True).endswith("商会助手在此，请发送「帮助」。")
    # Templates the chamber did not override keep the built-in text.
    assert "查看指令菜单" in bot.text("帮助", room=None)
    app.db.close()


def test_relative_override_folder_is_found_beside_the_config(
    tmp_path: Path, clock: FrozenClock
) -> None:
    (tmp_path / "wording").mkdir()
    (tmp_path / "wording" / "hello.j2").write_text("您好！", encoding="utf-8")
    config = demo_config(templates_dir="wording")
    app = build_services(config, db_path=tmp_path / "t.db", clock=clock, base_dir=tmp_path)
    assert ChatBot(app, clock).text("@商会助手", mention=True).endswith("您好！")
    app.db.close()


def test_a_missing_variable_fails_loudly_instead_of_printing_blank(app: Services) -> None:
    with pytest.raises(UndefinedError):
        app.templates.render("case_answered", staff_name="王科长")


def test_every_builtin_template_parses(app: Services) -> None:
    env = app.templates.env
    names = app.templates.names()
    assert "menu" in names
    for name in names:
        env.get_template(f"{name}.j2")


def test_a_dict_reads_its_keys_and_still_has_its_methods(app: Services) -> None:
    """Dicts are read key first (bot.templates.DictsFirst), with Jinja's answers unchanged:
    a key, a method of dict (even where a key has its name), a missing key undefined."""
    template = app.templates.env.from_string(
        "{{ row.name }}|{{ row.items() | list | length }}|{{ row.get('name') }}"
        "|{{ 'yes' if row.missing is undefined else 'no' }}|{{ row.keys is callable }}"
    )
    assert template.render(row={"name": "张总", "keys": "钥匙"}) == "张总|2|张总|yes|True"
