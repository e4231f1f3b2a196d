"""企业画像 (enterprises): each enterprise's profile — name, unified social credit code,
industry, size, region, qualifications, contacts — filled by the enterprise in chat
(完善资料) or on its page, by staff on the console or from a sheet, and by survey answers.

Its one service is `EnterpriseService` (service.py); other features import only that
module. fields.py reads what people write into stored values; settings.py the vocabularies.
"""

from __future__ import annotations

from pathlib import Path

from bot.feature import ConsoleHook, Feature, WebPart
from handlers.enterprises import chat, cli, demo, web
from handlers.enterprises.migrations import MIGRATIONS
from handlers.enterprises.service import EnterpriseService
from handlers.enterprises.settings import EnterpriseSettings

__all__ = ["FEATURE", "EnterpriseService"]

FEATURE = Feature(
    name="enterprises",
    routes=chat.ROUTES,
    prompts=chat.PROMPTS,
    cli=cli.register,
    console=[ConsoleHook("seed", "/seed", demo.console_seed)],
    service=EnterpriseService,
    settings={"enterprises": EnterpriseSettings},
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    web=WebPart([web.routes], [("/enterprises", "企业")]),
)
