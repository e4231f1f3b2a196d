"""Adding a feature is one package plus one line in the composition root: the example of
docs/architecture.md (docs/examples/thanks), loaded beside the shipped features, answers in
chat through its own service, table, setting and template."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from bot.clock import FrozenClock
from bot.config import parse_config
from bot.services import Services
from chamberbot.root import FEATURES
from tests.conftest import DEMO_CONFIG, START, ChatBot

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "docs" / "examples"


@pytest.fixture(scope="module")
def thanks() -> Iterator[ModuleType]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        yield importlib.import_module("thanks")
    finally:
        sys.path.remove(str(EXAMPLES))


def test_the_example_is_not_shipped(thanks: ModuleType) -> None:
    assert thanks.FEATURE not in FEATURES
    assert all(f.name != "thanks" for f in FEATURES)


def test_one_line_in_the_composition_root_adds_the_feature(
    thanks: ModuleType, tmp_path: Path
) -> None:
    import yaml

    features = [*FEATURES, thanks.FEATURE]  # the one line
    data = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    data["thanks"] = {"signature": "工商联会员处"}
    sections = {n: m for f in features for n, m in f.settings.items()}
    config = parse_config(data, str(DEMO_CONFIG), sections)
    clock = FrozenClock(START)
    app = Services(config, db_path=tmp_path / "bot.db", features=features, clock=clock)
    try:
        bot = ChatBot(app, clock)
        bot.say("谢谢", sender="wxid_li")
        second = bot.text("@商会助手 感谢", sender="wxid_li", mention=True)
        assert second == "@李总\u2005不客气！这是您第2次致谢，我们会继续做好服务。——工商联会员处"
        assert "谢谢" in bot.text("帮助", room=None)
        assert app.service(thanks.ThanksService).thank("wxid_li", clock.now()) == 3
    finally:
        app.close()


def test_the_architecture_doc_shows_the_example_as_it_is() -> None:
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    code = (EXAMPLES / "thanks" / "__init__.py").read_text(encoding="utf-8")
    assert code in doc
