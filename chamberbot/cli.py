"""The `chamberbot` command: demo, check, run, rooms, channels, and every feature's
sub-commands."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from bot.clock import Clock, FrozenClock, OffsetClock
from bot.config import Config, ConfigError, id_warnings
from bot.feature import command_options, with_services
from bot.logs import LEVELS, setup_logging
from bot.services import Services
from chamberbot.ops_cli import register as register_ops
from chamberbot.root import DEMO_CONFIG, FEATURES, build, default_db, load
from handlers.cases.calendar_cli import summary as calendar_summary
from handlers.operations.backup import BackupError, RunLock

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from bot.config import Config
    from bot.runtime import Runtime
    from bot.transport import Transport
    from channels.wecom_bot_app import WecomSettings
    from channels.wecom_groups import GroupsSettings
    from channels.wecom_kf_app import KfSettings

__all__ = ["main"]


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _with_web(runtime: Runtime, *, demo: bool, routes: Sequence[BaseRoute] = ()) -> None:
    """Serve the web console next to the transport (with the channels' `routes`: 微信客服's
    callback URL); the demo also gets a fresh login."""
    from web.server import bind, demo_login, serve
    from web.settings import web_settings

    services = runtime.services
    listen = web_settings(services).listen
    if not web_settings(services).enabled:
        return
    try:
        sock = bind(listen)
    except OSError as exc:
        sys.stderr.write(f"chamberbot: web.listen {listen}: {exc.strerror}\n")
        if demo:
            return  # the chat demo still works without the console
        raise SystemExit(1) from None
    host, port = sock.getsockname()[:2]
    if demo:
        _write(demo_login(services, host, port))
    runtime.companions.append(lambda stop: serve(services, stop, sock, routes))


def _demo(args: argparse.Namespace) -> int:
    from channels.console_demo import ConsoleDemo

    config = load(DEMO_CONFIG)
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
        services = build(config, DEMO_CONFIG, db_path, clock)
        demo = ConsoleDemo(services, _write)
        if not args.script:
            _with_web(demo.runtime, demo=True)
        interrupted = False
        if args.script:
            lines = Path(args.script).read_text(encoding="utf-8").splitlines()
            asyncio.run(demo.run_script(lines))
        else:
            interrupted = asyncio.run(demo.interactive())
        services.close()
    return 130 if interrupted else 0


def _channel_settings(
    config: Config, path: Path, *, required: bool
) -> tuple[tuple[str, str] | None, WecomSettings | None]:
    """The channels the config names: the Wechaty gateway's (endpoint, token) and the WeCom
    AI bot's settings. WeChat counts as named when any of its settings (or variables) is
    given, or — `required`, for `run` — when WeCom is not: then its missing endpoint is the
    error, as before there was a second channel."""
    from channels.wechaty_app import ENV_ENDPOINT, ENV_TOKEN, wechat_settings
    from channels.wecom_bot_app import wecom_settings

    wecom = wecom_settings(config, str(path), os.environ)
    wechat = config.channel("wechat")
    named = wechat.endpoint or wechat.token or os.environ.get(ENV_ENDPOINT)
    if named or os.environ.get(ENV_TOKEN) or (required and wecom is None):
        return wechat_settings(config, str(path), os.environ), wecom
    return None, wecom


def _check(args: argparse.Namespace) -> int:
    """Everything `run` checks before it connects (each channel's settings when any are
    given: the gateway's, WeCom's secret from the environment)."""
    path = Path(args.config)
    config = load(path)
    _channel_settings(config, path, required=False)
    _webhook(config, path)
    _kf(config, path)
    _groups(config, path)
    for warning in id_warnings(config, str(path)):
        sys.stderr.write(f"warning: {warning}\n")
    with tempfile.TemporaryDirectory() as scratch:
        services = build(config, path, Path(scratch) / "check.db")
        services.close()
    _write(calendar_summary(config, services.calendar_file.calendar, services.clock.now()))
    _write(f"{path}: OK")
    return 0


def _wechat(args: argparse.Namespace) -> tuple[Path, str, str]:
    from channels.wechaty_app import wechat_settings

    path = Path(args.config)
    return (path, *wechat_settings(load(path), str(path), os.environ))


def _webhook(config: Config, path: Path) -> Transport | None:
    """The WeCom group robots' channel when the config names any (keys from the
    environment: a missing one is a ConfigError, exit 2)."""
    if config.channels.wecom_webhook is None:
        return None  # nor is its HTTP client imported: a tenth of a second at every start
    from channels.wecom_webhook import webhook_transport

    return webhook_transport(config, path, os.environ)


def _kf(config: Config, path: Path) -> KfSettings | None:
    """微信客服's settings when the config names it (secrets from the environment)."""
    if config.channels.wecom_kf is None:
        return None
    from channels.wecom_kf_app import kf_settings

    return kf_settings(config, str(path), os.environ)


