"""One POST to a WeCom HTTP API that makes something happen (a robot's message, a
mass-send task), told apart the way the outbox needs it (bot/transport.py TransportError):

- no connection at all (refused, DNS, connect timeout), or HTTP 5xx → not sent: retried;
- the request went out and no answer came → unknown: it may have happened, so it is never
  sent a second time;
- an answer → the vendor's JSON (a dict with an integer `errcode`), or None when the answer
  is not the vendor's (a proxy's page, a stranger's JSON): each adapter says what that means.

Shared by channels/wecom_webhook.py and channels/wecom_groups.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.transport import TransportError

__all__ = ["post_once"]


async def post_once(
    client: httpx.AsyncClient,
    url: str,
    params: dict[str, str],
    body: dict[str, Any],
    where: str,
) -> tuple[httpx.Response, dict[str, Any] | None]:
    """POST `body`; the response and the vendor's answer in it (None: not the vendor's).
    `where` names the call in the errors raised."""
    try:
        response = await client.post(url, params=params, json=body)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransportError(f"{where}: cannot connect ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:  # it went out; what became of it is not known
        raise TransportError(f"{where}: no answer ({type(exc).__name__})", unknown=True) from None
    if response.status_code >= 500:
        raise TransportError(f"{where}: HTTP {response.status_code}")
    try:
        answer = response.json()
    except json.JSONDecodeError:
        return response, None
    if not isinstance(answer, dict) or not isinstance(answer.get("errcode"), int):
        return response, None
    return response, answer
