"""Settings of delivery itself: storm grouping, the daily digest, the SMS gateway channel.

Apart from config/notify.py (who hears what) so each stays one idea; notify.py embeds them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitord.config.durations import Duration
from monitord.config.secrets import SecretRef

_S = dt.timedelta(seconds=1)
# Alertmanager's group_wait / group_interval, per ticket class: an A storm goes out within
# seconds, C and D messages gather longer ("hotline": a hotline ticket not yet classified).
WAIT = {"A": 3 * _S, "B": 10 * _S, "C": 60 * _S, "D": 120 * _S, "hotline": 3 * _S}
# An A storm still arriving after its first message goes out within ~10 s, the rest later.
INTERVAL = {"A": 10 * _S, "B": 30 * _S, "C": 300 * _S, "D": 600 * _S, "hotline": 10 * _S}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Grouping(_Frozen):
    """Messages to one recipient over one channel about one site go out as one message.

    The first message of a group waits `wait` (of the most urgent class in it) for others;
    once a group went out, the next waits until `interval` after it. Classes not given
    keep their defaults.
    """

    enabled: bool = True
    wait: dict[str, Duration] = WAIT
    interval: dict[str, Duration] = INTERVAL
    listed: Annotated[int, Field(ge=1, le=50)] = 5  # members named in a grouped message

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, default in (("wait", WAIT), ("interval", INTERVAL)):
                if isinstance(data.get(name), dict):
                    data = {**data, name: {**default, **data[name]}}
        return data


class Digest(_Frozen):
    """A daily list of a contract's open tickets of `classes`, at `hour` local time."""

    enabled: bool = True
    hour: Annotated[int, Field(ge=0, le=23)] = 8
    classes: tuple[str, ...] = ("C", "D")
    listed: Annotated[int, Field(ge=1, le=200)] = 30  # tickets named (email, chat)


class SmsChannel(_Frozen):
    """SMS through an HTTP gateway: a generic request, or Aliyun's or Tencent Cloud's API.

    generic: `method` to `url`, `body` (JSON or form; query parameters for GET) with
    {phone} and {text} filled in; success is a status in `success_status` (any 2xx when
    empty) and, with `success_field` (a dotted path in the JSON reply), a value in
    `success_values`; a reply value in `retry_values` is transient, any other permanent.
    aliyun: SendSms (RPC API 2017-05-25, HMAC-SHA1 signature), `key_id`/`key_secret` the
    AccessKey, `template` the TemplateCode, the text in the template variable `param`.
    tencent: SendSms (API 3.0, 2021-01-11, TC3-HMAC-SHA256), `key_id`/`key_secret` the
    SecretId/SecretKey, `app_id` the SmsSdkAppId, `template` the TemplateId.
    """

    type: Literal["sms"]
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
    provider: Literal["generic", "aliyun", "tencent"] = "generic"
    url: str | SecretRef | None = None  # presets: the provider's public endpoint
    method: Literal["POST", "GET"] = "POST"
    encoding: Literal["json", "form"] = "json"
    headers: dict[str, str | SecretRef] = {}
    body: dict[str, str] = {"to": "{phone}", "text": "{text}"}
    success_status: tuple[int, ...] = ()
    success_field: str | None = None
    success_values: tuple[str, ...] = ()
    retry_values: tuple[str, ...] = ()
    key_id: str | SecretRef | None = None
    key_secret: SecretRef | None = None
    sign_name: str | None = None
    template: str | None = None
    param: str = "text"
    app_id: str | None = None
    region: str | None = None
    # The text is cut to fit one SMS (140) or, for Aliyun, a template variable (35 since
    # 2023); set your template's limit (Tencent's depends on the variable's type).
    max_chars: Annotated[int, Field(ge=6, le=500)] | None = None
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    allow_addresses: tuple[str, ...] = ()

    @property
    def text_limit(self) -> int:
        if self.max_chars is not None:
            return self.max_chars
        return 35 if self.provider == "aliyun" else 140

    @model_validator(mode="after")
    def _complete(self) -> SmsChannel:
        if self.provider == "generic":
            if self.url is None:
                raise ValueError("a generic SMS gateway needs its url")
            return self
        need = ["key_id", "key_secret", "sign_name", "template"]
        if self.provider == "tencent":
            need.append("app_id")
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"the {self.provider} SMS preset needs {', '.join(missing)}")
        return self