def _groups(config: Config, path: Path) -> GroupsSettings | None:
    """WeCom customer groups' settings when the config names them (secrets: environment)."""
    if config.channels.wecom_customer_groups is None:
        return None
    from channels.wecom_groups import groups_settings

    return groups_settings(config, str(path), os.environ)


def _run(args: argparse.Namespace) -> int:
    """Serve every configured channel in one process until SIGINT/SIGTERM (exit 0):
    WeChat, WeCom's AI bot, 微信客服 (its callback on the web console's server), any of them.

    WeChat: WECHATY_PUPPET_SERVICE_ENDPOINT / WECHATY_PUPPET_SERVICE_TOKEN when set (the
    Wechaty convention: the environment wins), else `channels.wechat.endpoint` / `.token`
    (or the short form `wechat.*`). WeCom: `channels.wecom_bot`, its secret from the
    environment variable `secret_env` names. No channel, or a missing setting →
    ConfigError (exit 2). A channel that cannot be reached or refuses the bot at start-up:
    exit 1 with the reason. Later outages reconnect.
    """
    from bot.runtime import Runtime, serve_until_signalled
    from chamberbot.wal import wal_checkpoints
    from channels.wechaty import GatewayStartError
    from channels.wecom_bot import WecomStartError

    path = Path(args.config)
    config = load(path)
    kf = _kf(config, path)
    groups = _groups(config, path)
    gateway, wecom = _channel_settings(config, path, required=kf is None and groups is None)
    robots = _webhook(config, path)
    for warning in id_warnings(config, str(path)):
        logging.getLogger("chamberbot").warning(warning)
    db_path = config.database_path(path.parent)
    lock = RunLock(db_path)
    try:
        lock.acquire()  # one bot per database; `chamberbot restore` checks it
    except BackupError as exc:
        sys.stderr.write(f"chamberbot: {exc}\n")
        return 1
    try:
        services = build(config, path, db_path)
        transports = _transports(services, gateway, wecom)
        routes: list[BaseRoute] = []
        if kf is not None:
            from channels.wecom_kf_app import callback_routes, kf_transport

            kf_channel = kf_transport(services, kf)
            transports.append(kf_channel)
            routes = callback_routes(kf_channel, kf)
        if groups is not None:
            from channels.wecom_groups import groups_transport

            transports.append(groups_transport(services, groups))
        runtime = Runtime(services, [*transports, *([robots] if robots else [])])
        runtime.companions.append(lambda stop: wal_checkpoints(services.db, db_path, stop))
        _with_web(runtime, demo=False, routes=routes)
        # What was built so far (modules, templates, settings) lives as long as the
        # process: out of the garbage collector's passes with it, or a pass over the
        # oldest objects stops the bot for 20 ms or more now and then, mid-reply.
        gc.collect()
        gc.freeze()
        try:
            asyncio.run(serve_until_signalled(runtime))
        except (GatewayStartError, WecomStartError) as exc:
            sys.stderr.write(f"chamberbot: {exc}\n")
            return 1
        finally:
            services.close()
    finally:
        lock.release()
    return 0


