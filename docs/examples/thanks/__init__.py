"""谢谢: a member thanks the chamber and hears how often they have — the smallest feature
that has everything a feature may own (a route, a service, a table, a setting, a template).
It is loaded by tests/test_architecture.py and is not one of the shipped FEATURES."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from bot.db import to_db
from bot.feature import Feature
from bot.messages import Outgoing
from bot.router import Context, Route
from bot.services import Services

__all__ = ["FEATURE", "ThanksService", "ThanksSettings"]

MIGRATIONS = Migrations("thanks")


@MIGRATIONS()
def m001_thanks(db: Database) -> None:
    db.table("thanks").create({"id": int, "contact_id": str, "at": str}, pk="id")


class ThanksSettings(BaseModel):
    """The `thanks:` section of the config file."""

    signature: str = "商会秘书处"


class ThanksService:
    """The feature's one service: every adapter (chat, CLI, web) calls it."""

    def __init__(self, db: Database, settings: ThanksSettings) -> None:
        self.db, self.settings = db, settings

    def thank(self, contact_id: str, now: datetime) -> int:
        """Record a thank-you; how many this contact has said so far."""
        self.db.execute(
            "insert into thanks (contact_id, at) values (?, ?)", [contact_id, to_db(now)]
        )
        row = self.db.execute("select count(*) from thanks where contact_id = ?", [contact_id])
        return int(row.fetchone()[0])


def thank(ctx: Context) -> list[Outgoing]:
    thanks = ctx.service(ThanksService)
    count = thanks.thank(ctx.msg.sender_id, ctx.now)
    return [ctx.say("thanks_reply", count=count, signature=thanks.settings.signature)]


def _service(services: Services) -> ThanksService:
    return ThanksService(services.db, services.config.section("thanks", ThanksSettings))


FEATURE = Feature(
    name="thanks",
    routes=[Route("thanks", ("谢谢", "感谢"), thank, "谢谢", "向商会致谢")],
    settings={"thanks": ThanksSettings},
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    service=_service,
)
