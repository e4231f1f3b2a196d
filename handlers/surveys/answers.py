"""An answer, as typed in chat or posted from the member page, read into its stored value.

Stored values: single → the option's text; multiple → a list of option texts (in the
options' order); number → int or float; text → str; scale → int 1–5. A reader raises
`AnswerError(code, **context)`; the code names the template's wording
(surveys_bad_answer.j2), so chat and the page say the same.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from handlers.surveys.model import Question

__all__ = ["SKIP_WORDS", "AnswerError", "read_chat", "read_value", "shown"]

SKIP_WORDS = ("跳过", "略过", "不填", "skip")
_SPLIT = re.compile(r"[\s,，、;；/]+")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
MAX_NUMBER = 1e12


class AnswerError(ValueError):
    """An answer the question cannot take; `code` picks the wording, `context` fills it."""

    def __init__(self, code: str, **context: Any) -> None:
        super().__init__(code)
        self.code, self.context = code, context


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _pick(q: Question, token: str) -> str:
    """An option by its number or its text."""
    token = _norm(token)
    if token.isdigit() and 1 <= int(token) <= len(q.options):
        return q.options[int(token) - 1]
    for option in q.options:
        if _norm(option) == token:
            return option
    raise AnswerError("bad_option", count=len(q.options), given=token[:20])


def _number(q: Question, text: str) -> int | float:
    cleaned = _norm(text).replace(",", "").replace("，", "")
    if q.unit:
        cleaned = cleaned.removesuffix(_norm(q.unit)).strip()
    if not _NUMBER.match(cleaned):
        raise AnswerError("bad_number", given=text[:20])
    value = float(cleaned)
    if abs(value) > MAX_NUMBER:
        raise AnswerError("bad_number", given=text[:20])
    return int(value) if value.is_integer() else value


def _scale(text: str) -> int:
    token = _norm(text)
    if token in ("1", "2", "3", "4", "5"):
        return int(token)
    raise AnswerError("bad_scale", given=token[:20])


def _text(q: Question, text: str) -> str:
    value = unicodedata.normalize("NFC", text).strip()
    if not value:
        raise AnswerError("empty")
    if len(value) > q.max_length:
        raise AnswerError("too_long", limit=q.max_length, length=len(value))
    return value


def read_chat(q: Question, text: str) -> object:
    """A chat answer: `2` for an option, `1 3` (or `1、3`, `13` with up to 9 options) for
    several, a number, a text, 1–5."""
    if not _norm(text):
        raise AnswerError("empty")
    if q.kind == "single":
        return _pick(q, text)
    if q.kind == "multiple":
        tokens = [t for t in _SPLIT.split(_norm(text)) if t]
        if len(tokens) == 1 and tokens[0].isdigit() and len(q.options) <= 9 and len(tokens[0]) > 1:
            tokens = list(tokens[0])  # 135: options 1, 3 and 5
        chosen = {_pick(q, t) for t in tokens}
        return [o for o in q.options if o in chosen]
    if q.kind == "number":
        return _number(q, text)
    if q.kind == "scale":
        return _scale(text)
    return _text(q, text)


def read_value(q: Question, value: object) -> object:
    """An answer from the page (or any caller of SurveyService.answer): the stored value,
    or None for an empty answer (the caller checks `required`)."""
    if value is None or value == "" or value == []:
        return None
    if q.kind == "multiple":
        items = value if isinstance(value, list | tuple) else [value]
        chosen = {_pick(q, str(v)) for v in items}
        return [o for o in q.options if o in chosen]
    if isinstance(value, bool):
        raise AnswerError("bad_number", given=str(value))
    if q.kind == "number" and isinstance(value, int | float):
        return _number(q, str(value))
    if q.kind == "scale" and isinstance(value, int):
        return _scale(str(value))
    if not isinstance(value, str):
        raise AnswerError("empty")
    if not _norm(value):
        return None
    return read_chat(q, value)


def shown(q: Question, value: object) -> str:
    """An answer as people read it (the review, the console, the XLSX)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if q.kind == "number" and q.unit:
        return f"{value}{q.unit}"
    return str(value)
