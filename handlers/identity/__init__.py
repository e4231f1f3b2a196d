"""一人多渠道 (identity): a member who writes from personal WeChat and from 微信客服 is one
person. 绑定 links the channels with a one-time code (chat.py), staff link contacts from
the command line (cli.py); every feature looks up "this contact's things" through
`People.same_person`, which `IdentityService` (service.py) installs. A status push the
origin channel holds (the 客服 reply window) goes to the person's most recently active
linked channel, and the case's timeline says so (reroute.py).
"""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature, WebPart
from handlers.identity import chat, cli, reroute, web
from handlers.identity.migrations import MIGRATIONS
from handlers.identity.service import IdentityService

__all__ = ["FEATURE", "IdentityService"]

FEATURE = Feature(
    name="identity",
    routes=chat.ROUTES,
    jobs=reroute.JOBS,
    cli=cli.register,
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    service=IdentityService,
    web=WebPart([web.routes], [("/identity", "渠道绑定")]),
)
