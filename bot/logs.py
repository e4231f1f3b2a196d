"""Logging for the `chamberbot` command: time, level, logger, message; optionally rotating.

One line per case change (handlers.cases.service), send and failure (bot.sender), reconnect
(channels), shutdown (bot.runtime). At INFO no line carries a phone number or a
case description — those appear at DEBUG only, for staff who raise the level.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

__all__ = ["FORMAT", "LEVELS", "setup_logging"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LEVELS = ("debug", "info", "warning", "error")
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
_NAME = "chamberbot"


def setup_logging(level: str, file: str | None = None) -> logging.Handler:
    """One stream or rotating-file handler on the root logger (replacing an earlier one
    of ours; handlers others installed, such as pytest's, stay)."""
    handler: logging.Handler
    if file:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            file, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.set_name(_NAME)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    # APScheduler says "Running job …" at INFO every sweep; keep it for debug.
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level == "debug" else logging.WARNING
    )
    return handler
