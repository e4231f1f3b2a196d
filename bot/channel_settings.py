"""The settings of the chat networks (`channels:`): WeChat's gateway, WeCom's AI bot, the
WeCom group robots, and the outbox pacing each channel has. Part of bot/config.py's
`Config`; the adapters in channels/ read them."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.strict import Strict as _Strict

__all__ = [
    "Channel",
    "Channels",
    "CustomerGroup",
    "CustomerGroups",
    "Pacing",
    "Robot",
    "Webhooks",
    "WecomBot",
    "WecomKf",
]


class Pacing(_Strict):
    min_gap_seconds: float = Field(3.0, ge=0)
    global_per_minute: int = Field(20, ge=1)
    jitter_seconds: float = Field(1.5, ge=0)
    retry_max_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(8, ge=1)


class Robot(_Strict):
    """A send-only group robot (`channels.<name>.robots.<robot>`, e.g. a WeCom 群机器人):
    one internal group reached by a webhook whose key is in an environment variable."""

    key_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="env var: the key")
    url: str | None = Field(None, description="the webhook; None: the vendor's")
    tags: list[str] = Field(default_factory=list, description="digests: policies' tags")


class Channel(_Strict):
    """WeChat through a Wechaty puppet-service gateway (`channels.wechat`, or the short form
    `wechat:` + `pacing:`)."""

    endpoint: str | None = None
    token: str | None = None
    pacing: Pacing = Pacing()


class Webhooks(_Strict):
    """Send-only group robots (`channels.wecom_webhook`): the adapter is
    channels/wecom_webhook.py; each robot is one conversation of the channel."""

    robots: dict[str, Robot] = Field(default_factory=dict)
    pacing: Pacing = Pacing()


class WecomBot(_Strict):
    """The WeCom 智能机器人 (AI bot) over its long connection (`channels.wecom_bot`); the
    adapter is channels/wecom_bot.py. The secret is read from the environment variable
    named by `secret_env`, never from this file."""

    bot_id: str = Field(min_length=1, description="the robot's BotID (管理后台 → 智能机器人)")
    secret_env: str = Field("WECOM_BOT_SECRET", min_length=1)
    url: str = "wss://openws.work.weixin.qq.com"  # DEFAULT_WS_URL of the vendor's SDKs
    ca_file: str | None = Field(None, description="extra CA certificate (PEM) to trust")
    name: str | None = Field(None, description="the robot's name in WeCom; default bot_name")
    staff_groups: list[str] = Field(default_factory=list)
    member_groups: list[str] = Field(default_factory=list)
    heartbeat_seconds: float = Field(30.0, gt=0)
    max_backoff_seconds: float = Field(1.0, gt=0, le=5)
    reply_window_seconds: float = Field(300.0, ge=0, le=360)
    pacing: Pacing = Pacing()

    @field_validator("url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if not value.startswith("wss://") or len(value) <= len("wss://"):
            raise ValueError("expected a wss:// URL (the long connection always speaks TLS)")
        return value


_ENV = r"^[A-Za-z_][A-Za-z0-9_]*$"


class WecomKf(_Strict):
    """微信客服 (`channels.wecom_kf`, channels/wecom_kf.py); secrets from the env only."""

    corp_id_env: str = Field("WECOM_KF_CORP_ID", pattern=_ENV)
    secret_env: str = Field("WECOM_KF_SECRET", pattern=_ENV)
    token_env: str = Field("WECOM_KF_TOKEN", pattern=_ENV, description="callback Token")
    aes_key_env: str = Field("WECOM_KF_AES_KEY", pattern=_ENV, description="EncodingAESKey")
    open_kfid: str = Field(min_length=1, description="the 客服账号 (wk…)")
    callback_path: str = Field("/wecom/kf/callback", pattern=r"^/[A-Za-z0-9_/-]*$")
    api_url: str = "https://qyapi.weixin.qq.com/cgi-bin"  # tests: the emulator's
    servicers: list[str] = Field(default_factory=list, description="转人工: staff userids")
    window_hours: float = Field(48.0, gt=0, le=48)
    window_messages: int = Field(5, ge=1, le=5)
    pacing: Pacing = Pacing(min_gap_seconds=0.5, jitter_seconds=0.2)


class CustomerGroup(_Strict):
    """One WeCom customer group (客户群): its chat_id, tags for digests, its 群主."""

    chat_id: str = Field(min_length=1, description="the group's chat_id (wr…)")
    tags: list[str] = Field(default_factory=list)
    owner: str | None = Field(None, description="the 群主's userid; default: `sender`")


class CustomerGroups(_Strict):
    """WeCom customer groups (`channels.wecom_customer_groups`, channels/wecom_groups.py):
    digests go as mass-send tasks (企业群发) a staff member confirms in WeCom."""

    corp_id_env: str = Field("WECOM_CORP_ID", pattern=_ENV)
    secret_env: str = Field("WECOM_CONTACT_SECRET", pattern=_ENV, description="客户联系 secret")
    sender: str = Field(min_length=1, description="the userid who confirms (the 群主)")
    groups: dict[str, CustomerGroup] = Field(min_length=1)
    monthly_limit: int | None = Field(None, ge=1, le=31, description="None: days in month")
    api_url: str = "https://qyapi.weixin.qq.com/cgi-bin"  # tests: the emulator's
    poll_minutes: int = Field(10, ge=1)
    pacing: Pacing = Pacing()


class Channels(_Strict):
    """`channels:`, one entry per chat network the bot runs on."""

    wechat: Channel | None = None
    wecom_bot: WecomBot | None = None
    wecom_webhook: Webhooks | None = None
    wecom_kf: WecomKf | None = None
    wecom_customer_groups: CustomerGroups | None = None
