"""代录: staff register a case for an enterprise, from any route the chamber collects on
(接待日, 走访调研, 12345转办 …), from chat, the console or a reception day's sheet.

When the enterprise has one known contact in chat (the one named, if a name is given),
the case is theirs: status updates reach them in a private chat like any case. Otherwise
the registering staff member stands in for the enterprise: the updates go to them, headed
「请转告企业」 (Case.relayed), and they pass on the rating. The deadlines and the first-
response promise count from the day the chamber collected the problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.refusal import Refusal
from handlers.cases.core import CaseCore, Outcome
from handlers.cases.model import Actor
from handlers.cases.settings import case_settings

__all__ = ["MAX_DESCRIPTION", "RegisterIntents", "Registration"]

MAX_DESCRIPTION = 5000  # as the console's other texts: a chat message of some 4 pages
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_PHONE = re.compile(r"[0-9+\-\s]{7,20}")


def _day(value: Any) -> date | None:
    """A date cell, or text such as 2026-11-10, 2026/11/10, 2026年11月10日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    found = _DATE.fullmatch(_text(value))
    if not found:
        return None
    try:
        return date(*map(int, found.groups()))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Registration:
    """What staff fill in for a case they register (the console's form, a sheet's row)."""

    enterprise: str
    description: str
    route: str
    collected_on: date
    contact_name: str | None = None
    contact_phone: str | None = None

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Registration:
        """A console form's fields or a sheet's row (keys as this class names them), or
        Refusal for a date, phone or description that cannot be taken as given."""
        collected = _day(fields.get("collected_on"))
        if collected is None:
            raise Refusal("register_bad_date", given=_text(fields.get("collected_on")))
        phone = _text(fields.get("contact_phone")) or None
        if phone and not _PHONE.fullmatch(phone):
            raise Refusal("register_bad_phone", given=phone)
        description = _text(fields.get("description"))
        if len(description) > MAX_DESCRIPTION:
            raise Refusal("register_too_long", length=len(description), limit=MAX_DESCRIPTION)
        return cls(
            enterprise=_text(fields.get("enterprise")),
            description=description,
            route=_text(fields.get("route")),
            collected_on=collected,
            contact_name=_text(fields.get("contact_name")) or None,
            contact_phone=phone,
        )


class RegisterIntents(CaseCore):
    def check_registration(self, reg: Registration, now: datetime) -> None:
        """Refusal when a field is wrong (the same checks for a form, a sheet row, chat)."""
        if not reg.enterprise.strip():
            raise Refusal("register_missing", field="企业名称")
        if not reg.description.strip():
            raise Refusal("register_missing", field="问题描述")
        routes = case_settings(self.config).routes
        if reg.route not in routes:
            raise Refusal("register_bad_route", route=reg.route, routes=routes)
        if reg.collected_on > now.astimezone(self.config.tz).date():
            raise Refusal("register_future", day=reg.collected_on)

    def register(self, staff: Actor, reg: Registration, now: datetime) -> Outcome:
        self.check_registration(reg, now)
        enterprise = reg.enterprise.strip()
        member = self._member(enterprise, reg.contact_name)
        reporter = Actor(*member) if member else Actor(staff.id, reg.contact_name or "企业联系人")
        case = self.create(
            staff,
            {
                "year": now.year,
                "reporter_id": reporter.id,
                "reporter_name": reporter.name,
                "enterprise": enterprise,
                "channel": self.notices.places.channel_of(reporter.id),
                "conversation_id": reporter.id,  # a private chat
                "conversation_is_group": 0,
                "description": reg.description.strip(),
                "route": reg.route,
                "collected_on": reg.collected_on.isoformat(),
                "registered_by_id": staff.id,
                "registered_by_name": staff.name,
                "contact_name": reg.contact_name,
                "contact_phone": reg.contact_phone,
            },
            now,
            start=self._start(reg.collected_on, now),
        )
        notices = self.notices.to_staff(
            "intake_staff_opened", case=case, origin=f"{reg.route}（{staff.name}代录）"
        )
        if member:
            notices.append(self.to_reporter(case, "register_member_told"))
        return Outcome(case, case, notices)

    def _member(self, enterprise: str, name: str | None) -> tuple[str, str] | None:
        """The enterprise's one contact in chat (the one called `name`, if given)."""
        known = self.people.of_enterprise(enterprise)
        if name:
            known = [(i, n) for i, n in known if n == name]
        if len(known) != 1:
            return None
        contact_id, contact_name = known[0]
        return contact_id, contact_name or name or "企业联系人"

    def _start(self, collected: date, now: datetime) -> datetime:
        """When the clock starts: now for today's; else the start of that working day."""
        local = now.astimezone(self.config.tz)
        if collected >= local.date():
            return now
        opens = case_settings(self.config).working_span[0]
        return datetime.combine(collected, opens, tzinfo=self.config.tz)
