"""WeCom customer groups (客户群): digests as mass-send tasks (企业群发) a staff member confirms.

The vendor's protocol (developer.work.weixin.qq.com/document/path/92135 创建企业群发, page
updated 2025-11-17; /93338 获取群发记录列表 and 获取企业群发成员执行结果, read in 2026):

- `POST externalcontact/add_msg_template?access_token=…` with `{"chat_type": "group",
  "sender": <userid>, "chat_id_list": [<chat_id> …] (at most 2,000), "text": {"content"}}`
  (text at most 4,000 bytes) → `{"errcode": 0, "msgid", "fail_list": [...]}`. Nothing is
  sent yet: the sender (the groups' 群主) gets the task in WeCom and confirms it.
- `POST externalcontact/get_groupmsg_send_result` with `{"msgid", "userid", "limit",
  "cursor"}` → `send_list: [{"chat_id", "userid", "status", "send_time"}]`, `next_cursor`;
  status 0 未发送, 1 已发送, 3 not sent because the group already reached its limit.
- Each customer group receives at most as many mass messages a month as the month has days
  (adjustable in WeCom to 7 a week or 1 a day); the figure was 4 a month before.
- `access_token` from `gettoken` with the corp id and the 客户联系 secret, kept until it
  expires (channels/wecom_kf_api.py's client, shared).

The outbox row of a task (handlers/policies/mass_send.py) is what this adapter sends: an
outage or errcode -1 → retried with the outbox's backoff; a request that went out with no
answer, or with an answer that is not the vendor's (no integer errcode, or errcode 0 with
no msgid) → unknown (it may exist in WeCom: never created again, staff told); a refusal →
failed (staff told). The results are read by the policies feature's scheduled job through
`read_results`, which this channel registers while it runs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channel_settings import CustomerGroups
from bot.config import Config, ConfigError
from bot.messages import Outgoing
from bot.services import Services
from bot.transport import OnMessage, TransportError
from channels.wecom_http import post_once
from channels.wecom_kf_api import ApiError, KfApi
from handlers.policies import mass_send, mass_tasks

__all__ = ["CHANNEL", "GroupsSettings", "GroupsTransport", "groups_settings", "groups_transport"]

log = logging.getLogger(__name__)

CHANNEL = mass_send.CHANNEL
KEY = f"channels.{CHANNEL}"
CREATE, RESULTS = "externalcontact/add_msg_template", "externalcontact/get_groupmsg_send_result"


@dataclass(frozen=True)
class GroupsSettings:
    section: CustomerGroups
    corp_id: str
    secret: str


def groups_settings(
    config: Config, file: str, environ: Mapping[str, str]
) -> GroupsSettings | None:
    """The section with its secrets, None when not configured; ConfigError for a missing
    variable or a chat_id listed twice."""
    section = config.channels.wecom_customer_groups
    if section is None:
        return None
    values = []
    for name in ("corp_id_env", "secret_env"):
        variable = getattr(section, name)
        value = environ.get(variable, "").strip()
        if not value:
            raise ConfigError(file, f"{KEY}.{name}", f"environment variable {variable} is not set")
        values.append(value)
    seen: dict[str, str] = {}
    for name, group in section.groups.items():
        if group.chat_id in seen:
            reason = f"chat_id {group.chat_id} is also group {seen[group.chat_id]!r}"
            raise ConfigError(file, f"{KEY}.groups.{name}.chat_id", reason)
        seen[group.chat_id] = name
    if not section.api_url.startswith(("https://", "http://")):
        raise ConfigError(file, f"{KEY}.api_url", "expected an http(s) URL")
    return GroupsSettings(section, *values)


def groups_transport(services: Services, settings: GroupsSettings) -> GroupsTransport:
    api = KfApi(settings.section.api_url, settings.corp_id, settings.secret, services.clock)
    return GroupsTransport(services, api)


class GroupsTransport:
    channel = CHANNEL

    def __init__(self, services: Services, api: KfApi) -> None:
        self.app, self.api = services, api
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the token is in the URL

    async def start(self, on_message: OnMessage) -> None:
        """Nothing arrives on this channel; its results are read by the scheduled job."""
        mass_send.set_result_reader(self.read_results)

    async def stop(self) -> None:
        mass_send.set_result_reader(None)
        await self.api.close()

    # -- creating a task --------------------------------------------------------------------

    async def send(self, out: Outgoing) -> None:
        task_id = mass_send.task_id_of(out.conversation_id)
        task = mass_tasks.task(self.app, task_id) if task_id is not None else None
        if task is None or task_id is None:
            raise TransportError(f"no mass-send task {out.conversation_id}", permanent=True)
        body = {
            "chat_type": "group",
            "sender": task.sender,
            "chat_id_list": list(task.groups),
            "text": {"content": out.text},
        }
        try:
            answer = await self._create(body)
        except TransportError as exc:
            if exc.unknown:
                mass_tasks.set_status(self.app, task_id, "unknown", str(exc))
            elif exc.permanent:
                mass_tasks.set_status(self.app, task_id, "failed", str(exc))
            raise
        failed = [str(f) for f in answer.get("fail_list") or []]
        mass_tasks.record_created(self.app, task_id, str(answer.get("msgid", "")), failed)
        log.info("mass-send task %s created for %s (%s)", task_id, task.sender, answer["msgid"])

    async def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        """add_msg_template, once: a new token and one more try when the token was stale."""
        for attempt in range(2):
            try:
                token = await self.api.access_token(renew=attempt > 0)
            except ApiError as exc:
                raise TransportError(str(exc), permanent=not exc.transient) from None
            url = f"{self.api.base_url.rstrip('/')}/{CREATE}"
            _, answer = await post_once(
                self.api.client, url, {"access_token": token}, body, CREATE
            )
            if answer is None or (answer["errcode"] == 0 and not answer.get("msgid")):
                # a proxy's page or a stranger's JSON: WeCom may have made the task all the same
                raise TransportError(f"{CREATE}: not the vendor's answer", unknown=True)
            code = answer["errcode"]
            if code in (40014, 42001) and attempt == 0:
                continue
            if code == -1:
                raise TransportError(f"{CREATE}: -1 {answer.get('errmsg', '')}")
            if code:
                reason = f"{CREATE}: {code} {answer.get('errmsg', '')}"
                raise TransportError(reason, permanent=True)
            return dict(answer)
        raise TransportError(f"{CREATE}: access_token refused twice")

    # -- reading the results --------------------------------------------------------------

    async def read_results(self) -> None:
        """Every task still 待确认: its groups' results; a failure waits for the next poll."""
        for task in mass_tasks.pending_tasks(self.app):
            try:
                results = await self._results(str(task.msgid), task.sender)
            except ApiError as exc:
                log.warning("mass-send task %s: results not read (%s); next poll", task.id, exc)
                continue
            wanted = {c: r for c, r in results.items() if c in task.groups}
            if mass_tasks.record_results(self.app, task.id, wanted):
                log.info("mass-send task %s: every group has its result", task.id)

    async def _results(self, msgid: str, sender: str) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        cursor = ""
        for _ in range(100):  # at most 100 pages of 1,000
            body = {"msgid": msgid, "userid": sender, "limit": 1000, "cursor": cursor}
            answer = await self.api.post(RESULTS, body)
            for row in answer.get("send_list") or []:
                chat = str(row.get("chat_id") or "")
                if chat:
                    found[chat] = (int(row.get("status", 0)), int(row.get("send_time") or 0))
            cursor = str(answer.get("next_cursor") or "")
            if not cursor:
                break
        return found
