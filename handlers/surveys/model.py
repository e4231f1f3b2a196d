"""A survey's definition: sections of questions, read from YAML or the console's form and
checked in one place (`read_definition`), so both say the same `key: reason`.

A question has a stable `id` (the key its answer is stored under, the XLSX column), a kind
(single, multiple, number, text, scale), `required` (default true), `options` for the two
choice kinds, and may name a `profile_field` of the enterprise profile that its answer
fills when the survey is submitted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from handlers.enterprises.service import PROFILE_FIELDS

__all__ = [
    "KINDS",
    "PROFILE_FIELDS",
    "DefinitionError",
    "Question",
    "Section",
    "SurveyDefinition",
    "SurveyRefused",
    "read_definition",
]

#: the kinds of question, in the order the console offers them
KINDS = ("single", "multiple", "number", "text", "scale")
MAX_OPTIONS = 30
MAX_QUESTIONS = 100
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
_CHOICE_KINDS = ("single", "multiple")


class SurveyRefused(Exception):
    """What cannot be done and why: `code` picks the wording (surveys_refused.j2)."""

    def __init__(self, code: str, **context: Any) -> None:
        super().__init__(code)
        self.code, self.context = code, context


class DefinitionError(ValueError):
    """A survey definition that cannot be used: where (`sections[0].questions[2].kind`)
    and why."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


class _Question(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    text: str = Field(min_length=1, max_length=200)
    kind: str
    required: bool = True
    options: list[str] = Field(default_factory=list)
    profile_field: str | None = None
    unit: str = Field("", max_length=10)
    max_length: int = Field(200, ge=1, le=2000)

    @field_validator("text", "unit")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(KINDS)}")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None) -> str | None:
        if value is not None and not _ID.match(value):
            raise ValueError("must be a letter, then letters, digits or _ (at most 40)")
        return value

    @field_validator("profile_field")
    @classmethod
    def _field(cls, value: str | None) -> str | None:
        if value is not None and value not in PROFILE_FIELDS:
            raise ValueError(f"must be one of {', '.join(PROFILE_FIELDS)}")
        return value

    @field_validator("options")
    @classmethod
    def _options(cls, value: list[str]) -> list[str]:
        names = [str(v).strip() for v in value]
        if any(not n for n in names):
            raise ValueError("an option is empty")
        if len(set(names)) != len(names):
            raise ValueError("an option is listed twice")
        if len(names) > MAX_OPTIONS:
            raise ValueError(f"at most {MAX_OPTIONS} options")
        return names


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field("", max_length=60)
    questions: list[_Question] = Field(min_length=1)


class _Survey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(None, max_length=60)
    title: str = Field(min_length=1, max_length=60)
    intro: str = Field("", max_length=1000)
    deadline: datetime | None = None
    sections: list[_Section] = Field(min_length=1)


@dataclass(frozen=True)
class Question:
    id: str
    number: int  # 1-based, across sections: what a member types after 修改
    section: str
    text: str
    kind: str
    required: bool
    options: tuple[str, ...]
    profile_field: str | None = None
    unit: str = ""
    max_length: int = 200

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "text": self.text, "kind": self.kind}
        if not self.required:
            out["required"] = False
        if self.options:
            out["options"] = list(self.options)
        if self.profile_field:
            out["profile_field"] = self.profile_field
        if self.unit:
            out["unit"] = self.unit
        if self.max_length != 200:
            out["max_length"] = self.max_length
        return out


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class SurveyDefinition:
    """What a survey asks; `deadline` is aware (the chamber's time zone when written
    without one)."""

    title: str
    intro: str
    deadline: datetime | None
    sections: tuple[Section, ...]
    key: str | None = None

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for s in self.sections for q in s.questions)

    def as_dict(self) -> dict[str, Any]:
        """The definition as stored (and as YAML would write it), deadline aside."""
        return {
            "key": self.key,
            "title": self.title,
            "intro": self.intro,
            "sections": [
                {"title": s.title, "questions": [q.as_dict() for q in s.questions]}
                for s in self.sections
            ],
        }


def _key(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _reason(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "required"
    if error["type"] == "extra_forbidden":
        return "unknown setting"
    return str(error["msg"]).removeprefix("Value error, ")


def read_definition(data: object, tz: tzinfo) -> SurveyDefinition:
    """A survey definition from plain data (YAML, the console's form); raises
    DefinitionError with the first problem."""
    if not isinstance(data, Mapping):
        raise DefinitionError("(top level)", "expected a mapping with title and sections")
    try:
        raw = _Survey.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DefinitionError(_key(first["loc"]), _reason(first)) from None
    deadline = raw.deadline
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=tz)
    sections: list[Section] = []
    seen: set[str] = set()
    filled: set[str] = set()
    number = 0
    for i, sec in enumerate(raw.sections):
        questions: list[Question] = []
        for j, q in enumerate(sec.questions):
            number += 1
            where = f"sections[{i}].questions[{j}]"
            qid = q.id or f"q{number}"
            if qid in seen:
                raise DefinitionError(f"{where}.id", f"{qid!r} is used twice")
            seen.add(qid)
            if q.kind in _CHOICE_KINDS and len(q.options) < 2:
                raise DefinitionError(f"{where}.options", "a choice needs at least 2 options")
            if q.kind not in _CHOICE_KINDS and q.options:
                raise DefinitionError(f"{where}.options", f"a {q.kind} question has no options")
            if q.profile_field:
                if q.profile_field in filled:
                    raise DefinitionError(f"{where}.profile_field", "filled by two questions")
                filled.add(q.profile_field)
                if q.profile_field == "qualifications" and q.kind not in ("multiple", "text"):
                    reason = "qualifications need a multiple or text question"
                    raise DefinitionError(f"{where}.profile_field", reason)
                if q.profile_field != "qualifications" and q.kind not in ("single", "text"):
                    reason = "a profile field needs a single or text question"
                    raise DefinitionError(f"{where}.profile_field", reason)
            questions.append(
                Question(
                    qid,
                    number,
                    sec.title.strip(),
                    q.text,
                    q.kind,
                    q.required,
                    tuple(q.options),
                    q.profile_field,
                    q.unit,
                    q.max_length,
                )
            )
        sections.append(Section(sec.title.strip(), tuple(questions)))
    if number > MAX_QUESTIONS:
        raise DefinitionError("sections", f"at most {MAX_QUESTIONS} questions")
    return SurveyDefinition(
        raw.title.strip(), raw.intro.strip(), deadline, tuple(sections), raw.key
    )
