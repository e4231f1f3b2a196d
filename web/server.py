"""Serving the console with uvicorn inside the bot's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Iterator, Sequence

import uvicorn
from starlette.routing import BaseRoute

from bot.services import Services
from web.app import create_app
from web.console import Console
from web.settings import web_settings
from web.store import WebRole

__all__ = ["DEMO_USER", "bind", "demo_login", "serve"]

DEMO_USER = "demo"

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the bot's runtime owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(listen: str) -> socket.socket:
    """A listening socket for HOST:PORT (port 0: any free port)."""
    host, _, port = listen.rpartition(":")
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), int(port)))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(
    app: Services,
    stop: asyncio.Event,
    sock: socket.socket | None = None,
    routes: Sequence[BaseRoute] = (),
) -> None:
    """Serve the console until `stop` is set. `sock`: an already bound socket (tests);
    `routes`: the channels' own (create_app's `extra`)."""
    sock = sock or bind(web_settings(app).listen)
    config = uvicorn.Config(
        create_app(app, routes),
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        # a request still open at the stop (a browser's) cannot hold the bot's exit for ever
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    host, port = sock.getsockname()[:2]
    log.info("web console on http://%s:%s/", host, port)
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()


def demo_login(app: Services, host: str, port: int) -> str:
    """`chamberbot demo`: an admin account `demo` (as the first admin) with a new password."""
    console = Console(app)
    password = secrets.token_urlsafe(6)
    now = app.clock.now()
    if console.accounts.find(DEMO_USER):
        console.accounts.set_password(DEMO_USER, password, now)
    else:
        contact = app.config.admins[0] if app.config.admins else app.config.staff[0].contact_id
        console.accounts.add(DEMO_USER, contact, WebRole.ADMIN, password, now)
    shown = f"[{host}]" if ":" in host else host
    return (
        console.env.get_template("cli.txt")
        .render(kind="demo", url=f"http://{shown}:{port}/", username=DEMO_USER, password=password)
        .strip()
    )
