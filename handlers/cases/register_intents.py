"""代录: staff register a case for an enterprise, from any route the chamber collects on
(接待日, 走访调研, 12345转办 …), from chat, the console or a reception day's sheet.

When the enterprise has one known contact in chat (the one named, if a name is given),
the case is theirs: status updates reach them in a private chat like any case. Otherwise
the registering staff member stands in for the enterprise: the updates go to them, headed
「请转告企业」 (Case.relayed), and they pass on the rating. The deadlines and the first-
response promise count from the day the chamber collected the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.refusal import Refusal
from handlers.cases.core import CaseCore, Outcome
from handlers.cases.model import Actor

__all__ = ["RegisterIntents", "Registration"]


@dataclass(frozen=True)
class Registration:
    """What staff fill in for a case they register (the console's form, a sheet's row)."""

    enterprise: str
    description: str
    route: str
    collected_on: date
    contact_name: str | None = None
    contact_phone: str | None = None


class RegisterIntents(CaseCore):
    def check_registration(self, reg: Registration, now: datetime) -> None:
        """Refusal when a field is wrong (the same checks for a form, a sheet row, chat)."""
        if not reg.enterprise.strip():
            raise Refusal("register_missing", field="企业名称")
        if not reg.description.strip():
            raise Refusal("register_missing", field="问题描述")
        routes = self.config.cases.routes
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
        opens = self.config.cases.working_span[0]
        return datetime.combine(collected, opens, tzinfo=self.config.tz)
