"""The web console (秘书处工作台): an adapter over the same services and outbox as chat.

Its manifest brings the `web:` settings section, its own tables (accounts) and the
`chamberbot web user …` commands; the composition root serves it next to the transport.
"""

from bot.feature import Feature
from web.cli import register
from web.settings import WebSettings
from web.store import MIGRATIONS

__all__ = ["FEATURE"]

FEATURE = Feature(name="web", settings={"web": WebSettings}, migrations=[MIGRATIONS], cli=register)
