"""`chamberbot portal revoke CONTACT`: a member's page links stop opening, at once.

For a lost phone or a link forwarded by mistake: every link of the contact is revoked and
every page they opened is logged out; the member asks for a fresh one with 我的主页.
"""

from __future__ import annotations

import argparse
import sys

from bot.db import transaction
from bot.feature import SubParsers, command_options, with_services
from bot.services import Services
from handlers.portal.service import PortalService

__all__ = ["register"]


def _revoke(app: Services, args: argparse.Namespace) -> int:
    with transaction(app.db):
        count = app.service(PortalService).revoke(args.contact, app.clock.now())
    text = app.templates.render("portal_cli", kind="revoked", contact_id=args.contact, count=count)
    sys.stdout.write(text.strip() + "\n")
    return 0


def register(subparsers: SubParsers) -> None:
    portal = subparsers.add_parser("portal", help="the member page (企业服务页)")
    actions = portal.add_subparsers(dest="portal_command", required=True)
    revoke = actions.add_parser(
        "revoke", parents=[command_options()], help="end a member's page links and sessions"
    )
    revoke.add_argument("contact", help="the member's contact id")
    revoke.set_defaults(**with_services(_revoke))
