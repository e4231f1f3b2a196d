"""Survey answers into the enterprise profile (企业画像), through the enterprises feature's
service: a question that declares `profile_field` fills that field when the survey is
submitted.

A choice question's options must be words of the profile's vocabulary (`enterprises:`
settings: industries, sizes, qualifications, regions when listed) — checked when the
survey is defined, so a typo cannot fill a profile with something else — or one of
`NO_FILL` (其他, 无 …), which leaves the field as it was (无 on the qualifications question
means none). A text answer is read as the profile reads what people write; a value it
refuses is left out, and the survey's answer is kept either way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.people import Actor
from handlers.enterprises.service import PROFILE_FIELDS, EnterpriseService, ProfileError
from handlers.surveys.model import DefinitionError, SurveyDefinition
from handlers.surveys.store import Response, Survey

__all__ = ["NO_FILL", "check_vocabulary", "fill_profile"]

log = logging.getLogger(__name__)

NO_FILL = ("其他", "其它", "无", "没有", "不清楚", "以上都没有")
_NONE = ("无", "没有", "以上都没有")


def _vocabulary(enterprises: EnterpriseService, field: str) -> Sequence[str] | None:
    settings = enterprises.settings
    return {
        "industry": settings.industries,
        "size": settings.sizes,
        "qualifications": settings.qualifications,
        "region": settings.regions or None,
    }.get(field)


def check_vocabulary(definition: SurveyDefinition, enterprises: EnterpriseService) -> None:
    """Raise DefinitionError for a profile question offering a word the profile lacks."""
    for s, section in enumerate(definition.sections):
        for i, q in enumerate(section.questions):
            words = _vocabulary(enterprises, q.profile_field) if q.profile_field else None
            if words is None or not q.options:
                continue
            for j, option in enumerate(q.options):
                if option not in words and option not in NO_FILL:
                    raise DefinitionError(
                        f"sections[{s}].questions[{i}].options[{j}]",
                        f"{option!r} is not one of enterprises.{q.profile_field}"
                        f" (or {'/'.join(NO_FILL[:3])}, which fill nothing)",
                    )


def _value(field: str, value: object) -> object | None:
    """What a choice answer writes: None for nothing (其他), () for 无 qualifications."""
    if isinstance(value, list):
        kept = [v for v in value if v not in NO_FILL]
        if kept:
            return kept
        return () if field == "qualifications" and any(v in _NONE for v in value) else None
    if value in NO_FILL:
        return () if field == "qualifications" and value in _NONE else None
    return value


def fill_profile(
    enterprises: EnterpriseService, survey: Survey, response: Response, by: Actor
) -> tuple[str, ...]:
    """The answers that declare a profile field, into the contact's enterprise profile;
    returns the fields written."""
    wanted: dict[str, object] = {}
    for q in survey.definition.questions:
        answer = response.answers.get(q.id)
        value = _value(q.profile_field, answer) if q.profile_field and answer is not None else None
        if q.profile_field and value is not None:
            wanted[q.profile_field] = value
    source, contact = f"survey:{survey.id}", response.contact_id
    filled: list[str] = []
    for field in sorted(wanted, key=PROFILE_FIELDS.index):
        try:
            if field == "name" and enterprises.of_contact(contact) is None:
                enterprises.save({"name": wanted[field]}, by, contact_id=contact, source=source)
            else:
                enterprises.set_field(contact, field, wanted[field], by, source=source)
        except ProfileError as error:
            log.info("survey %s: %s not filled: %s", survey.id, field, error.reason)
            continue
        filled.append(field)
    return tuple(filled)
