"""The `chamberbot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from bot.app import App
from bot.clock import Clock, FrozenClock, OffsetClock
from bot.config import Config, ConfigError, load_config
from bot.router import RouterError

__all__ = ["main"]

DEMO_CONFIG = Path(__file__).resolve().parent / "demo" / "config.yaml"


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _app(config: Config, config_path: Path, db_path: Path, clock: Clock | None) -> App:
    try:
        return App(config, db_path=db_path, clock=clock, base_dir=config_path.parent)
    except RouterError as exc:
        raise ConfigError(str(config_path), exc.key, exc.reason) from None


def _demo(args: argparse.Namespace) -> int:
    from bot.console import ConsoleDemo

    config = load_config(DEMO_CONFIG)
    clock: Clock
    if args.start:
        start = datetime.fromisoformat(args.start)
        clock = FrozenClock(start if start.tzinfo else start.replace(tzinfo=config.tz))
    else:
        clock = OffsetClock(config.tz)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(args.data) if args.data else Path(scratch if args.script else "data")
        db_path = data / config.database
        if args.fresh and db_path.exists():
            db_path.unlink()
        app = _app(config, DEMO_CONFIG, db_path, clock)
        demo = ConsoleDemo(app, _write)
        if args.script:
            lines = Path(args.script).read_text(encoding="utf-8").splitlines()
            asyncio.run(demo.run_script(lines))
        else:
            asyncio.run(demo.interactive())
        app.db.close()
    return 0


def _check(args: argparse.Namespace) -> int:
    path = Path(args.config)
    config = load_config(path)
    with tempfile.TemporaryDirectory() as scratch:
        _app(config, path, Path(scratch) / "check.db", None).db.close()
    _write(f"{path}: OK")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chamberbot", description="商会助手")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="console chat on the embedded default, no WeChat")
    demo.add_argument("--script", help="read the chat from FILE and print the transcript")
    demo.add_argument("--data", help="data folder (default ./data; a scratch one with --script)")
    demo.add_argument("--start", help="start the demo clock at this ISO time (frozen clock)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty database")
    demo.set_defaults(func=_demo)
    check = sub.add_parser("check", help="validate a config file")
    check.add_argument("--config", required=True)
    check.set_defaults(func=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
