"""The README documents every chat command keyword and every setting."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from chamberbot.root import FEATURES, sections

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

ROUTES = [route for feature in FEATURES for route in feature.routes]


def _section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_every_keyword_is_in_the_command_table() -> None:
    table = _section("## 用户指令")
    missing = [k for r in ROUTES for k in r.keywords if k not in table]
    assert missing == []


def test_every_setting_is_in_the_configuration_section() -> None:
    section = _section("## Configuration")
    names = [*Config.model_fields, *sections()]  # the core's and the features' sections
    missing = [name for name in names if f"`{name}`" not in section]
    assert missing == []


def test_readme_shows_the_two_commands() -> None:
    assert "make demo" in README
    assert "make test" in README


def test_every_relative_link_in_the_readme_resolves() -> None:
    import re

    root = Path(__file__).resolve().parent.parent
    links = re.findall(r"\]\(([^)#\s]+)\)", README)
    relative = [link for link in links if "://" not in link]
    assert "docs/spec.md" in relative
    assert [link for link in relative if not (root / link).exists()] == []


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces → -."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_relative_link_in_the_docs_resolves() -> None:
    """The README's links to the rooms behind it, and theirs back, reach a file and a heading."""
    import re

    root = Path(__file__).resolve().parent.parent
    pages = [root / "README.md", root / "CHANGELOG.md", *sorted((root / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text(encoding="utf-8")):
            if "://" in link:
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists():
                broken.append(f"{page.name}: {link}")
            elif anchor and target.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
                if anchor not in {_slug(h) for h in headings}:
                    broken.append(f"{page.name}: {link}")
    assert broken == []
