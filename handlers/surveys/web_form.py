"""The console's survey builder: the form's fields ↔ a survey definition.

The form lists questions one after another (`q-<i>-text`, `-kind`, `-options` one per
line, `-required`, `-section`, `-profile`, and a hidden `-id` that keeps an answer's key
when a draft is edited); consecutive questions with the same section title make a
section. Its buttons: `添加一题` (adds a blank question), `删除` on a question, `保存`.
Adding and removing only redraw the form; only saving writes, through
`SurveyService.define` (the same checks as YAML). Problems the form finds itself are
codes by field, worded in the page's template; nothing is written while any remain.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from handlers.surveys.model import KINDS, DefinitionError, SurveyDefinition

__all__ = ["QuestionRow", "SurveyForm", "form_of", "place_problem", "read_form"]

MAX_ROWS = 100
_LOCAL = "%Y-%m-%dT%H:%M"  # <input type="datetime-local">


@dataclass
class QuestionRow:
    """One question as the form shows it (options as typed, one per line)."""

    id: str = ""
    section: str = ""
    text: str = ""
    kind: str = "single"
    options: str = ""
    required: bool = True
    profile: str = ""


@dataclass
class SurveyForm:
    title: str = ""
    intro: str = ""
    deadline: str = ""
    key: str = ""
    rows: list[QuestionRow] = field(default_factory=lambda: [QuestionRow()])
    #: "title", "deadline" or "q-<i>-<field>" → a problem code the template words
    problems: dict[str, str] = field(default_factory=dict)


def form_of(definition: SurveyDefinition, tz: tzinfo) -> SurveyForm:
    """The form filled from a definition (a draft to edit, the example to start from)."""
    rows = [
        QuestionRow(
            q.id, q.section, q.text, q.kind, "\n".join(q.options), q.required,
            q.profile_field or "",
        )
        for q in definition.questions
    ]  # fmt: skip
    deadline = definition.deadline.astimezone(tz).strftime(_LOCAL) if definition.deadline else ""
    return SurveyForm(
        definition.title, definition.intro, deadline, definition.key or "", rows or [QuestionRow()]
    )


def _text(form: Mapping[str, Any], key: str, limit: int = 2000) -> str:
    return unicodedata.normalize("NFC", str(form.get(key, "") or "")).strip()[:limit]


def _rows(form: Mapping[str, Any]) -> list[QuestionRow]:
    count = _text(form, "count")
    rows: list[QuestionRow] = []
    for i in range(min(int(count) if count.isdigit() else 0, MAX_ROWS)):
        p = f"q-{i}-"
        rows.append(
            QuestionRow(
                _text(form, p + "id", 40),
                _text(form, p + "section", 60),
                _text(form, p + "text", 200),
                _text(form, p + "kind", 20),
                _text(form, p + "options"),
                bool(form.get(p + "required")),
                _text(form, p + "profile", 40),
            )
        )
    return rows


def _deadline(text: str, tz: tzinfo) -> datetime | None:
    try:
        when = datetime.fromisoformat(unicodedata.normalize("NFKC", text).replace(" ", "T"))
    except ValueError:
        return None
    return when.replace(tzinfo=tz, second=0, microsecond=0) if when.tzinfo is None else when


def _check(sf: SurveyForm, now: datetime) -> None:
    if not sf.title:
        sf.problems["title"] = "title"
    if sf.deadline:
        assert now.tzinfo is not None
        when = _deadline(sf.deadline, now.tzinfo)
        if when is None:
            sf.problems["deadline"] = "deadline"
        elif when <= now:
            sf.problems["deadline"] = "past"
    if not sf.rows:
        sf.problems["rows"] = "no_questions"
    for i, row in enumerate(sf.rows):
        options = [o for o in row.options.splitlines() if o.strip()]
        if not row.text:
            sf.problems[f"q-{i}-text"] = "text"
        if row.kind not in KINDS:
            sf.problems[f"q-{i}-kind"] = "kind"
        elif row.kind in ("single", "multiple") and len(options) < 2:
            sf.problems[f"q-{i}-options"] = "options"
        elif len({o.strip() for o in options}) != len(options):
            sf.problems[f"q-{i}-options"] = "options_twice"


def _data(sf: SurveyForm) -> dict[str, Any]:
    """The definition as YAML would write it: consecutive same-titled questions, a section."""
    sections: list[dict[str, Any]] = []
    for row in sf.rows:
        q: dict[str, Any] = {"text": row.text, "kind": row.kind, "required": row.required}
        if row.id:
            q["id"] = row.id
        if row.kind in ("single", "multiple"):
            q["options"] = [o.strip() for o in row.options.splitlines() if o.strip()]
        if row.profile:
            q["profile_field"] = row.profile
        if not sections or sections[-1]["title"] != row.section:
            sections.append({"title": row.section, "questions": []})
        sections[-1]["questions"].append(q)
    data: dict[str, Any] = {"title": sf.title, "intro": sf.intro, "sections": sections}
    if sf.deadline:
        data["deadline"] = sf.deadline.replace("T", " ")
    if sf.key:
        data["key"] = sf.key
    return data


def read_form(form: Mapping[str, Any], now: datetime) -> tuple[SurveyForm, str, dict[str, Any]]:
    """The form as typed, the button pressed (`add`, `remove:<i>`, `save`), and the
    definition's data (checked by the form when saving: see `SurveyForm.problems`)."""
    sf = SurveyForm(
        _text(form, "title", 60), _text(form, "intro", 1000), _text(form, "deadline", 20),
        _text(form, "key", 60), _rows(form),
    )  # fmt: skip
    action = _text(form, "action", 20) or "save"
    if action == "add" and len(sf.rows) < MAX_ROWS:
        last = sf.rows[-1] if sf.rows else QuestionRow()
        sf.rows.append(QuestionRow(section=last.section))
    elif action.startswith("remove:") and action[7:].isdigit():
        index = int(action[7:])
        if 0 <= index < len(sf.rows):
            del sf.rows[index]
        if not sf.rows:
            sf.rows.append(QuestionRow())
    elif action == "save":
        _check(sf, now)
    return sf, action, _data(sf)


def place_problem(sf: SurveyForm, error: DefinitionError) -> None:
    """A problem the definition's checks found (not the form's own): at its question."""
    parts = error.key.replace("]", "").replace("[", ".").split(".")
    if parts[0] == "sections" and len(parts) >= 4 and parts[3].isdigit():
        section, index = int(parts[1]), int(parts[3])
        row = _row_index(sf, section, index)
        name = parts[4] if len(parts) > 4 else "text"
        name = {"profile_field": "profile"}.get(name, name)
        sf.problems[f"q-{row}-{name}"] = "invalid"
    elif parts[0] in ("title", "deadline"):
        sf.problems[parts[0]] = "past" if "past" in error.reason else parts[0]
    else:
        sf.problems["rows"] = "invalid"


def _row_index(sf: SurveyForm, section: int, index: int) -> int:
    """The form's row of the `index`-th question of the `section`-th section."""
    seen, current, last = -1, 0, None
    for i, row in enumerate(sf.rows):
        if last is None or row.section != last:
            seen += 1
            current = 0
            last = row.section
        else:
            current += 1
        if seen == section and current == index:
            return i
    return 0
