"""微信客服 in a running chamberbot: its settings (secrets from the environment), the
callback route the web console's server carries (no login: the vendor's signature is the
check), and the transport built from them.

The callback (the vendor's page 接收消息与事件 / 回调配置):
- GET ?msg_signature&timestamp&nonce&echostr — the URL check when it is saved in the admin
  console: the signature over the echostr verified, the echostr decrypted and answered;
- POST ?msg_signature&timestamp&nonce with `<xml><Encrypt>…</Encrypt></xml>` — verified
  (else 403), decrypted (else 400), new (a replayed signature: 409), an event
  `kf_msg_or_event` for our `open_kfid` whose Token wakes the reader; answered `success`.
Each refusal is logged with its reason; none of them reads or handles anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.config import Config, ConfigError, WecomKf
from bot.journal import Journal
from bot.services import Services
from channels.wecom_kf import CHANNEL, KfTransport
from channels.wecom_kf_api import KfApi
from channels.wecom_kf_crypto import CallbackCrypto, CryptoError
from channels.wecom_kf_store import KfStore
from web.settings import WebSettings

__all__ = ["KfSettings", "callback_routes", "kf_settings", "kf_transport"]

log = logging.getLogger(__name__)

KEY = "channels.wecom_kf"
MAX_BODY = 64 * 1024  # a callback is a few hundred bytes


@dataclass(frozen=True)
class KfSettings:
    """`channels.wecom_kf` with its secrets read from the environment."""

    section: WecomKf
    corp_id: str
    secret: str
    token: str
    aes_key: str

    def crypto(self) -> CallbackCrypto:
        return CallbackCrypto(self.token, self.aes_key, self.corp_id)


def kf_settings(config: Config, file: str, environ: Mapping[str, str]) -> KfSettings | None:
    """微信客服's settings, or None when the config has no `channels.wecom_kf`; a missing
    variable, a malformed EncodingAESKey or the web server off is a ConfigError."""
    section = config.channels.wecom_kf
    if section is None:
        return None
    values = []
    for name in ("corp_id_env", "secret_env", "token_env", "aes_key_env"):
        variable = getattr(section, name)
        value = environ.get(variable, "")
        if not value:
            raise ConfigError(file, f"{KEY}.{name}", f"environment variable {variable} is not set")
        values.append(value)
    settings = KfSettings(section, *values)
    try:
        settings.crypto()
    except ValueError as exc:
        raise ConfigError(file, f"{KEY}.aes_key_env", f"{section.aes_key_env}: {exc}") from None
    if not config.section("web", WebSettings).enabled:
        reason = "the callback is served by the web console: web.enabled must be true"
        raise ConfigError(file, KEY, reason)
    return settings


def kf_transport(services: Services, settings: KfSettings) -> KfTransport:
    section = settings.section

    def outage(reason: str) -> None:
        with services.db.atomic():
            services.outbox.enqueue(services.notices.to_staff("kf_outage", reason=reason))

    return KfTransport(
        KfApi(section.api_url, settings.corp_id, settings.secret, services.clock),
        KfStore(services.db),
        Journal(services.db, CHANNEL),
        services.outbox,
        open_kfid=section.open_kfid,
        render=services.templates.render,
        clock=services.clock,
        servicers=section.servicers,
        window_hours=section.window_hours,
        window_messages=section.window_messages,
        on_outage=outage,
    )


def callback_routes(transport: KfTransport, settings: KfSettings) -> list[BaseRoute]:
    """The callback URL's route, for the web console's server."""
    crypto = settings.crypto()
    open_kfid = settings.section.open_kfid

    def refuse(request: Request, status: int, reason: str) -> Response:
        log.warning("微信客服 callback refused (%d): %s", status, reason)
        return PlainTextResponse(reason, status)

    async def check(request: Request) -> Response:
        q = request.query_params
        echo = q.get("echostr", "")
        try:
            crypto.verify(
                q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", ""), echo
            )
            return PlainTextResponse(crypto.decrypt(echo))
        except CryptoError as exc:
            return refuse(request, 403 if "signature" in str(exc) else 400, str(exc))

    async def callback(request: Request) -> Response:
        q = request.query_params
        signature = q.get("msg_signature", "")
        body = await request.body()
        if len(body) > MAX_BODY or b"<!DOCTYPE" in body.upper():
            return refuse(request, 400, "not a callback")
        try:
            encrypted = _field(body, "Encrypt")
            crypto.verify(signature, q.get("timestamp", ""), q.get("nonce", ""), encrypted)
        except (CryptoError, ValueError) as exc:
            return refuse(request, 403, str(exc))
        try:
            inner = crypto.decrypt(encrypted).encode()
            event, token = _field(inner, "Event"), _field(inner, "Token")
            kfid = _field(inner, "OpenKfId")
        except (CryptoError, ValueError) as exc:
            return refuse(request, 400, f"cannot read it: {exc}")
        if not transport.store.first_callback(signature, transport.clock.now()):
            return refuse(request, 409, "replayed (this signature was handled before)")
        if event != "kf_msg_or_event" or kfid != open_kfid:
            log.info("微信客服 callback %s for %s: nothing to read", event, kfid)
            return PlainTextResponse("success")
        transport.notify(token)
        return PlainTextResponse("success")

    path = settings.section.callback_path
    return [Route(path, check, methods=["GET"]), Route(path, callback, methods=["POST"])]


def _field(xml: bytes, name: str) -> str:
    """One element's text of a callback's XML; ValueError when it is not there."""
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ValueError(f"not XML ({exc})") from None
    found = root.find(name)
    if found is None or not found.text:
        raise ValueError(f"no {name}")
    return found.text
