"""`chamberbot web user add | passwd | remove | list`: the console's accounts.

    chamberbot web user add NAME --contact WXID [--role staff|admin] [--password-stdin]
    chamberbot web user passwd NAME [--password-stdin]
    chamberbot web user remove NAME
    chamberbot web user list

Every command takes `--config FILE` (default: the demo's, with ./data/demo.db) and
`--db FILE`. The password is read without echo (getpass), twice, or — with
`--password-stdin` — as the first line of standard input. Output comes from
web/templates/cli.txt.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.feature import command_options, with_services
from bot.services import Services
from web.console import Console
from web.store import WebRole

__all__ = ["MIN_PASSWORD", "register"]

MIN_PASSWORD = 8
OK, NOT_FOUND, INVALID = 0, 1, 2


def _say(console: Console, kind: str, *, error: bool = False, **context: Any) -> None:
    text = console.env.get_template("cli.txt").render(kind=kind, **context).strip()
    stream = sys.stderr if error else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def _password(console: Console, args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(console.env.get_template("cli.txt").render(kind="ask").strip())
        again = getpass.getpass(console.env.get_template("cli.txt").render(kind="again").strip())
        if password != again:
            _say(console, "mismatch", error=True)
            return None
    if len(password) < MIN_PASSWORD:
        _say(console, "short", error=True, min=MIN_PASSWORD)
        return None
    return password


def _user(app: Services, args: argparse.Namespace) -> int:
    console = Console(app)
    accounts = console.accounts
    if args.action == "list":
        staff = {s.contact_id: s.name for s in app.config.staff}
        _say(console, "list", users=accounts.all(), staff=staff)
        return OK
    if args.action == "remove":
        removed = accounts.remove(args.name)
        _say(console, "removed" if removed else "unknown", error=not removed, name=args.name)
        return OK if removed else NOT_FOUND
    exists = accounts.find(args.name) is not None
    if args.action == "passwd" and not exists:
        _say(console, "unknown", error=True, name=args.name)
        return NOT_FOUND
    if args.action == "add":
        if exists:
            _say(console, "exists", error=True, name=args.name)
            return INVALID
        if args.contact not in app.people.staff:
            known = [f"{s.contact_id}（{s.name}）" for s in app.config.staff]
            _say(console, "not_staff", error=True, contact=args.contact, known=known)
            return INVALID
    password = _password(console, args)
    if password is None:
        return INVALID
    if args.action == "add":
        accounts.add(args.name, args.contact, WebRole(args.role), password, app.clock.now())
        _say(
            console,
            "added",
            name=args.name,
            staff=app.people.staff_name(args.contact),
            role=args.role,
        )
    else:
        accounts.set_password(args.name, password, app.clock.now())
        _say(console, "passwd", name=args.name)
    return OK


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `web user …` to the `chamberbot` command."""
    common = command_options()
    web = subparsers.add_parser("web", help="the web console (秘书处工作台)")
    web_sub = web.add_subparsers(dest="web_command", required=True)
    user = web_sub.add_parser("user", help="console accounts")
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[common], help="add an account for a staff member")
    add.add_argument("name", help="login name")
    add.add_argument("--contact", required=True, help="the staff member's WeChat contact id")
    add.add_argument(
        "--role",
        choices=[r.value for r in WebRole],
        default="staff",
        help="staff (default) or admin (may manage accounts)",
    )
    passwd = actions.add_parser("passwd", parents=[common], help="set a new password")
    passwd.add_argument("name", help="login name")
    for parser in (add, passwd):
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
    remove = actions.add_parser("remove", parents=[common], help="remove an account")
    remove.add_argument("name", help="login name")
    actions.add_parser("list", parents=[common], help="every account")
    user.set_defaults(**with_services(_user))
