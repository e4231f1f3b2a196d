"""Transports carry messages between WeChat (or a console) and the core."""

from bot.transports.base import OnMessage, Transport, TransportError

__all__ = ["OnMessage", "Transport", "TransportError"]
