"""企业服务页 (portal): the enterprise's own page — a mobile web page on the console's server,
opened from a personal link the bot sends in a private chat (我的主页).

Modules: settings (`portal:`), store (tables), service (links, sessions, photos; the
feature's one service), chat (我的主页), cli (`chamberbot portal revoke`), member (the page's
kit: templates, session, CSRF, headers), web (the app mounted at /m and the staff photo
pages), web_cases / web_report / web_events / web_profile (the pages), photos (checks and
storage), extras (the sections surveys and policy matching fill).
"""

from __future__ import annotations

from pathlib import Path

from bot.feature import Feature, WebPart
from bot.router import Route
from bot.services import Services
from handlers.portal import chat, cli, web
from handlers.portal.service import PortalService
from handlers.portal.settings import PortalSettings
from handlers.portal.store import MIGRATIONS

__all__ = ["FEATURE", "PortalService"]

ROUTES: list[Route] = [
    Route(
        "my_page",
        ("我的主页",),
        chat.my_page,
        "我的主页",
        "获取企业服务页专属链接（私聊）：诉求、活动、资料、问卷、政策",
    ),
]


def _uploads(services: Services) -> Path:
    """The photos' folder: next to the database file (in the config's data_dir)."""
    db = Path(str(services.db_path))
    if str(services.db_path) == ":memory:" or str(services.db_path).startswith("file:"):
        data = Path(services.config.data_dir)
        db = (data if data.is_absolute() else services.base_dir / data) / "memory.db"
    return db.parent / "portal_uploads"


def _service(services: Services) -> PortalService:
    return PortalService(services.db, services.config, _uploads(services))


FEATURE = Feature(
    name="portal",
    routes=ROUTES,
    cli=cli.register,
    settings={"portal": PortalSettings},
    migrations=[MIGRATIONS],
    templates=Path(__file__).resolve().parent / "templates",
    service=_service,
    web=WebPart([web.pages]),
)
