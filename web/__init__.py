"""The web console (秘书处工作台): an adapter over the same App, services and outbox as chat."""

from web.app import create_app
from web.server import serve

__all__ = ["create_app", "serve"]
