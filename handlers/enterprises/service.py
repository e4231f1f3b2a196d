"""企业画像: the one service behind every way a profile is read or written (chat's
完善资料, the console, the sheet import, survey answers, the member page)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.db import to_db, to_json
from bot.people import Actor
from bot.services import Services
from handlers.enterprises.fields import (
    LABELS,
    PROFILE_FIELDS,
    ProfileError,
    read_fields,
    read_phone,
)
from handlers.enterprises.settings import EnterpriseSettings
from handlers.enterprises.store import (
    Profile,
    ProfileContact,
    ProfileFilter,
    read_profiles,
)

__all__ = [
    "LABELS",
    "PROFILE_FIELDS",
    "EnterpriseService",
    "Profile",
    "ProfileContact",
    "ProfileError",
    "ProfileFilter",
]


class _RollBack(Exception):
    """Leaves a transaction without writing (some rows were bad)."""


def _stored(value: object) -> object:
    return to_json(list(value)) if isinstance(value, tuple) else value


class EnterpriseService:
    def __init__(self, services: Services) -> None:
        self.db = services.db
        self.people = services.people
        self.clock = services.clock
        self.settings = services.config.section("enterprises", EnterpriseSettings)

    # -- reading -------------------------------------------------------------------------

    def get(self, enterprise_id: int) -> Profile | None:
        found = self._profiles("where id = ?", [enterprise_id])
        return found[0] if found else None

    def named(self, name: str) -> Profile | None:
        found = self._profiles("where name = ?", [name.strip()])
        return found[0] if found else None

    def of_contact(self, contact_id: str) -> Profile | None:
        """The enterprise a contact speaks for: linked to it, or named in its contact; the
        person's (a contact linked on another channel) when the contact itself has none."""
        ids = self.people.same_person(contact_id)
        for one in ids:
            row = self.db.execute(
                "select enterprise_id from enterprise_contacts where contact_id = ?", [one]
            ).fetchone()
            if row:
                return self.get(int(row[0]))
        for one in ids:
            name = self.people.contact(one)["enterprise"]
            if name:
                return self.named(str(name))
        return None

    def all(self) -> list[Profile]:
        return self._profiles("order by name")

    def matching(self, flt: ProfileFilter) -> list[Profile]:
        return [p for p in self.all() if flt.matches(p)]

    def changes(self, enterprise_id: int) -> list[dict[str, Any]]:
        """The profile's history, newest first."""
        return list(
            self.db.query(
                "select at, by_name, source, field, old, new from enterprise_changes"
                " where enterprise_id = ? order by id desc",
                [enterprise_id],
            )
        )

    # -- writing -------------------------------------------------------------------------

    def save(
        self,
        fields: Mapping[str, object],
        by: Actor,
        *,
        enterprise_id: int | None = None,
        contact_id: str | None = None,
        source: str,
    ) -> Profile:
        """Write profile fields, all or none: the enterprise is `enterprise_id`, else the
        contact's, else the one of that name, else a new one (then a name is required).
        `contact_id` is linked to it. A bad value raises ProfileError and writes nothing."""
        values = read_fields(fields, self.settings)
        current = self._target(values, enterprise_id, contact_id)
        if current is None and "name" not in values:
            raise ProfileError("name", "缺少企业名称")
        if contact_id and by.id == contact_id and current is not None:
            self._check_claim(current, contact_id)
        self._check_unique(values, current)
        now = to_db(self.clock.now())
        with self.db.atomic():
            if current is None:
                cursor = self.db.execute(
                    "insert into enterprises (name, created_at, updated_at) values (?, ?, ?)",
                    [values["name"], now, now],
                )
                target = int(cursor.lastrowid or 0)
                old: Mapping[str, object] = {}
            else:
                target, old = current.id, {f: current.value(f) for f in values}
            changed = {f: v for f, v in values.items() if old.get(f) != v}
            if changed:
                sets = ", ".join(f"{f} = ?" for f in changed)
                stored = [_stored(v) for v in changed.values()]
                self.db.execute(
                    f"update enterprises set {sets}, updated_at = ? where id = ?",
                    [*stored, now, target],
                )
                self._log(target, by, source, now, old, changed)
            if contact_id:
                self._link(target, contact_id)
        profile = self.get(target)
        assert profile is not None
        return profile

    def set_field(
        self, contact_id: str, field: str, value: object, by: Actor, source: str
    ) -> Profile:
        """One field of the contact's enterprise (made from its enterprise name if new)."""
        if self.of_contact(contact_id) is None:
            name = self.people.contact(contact_id)["enterprise"]
            if not name:
                raise ProfileError("name", "还不知道您是哪家企业，请先告诉我企业名称")
            return self.save(
                {"name": name, field: value}, by, contact_id=contact_id, source=source
            )
        return self.save({field: value}, by, contact_id=contact_id, source=source)

    def link_contact(
        self, enterprise_id: int, name: str, phone: object = None, contact_id: str | None = None
    ) -> None:
        """A person who speaks for the enterprise (without chat: no contact_id); a phone
        that does not look like one raises ProfileError."""
        checked = read_phone(phone)
        with self.db.atomic():
            if contact_id:
                self._link(enterprise_id, contact_id, name, checked)
            else:
                self.db.execute(
                    "insert into enterprise_contacts (enterprise_id, name, phone)"
                    " values (?, ?, ?)",
                    [enterprise_id, name, checked],
                )

    def save_all(
        self, rows: Sequence[Mapping[str, object]], by: Actor, source: str
    ) -> tuple[list[Profile], list[tuple[int, ProfileError]]]:
        """Several profiles (a sheet's rows; `contact_name`/`contact_phone` add a contact
        without chat), all or none: the saved profiles, or each bad row's index and error
        with nothing written."""
        errors: list[tuple[int, ProfileError]] = []
        saved: list[Profile] = []
        try:
            with self.db.atomic():
                for i, row in enumerate(rows):
                    fields = {k: v for k, v in row.items() if not k.startswith("contact_")}
                    name = str(row.get("contact_name") or "").strip()
                    try:
                        profile = self.save(fields, by, source=source)
                        if name and name not in {c.name for c in profile.contacts}:
                            self.link_contact(profile.id, name, row.get("contact_phone"))
                    except ProfileError as error:
                        errors.append((i, error))
                        continue
                    saved.append(profile)
                if errors:
                    raise _RollBack
        except _RollBack:
            self.people.forget()
            return [], errors
        return [p for p in (self.get(p.id) for p in saved) if p], []

    # -- inside --------------------------------------------------------------------------

    def _target(
        self, values: Mapping[str, object], enterprise_id: int | None, contact_id: str | None
    ) -> Profile | None:
        if enterprise_id is not None:
            found = self.get(enterprise_id)
            if found is None:
                raise ProfileError("name", "没有这家企业")
            return found
        by_contact = self.of_contact(contact_id) if contact_id else None
        if by_contact is not None:
            return by_contact
        return self.named(str(values["name"])) if "name" in values else None

    def _check_claim(self, profile: Profile, contact_id: str) -> None:
        """A member edits an enterprise's profile only once linked to it, or when no other
        member is: naming an enterprise is not enough to take over its profile."""
        rows = self.db.execute(
            "select contact_id from enterprise_contacts"
            " where enterprise_id = ? and contact_id is not null",
            [profile.id],
        ).fetchall()
        linked = {str(r[0]) for r in rows}
        if linked and contact_id not in linked:
            raise ProfileError(
                "name",
                f"「{profile.name}」的资料由该企业的其他联系人维护，如需修改请联系商会工作人员",
            )

    def _check_unique(self, values: Mapping[str, object], current: Profile | None) -> None:
        for field in ("name", "credit_code"):
            value = values.get(field)
            row = (
                value
                and self.db.execute(
                    f"select id, name from enterprises where {field} = ?", [value]
                ).fetchone()
            )
            if not row or (current is not None and row[0] == current.id):
                continue
            if field == "credit_code":
                raise ProfileError(field, f"这个统一社会信用代码已登记为「{row[1]}」")
            raise ProfileError(field, f"已有一家「{value}」，请核对企业名称")

    def _link(
        self, enterprise_id: int, contact_id: str, name: str = "", phone: str | None = None
    ) -> None:
        contact = self.people.contact(contact_id)
        self.db.execute(
            "insert into enterprise_contacts (enterprise_id, contact_id, name, phone)"
            " values (?, ?, ?, ?) on conflict(contact_id) do update set"
            " enterprise_id = excluded.enterprise_id",
            [enterprise_id, contact_id, name or contact["name"] or "", phone or contact["phone"]],
        )
        profile_name = self.db.execute(
            "select name from enterprises where id = ?", [enterprise_id]
        ).fetchone()[0]
        self.people.remember(contact_id, enterprise=profile_name)

    def _log(
        self,
        enterprise_id: int,
        by: Actor,
        source: str,
        now: str,
        old: Mapping[str, object],
        changed: Mapping[str, object],
    ) -> None:
        def shown(value: object) -> str | None:
            if isinstance(value, tuple | list):
                return "、".join(value) or None
            return None if value is None else str(value)

        self.db.conn.executemany(
            "insert into enterprise_changes (enterprise_id, at, by_id, by_name, source, field,"
            " old, new) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (enterprise_id, now, by.id, by.name, source, f, shown(old.get(f)), shown(v))
                for f, v in changed.items()
            ],
        )

    def _profiles(self, tail: str, params: Iterable[object] = ()) -> list[Profile]:
        return read_profiles(self.db, tail, params, frozenset(self.people.staff))
