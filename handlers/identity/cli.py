"""`chamberbot identity …`: staff link a member's contacts without chat.

identity code CONTACT      a one-time code for CONTACT (the member types 绑定 <code>
                           in their other channel)
identity link A B          A and B are one person (staff checked it otherwise)
identity unlink CONTACT    CONTACT is on its own again
identity show CONTACT      the contacts of CONTACT's person
"""

from __future__ import annotations

import argparse
import sys

from bot.db import transaction
from bot.feature import SubParsers, command_options, with_services
from bot.services import Services
from handlers.identity.service import IdentityService

__all__ = ["register"]


def _say(app: Services, **context: object) -> int:
    sys.stdout.write(app.templates.render("identity_cli", **context).strip() + "\n")
    return 0


def _code(app: Services, args: argparse.Namespace) -> int:
    identity = app.service(IdentityService)
    with transaction(app.db):
        code, expires = identity.issue(identity.contact_link(args.contact), app.clock.now())
    return _say(app, kind="code", contact=args.contact, code=code, expires=expires)


def _link(app: Services, args: argparse.Namespace) -> int:
    if args.a == args.b:
        _say(app, kind="same")
        return 1
    identity = app.service(IdentityService)
    a, b = identity.contact_link(args.a), identity.contact_link(args.b)
    with transaction(app.db):
        linked = identity.link(a, b, app.clock.now(), by="staff")
    return _say(app, kind="linked" if linked else "already", a=args.a, b=args.b)


def _unlink(app: Services, args: argparse.Namespace) -> int:
    with transaction(app.db):
        others = app.service(IdentityService).unlink(args.contact)
    return _say(app, kind="unlinked", contact=args.contact, others=[o.contact_id for o in others])


def _show(app: Services, args: argparse.Namespace) -> int:
    links = app.service(IdentityService).links(args.contact)
    return _say(app, kind="show", contact=args.contact, links=links)


def register(commands: SubParsers) -> None:
    group = commands.add_parser("identity", help="一人多渠道: link a member's contacts")
    sub = group.add_subparsers(dest="action", required=True)
    for name, action, arguments, summary in (
        ("code", _code, ("contact",), "a one-time link code for a contact"),
        ("link", _link, ("a", "b"), "link two contacts as one person"),
        ("unlink", _unlink, ("contact",), "take a contact out of its person"),
        ("show", _show, ("contact",), "the contacts of a contact's person"),
    ):
        parser = sub.add_parser(name, parents=[command_options()], help=summary)
        for argument in arguments:
            parser.add_argument(
                argument, help="a contact id (wxid_…, a 微信客服 external_userid …)"
            )
        parser.set_defaults(**with_services(action))
