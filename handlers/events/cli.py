"""`chamberbot event …`: the secretariat's events from the shell.

    chamberbot event add --title T --start "2026-11-20 14:00" --end "2026-11-20 16:00"
                         [--kind K] [--place P] [--capacity N] [--deadline TIME]
                         [--target EXPR] [--description D] [--code C] [--phone]
                         [--announce]                                   [--config FILE] [--db FILE]
    chamberbot event list | show N | announce N | cancel N | checkins N
    chamberbot event edit N [any option of add]
    chamberbot event export N --format csv|xlsx --out FILE [--no-phone]

These write the bot's SQLite file; a running bot reads events from it on every message and
sweep, and sends what they queue (announce, cancel, promotions) within about a second
(the sender watches PRAGMA data_version). Output goes through bot/templates/events_cli.j2;
exit 0, or 1 for an unknown event, 2 for a bad option.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.feature import SubParsers, command_options, with_services
from bot.services import Services
from bot.targeting import TargetError, parse_target
from handlers.events.export import FORMATS, write_export
from handlers.events.notices import announce, cancel_event, edit_event
from handlers.events.service import EventService
from handlers.events.settings import settings
from handlers.events.store import REGISTERED, WAITING, WALK_IN, Activity

__all__ = ["register"]

OK, NOT_FOUND, INVALID = 0, 1, 2
_FIELDS = {
    "title": "title",
    "kind": "kind",
    "start": "starts_at",
    "end": "ends_at",
    "place": "place",
    "capacity": "capacity",
    "deadline": "deadline_at",
    "target": "target",
    "description": "description",
    "code": "checkin_code",
    "phone": "need_phone",
}


class _Invalid(ValueError):
    def __init__(self, option: str, reason: str) -> None:
        super().__init__(f"--{option}: {reason}")
        self.option, self.reason = option, reason


def _say(app: Services, kind: str, *, error: bool = False, **context: Any) -> None:
    stream = sys.stderr if error else sys.stdout
    stream.write(app.templates.render("events_cli", kind=kind, **context) + "\n")
    stream.flush()


def _time(app: Services, option: str, text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _Invalid(option, "expected a time like 2026-11-20 14:00") from None
    return when if when.tzinfo else when.replace(tzinfo=app.config.tz)


def _values(app: Services, args: argparse.Namespace) -> dict[str, Any]:
    """The options given, checked, as column values (times as datetimes)."""
    values: dict[str, Any] = {}
    for option, column in _FIELDS.items():
        value = getattr(args, option, None)
        if value is None:
            continue
        if option in ("start", "end", "deadline"):
            value = _time(app, option, value)
        elif option == "kind" and value not in settings(app.config).kinds:
            raise _Invalid(option, f"expected one of {', '.join(settings(app.config).kinds)}")
        elif option == "capacity" and value < 0:
            raise _Invalid(option, "expected 0 (unlimited) or more")
        elif option == "target":
            try:
                value = parse_target(value).text
            except TargetError as exc:
                raise _Invalid(option, str(exc)) from None
        elif option == "phone":
            value = int(value)
        values[column] = value
    return values


def _check_times(values: dict[str, Any], event: Activity | None) -> None:
    start = values.get("starts_at") or (event.start if event else None)
    end = values.get("ends_at") or (event.end if event else None)
    if start and end and end <= start:
        raise _Invalid("end", "must be after --start")
    deadline = values.get("deadline_at")
    if start and deadline and deadline > start:
        raise _Invalid("deadline", "must not be after --start")


def _add(app: Services, args: argparse.Namespace) -> int:
    values = _values(app, args)
    values.setdefault("kind", settings(app.config).kinds[0])
    _check_times(values, None)
    now = app.clock.now()
    event = app.service(EventService).create(values, now)
    groups = 0
    if args.announce:
        event, queued = announce(app, event, now)
        groups = len(queued)
    _say(app, "added", event=event, announced=args.announce, groups=groups)
    return OK


def _event(app: Services, args: argparse.Namespace) -> Activity | None:
    event = app.service(EventService).store.find(args.number)
    if event is None:
        _say(app, "not_found", error=True, number=args.number)
    return event


def _counts(app: Services, event: Activity) -> dict[str, Any]:
    regs = app.service(EventService).store.registrations(event.id)
    return {
        "registered": sum(r.status == REGISTERED for r in regs),
        "waiting": sum(r.status == WAITING for r in regs),
        "checked_in": sum(bool(r.checked_in_at) for r in regs),
        "walk_in": sum(r.status == WALK_IN for r in regs),
    }


def _list(app: Services, args: argparse.Namespace) -> int:
    events = app.service(EventService).store.where()
    _say(app, "list", rows=[{"event": e, **_counts(app, e)} for e in events])
    return OK


def _show(app: Services, event: Activity, args: argparse.Namespace) -> int:
    _say(app, "show", event=event, **_counts(app, event))
    return OK


def _edit(app: Services, event: Activity, args: argparse.Namespace) -> int:
    values = _values(app, args)
    _check_times(values, event)
    event, promoted = edit_event(app, event, app.clock.now(), **values)
    _say(app, "edited", event=event, promoted=len(promoted))
    return OK


def _announce(app: Services, event: Activity, args: argparse.Namespace) -> int:
    if event.status not in ("draft", "announced"):
        _say(app, "not_announceable", error=True, event=event)
        return INVALID
    event, queued = announce(app, event, app.clock.now())
    _say(app, "announced", event=event, groups=len(queued), new=sum(queued.values()))
    return OK


def _cancel(app: Services, event: Activity, args: argparse.Namespace) -> int:
    event, told = cancel_event(app, event, app.clock.now())
    _say(app, "cancelled", event=event, told=told)
    return OK


def _export(app: Services, event: Activity, args: argparse.Namespace) -> int:
    out = Path(args.out)
    rows = write_export(app, event, out, args.format, staff=not args.no_phone, now=app.clock.now())
    _say(app, "exported", event=event, rows=rows, path=str(out), fmt=args.format)
    return OK


def _checkins(app: Services, event: Activity, args: argparse.Namespace) -> int:
    regs = [r for r in app.service(EventService).store.registrations(event.id) if r.checked_in_at]
    regs.sort(key=lambda r: r.checked_in_at or "")
    _say(app, "checkins", event=event, regs=regs, walk_in=WALK_IN)
    return OK


def _run(action: Callable[..., int], *, needs_event: bool = True) -> dict[str, Any]:
    def run(app: Services, args: argparse.Namespace) -> int:
        try:
            if not needs_event:
                return action(app, args)
            event = _event(app, args)
            return NOT_FOUND if event is None else action(app, event, args)
        except _Invalid as exc:
            _say(app, "invalid", error=True, option=exc.option, reason=exc.reason)
            return INVALID

    return with_services(run)


def _event_options(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("--title", required=adding, help="the event's title")
    parser.add_argument("--kind", help="one of events.kinds (default: the first)")
    parser.add_argument("--start", required=adding, help='local time, "2026-11-20 14:00"')
    parser.add_argument("--end", required=adding, help="local time")
    parser.add_argument("--place", help="address or online link")
    parser.add_argument("--capacity", type=int, help="seats; 0 = unlimited (default)")
    parser.add_argument("--deadline", help="registration deadline (default: the start)")
    parser.add_argument("--target", help="all (default) or a tag expression: 制造业 | 外贸")
    parser.add_argument("--description", help="what it is about")
    parser.add_argument("--code", help="check-in code (签到码)")
    parser.add_argument(
        "--phone", action=argparse.BooleanOptionalAction, help="registration asks for a phone"
    )


def register(subparsers: SubParsers) -> None:
    """Add `event` to the `chamberbot` command."""
    common = command_options()
    numbered = argparse.ArgumentParser(add_help=False, parents=[common])
    numbered.add_argument("number", type=int, help="the event's number")

    event = subparsers.add_parser("event", help="活动: lectures, salons, registrations")
    actions = event.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[common], help="add an event (prints its number)")
    _event_options(add, adding=True)
    add.add_argument("--announce", action="store_true", help="announce it right away")
    add.set_defaults(**_run(_add, needs_event=False))
    listing = actions.add_parser("list", parents=[common], help="every event")
    listing.set_defaults(**_run(_list, needs_event=False))
    for name, action, text in (
        ("show", _show, "one event and its counts"),
        ("announce", _announce, "post it to its target groups (once per group)"),
        ("cancel", _cancel, "cancel it and tell every registrant"),
        ("checkins", _checkins, "who checked in, and when"),
    ):
        sub = actions.add_parser(name, parents=[numbered], help=text)
        sub.set_defaults(**_run(action))
    edit = actions.add_parser("edit", parents=[numbered], help="change an event")
    _event_options(edit, adding=False)
    edit.set_defaults(**_run(_edit))
    export = actions.add_parser("export", parents=[numbered], help="attendee list to a file")
    export.add_argument("--format", choices=FORMATS, default="xlsx", help="csv or xlsx")
    export.add_argument("--out", required=True, help="the file to write")
    export.add_argument("--no-phone", action="store_true", help="leave out phone numbers")
    export.set_defaults(**_run(_export))