def _transports(
    services: Services, gateway: tuple[str, str] | None, wecom: WecomSettings | None
) -> list[Transport]:
    from bot.journal import Journal
    from channels.wechaty import WechatyTransport
    from channels.wechaty_app import WechatEvents
    from channels.wecom_bot_app import wecom_transport

    transports: list[Transport] = []
    if gateway is not None:
        endpoint, token = gateway
        transports.append(
            WechatyTransport(
                endpoint,
                token,
                WechatEvents(services),
                names=services.people.name,
                journal=Journal(services.db, WechatyTransport.channel),
            )
        )
    if wecom is not None:
        transports.append(wecom_transport(services, wecom))
    return transports


def _channels(services: Services, args: argparse.Namespace) -> int:
    """The chats the bot has seen, and the groups a channel's settings name: channel, id,
    kind (staff group, member group, private chat), name. For copying ids into the config."""
    for c in services.places.conversations(args.channel):
        kind = f"{c.kind} group" if c.is_group else "private"
        _write("\t".join([c.channel, c.id, kind, c.topic or ""]).rstrip())
    return 0


def _rooms(args: argparse.Namespace) -> int:
    """The groups the bot's WeChat account is in: id, topic, size, role in the config."""
    from channels.wechaty import GatewayStartError, list_rooms

    path, endpoint, token = _wechat(args)
    config = load(path)
    try:
        rooms = asyncio.run(list_rooms(endpoint, token, members=args.members))
    except GatewayStartError as exc:
        sys.stderr.write(f"chamberbot: {exc}\n")
        return 1
    for room, members in sorted(rooms, key=lambda r: r[0].topic):
        role = "staff_rooms" if room.id in config.staff_rooms else ""
        _write("\t".join([room.id, room.topic, f"{room.member_count}", role]).rstrip())
        for member in members:
            _write(f"\t{member.id}\t{member.name}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chamberbot", description="商会助手")
    parser.add_argument(
        "--version", action="version", version=f"chamberbot {version('chamberbot')}"
    )
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        help="debug, info, warning or error (default: info for run, warning otherwise);"
        " phone numbers and case descriptions are logged at debug only",
    )
    parser.add_argument(
        "--log-file", help="write the log to FILE, rotated at 10 MB, 5 kept (default stderr)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="console chat on the embedded default, no WeChat")
    demo.add_argument("--script", help="read the chat from FILE and print the transcript")
    demo.add_argument("--data", help="data folder (default ./data; a scratch one with --script)")
    demo.add_argument("--start", help="start the demo clock at this ISO time (frozen clock)")
    demo.add_argument("--fresh", action="store_true", help="start from an empty database")
    demo.set_defaults(func=_demo)
    check = sub.add_parser("check", help="validate a config file")
    check.add_argument("--config", required=True, help="the settings file to validate")
    check.set_defaults(func=_check)
    run = sub.add_parser(
        "run", help="serve the configured channels (WeChat gateway, WeCom AI bot, or both)"
    )
    run.add_argument("--config", required=True, help="the settings file")
    run.set_defaults(func=_run)
    rooms = sub.add_parser("rooms", help="list the bot's WeChat groups (ids for the config)")
    rooms.add_argument("--config", required=True, help="the settings file (gateway)")
    rooms.add_argument("--members", action="store_true", help="also list each group's members")
    rooms.set_defaults(func=_rooms)
    chats = sub.add_parser(
        "channels",
        parents=[command_options()],
        help="list the chats the bot has seen on each channel (ids for the config)",
    )
    chats.add_argument("--channel", help="only this channel (wechat, wecom_bot)")
    chats.set_defaults(**with_services(_channels))
    for feature in FEATURES:
        if feature.cli:
            feature.cli(sub)
    register_ops(sub)
    return parser


def _with_services(args: argparse.Namespace) -> int:
    """A feature's command: the services for --config (default: the demo's) and --db."""
    path = Path(args.config) if args.config else DEMO_CONFIG
    config = load(path)
    db_path = Path(args.db) if args.db else default_db(config, path)
    services: Services = build(config, path, db_path)
    try:
        return int(args.run_with_services(services, args))
    finally:
        services.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    level = args.log_level or ("info" if args.command == "run" else "warning")
    setup_logging(level, args.log_file)
    try:
        if getattr(args, "run_with_services", None):
            return _with_services(args)
        return int(args.func(args))
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
