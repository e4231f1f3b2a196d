"""`chamberbot backup --out FILE`, `chamberbot restore --from FILE` (handlers/operations)
and `chamberbot calendar show YEAR` (handlers/cases/calendar_cli.py), with --config/--db
defaulting like every other command (the demo's config and ./data/demo.db).

backup and restore do not open the services: a restore must not hold the database open."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.calendar_file import calendar_path, load_calendar
from bot.clock import SystemClock
from bot.config import Config
from bot.feature import command_options
from bot.templates import Templates
from chamberbot.root import DEMO_CONFIG, default_db, load
from handlers.cases.calendar_cli import show
from handlers.operations.backup import BackupError, backup, restore

__all__ = ["register"]


def _database(args: argparse.Namespace) -> tuple[Config, Path]:
    path = Path(args.config) if args.config else DEMO_CONFIG
    config = load(path)
    return config, Path(args.db) if args.db else default_db(config, path)


def _say(config: Config, kind: str, **context: Any) -> None:
    text = Templates(config.tz, None, bot_name=config.bot_name).render(
        "backup_cli", kind=kind, **context
    )
    sys.stdout.write(text + "\n")


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1_048_576:.1f} MB" if size >= 1_048_576 else f"{size / 1024:.0f} KB"


def _backup(args: argparse.Namespace) -> int:
    config, db = _database(args)
    out = Path(args.out)
    try:
        backup(db, out)
    except BackupError as exc:
        sys.stderr.write(f"chamberbot: {exc}\n")
        return 1
    _say(config, "backup", db=db, out=out, size=_size(out))
    return 0


def _restore(args: argparse.Namespace) -> int:
    config, db = _database(args)
    source = Path(args.source)
    try:
        kept = restore(source, db, SystemClock(config.tz).now())
    except BackupError as exc:
        sys.stderr.write(f"chamberbot: {exc}\n")
        return 1
    _say(config, "restore", db=db, source=source, kept=kept)
    return 0


def _show(args: argparse.Namespace) -> int:
    """Exit 0 for a known year, 1 for a year counted Monday to Friday."""
    if args.config:
        path = Path(args.config)
        config = load(path)
        calendar = load_calendar(calendar_path(config.calendar.file, path.parent))
    else:
        config, calendar = Config(), load_calendar(None)
    text, known = show(config, calendar, args.year)
    sys.stdout.write(text + "\n")
    return 0 if known else 1


def register(sub: argparse._SubParsersAction) -> None:
    common = command_options()
    b = sub.add_parser(
        "backup", parents=[common], help="copy the database, safely while the bot runs"
    )
    b.add_argument("--out", required=True, help="the backup file to write")
    b.set_defaults(func=_backup)
    r = sub.add_parser(
        "restore", parents=[common], help="replace the database by a backup (bot stopped)"
    )
    r.add_argument("--from", dest="source", required=True, help="the backup file to restore")
    r.set_defaults(func=_restore)
    calendar = sub.add_parser("calendar", help="the working-day calendar (holidays, 调休)")
    commands = calendar.add_subparsers(dest="calendar_command", required=True)
    c = commands.add_parser("show", help="list a year's holidays and make-up workdays")
    c.add_argument("year", type=int, help="the year, e.g. 2027")
    c.add_argument("--config", help="the config whose calendar.file is included (default: none)")
    c.set_defaults(func=_show)
