"""`console.oauth:` sign-in from the WeCom / DingTalk / Feishu in-app browser (console/oauth.py).

Off unless a provider is enabled. The app's secret is a reference (`{env: ...}` or
`{file: ...}`), read only when a sign-in exchanges a code. Both base URLs are overridable:
a private deployment of the provider, or a test's peer on loopback.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitord.config.durations import Duration
from monitord.config.secrets import SecretRef

Provider = Literal["wecom", "dingtalk", "feishu"]
PROVIDERS: tuple[Provider, ...] = ("wecom", "dingtalk", "feishu")
Id = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\w.\-]+$")]
Url = Annotated[str, Field(pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _App(_Frozen):
    enabled: bool = False
    secret: SecretRef | None = None

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> _App:
        if self.enabled and self.secret is None:
            raise ValueError("an enabled provider needs 'secret': {env: NAME} or {file: /path}")
        return self


class WecomApp(_App):
    """A WeCom self-built app (企业微信自建应用): the corp's id, the app's AgentId and Secret."""

    corp_id: Id | None = None
    agent_id: Id | None = None
    api_base: Url = "https://qyapi.weixin.qq.com"
    authorize_base: Url = "https://open.weixin.qq.com"

    @model_validator(mode="after")
    def _ids(self) -> WecomApp:
        if self.enabled and (self.corp_id is None or self.agent_id is None):
            raise ValueError("an enabled wecom app needs 'corp_id' and 'agent_id'")
        return self


class DingtalkApp(_App):
    """A DingTalk internal app: its AppKey (the OAuth client id) and AppSecret."""

    client_id: Id | None = None
    api_base: Url = "https://api.dingtalk.com"
    authorize_base: Url = "https://login.dingtalk.com"

    @model_validator(mode="after")
    def _ids(self) -> DingtalkApp:
        if self.enabled and self.client_id is None:
            raise ValueError("an enabled dingtalk app needs 'client_id' (its AppKey)")
        return self


class FeishuApp(_App):
    """A Feishu / Lark custom app: its App ID (cli_...) and App Secret."""

    app_id: Id | None = None
    api_base: Url = "https://open.feishu.cn"
    authorize_base: Url = "https://accounts.feishu.cn"

    @model_validator(mode="after")
    def _ids(self) -> FeishuApp:
        if self.enabled and self.app_id is None:
            raise ValueError("an enabled feishu app needs 'app_id'")
        return self


class OAuthSettings(_Frozen):
    wecom: WecomApp = WecomApp()
    dingtalk: DingtalkApp = DingtalkApp()
    feishu: FeishuApp = FeishuApp()
    # Each call to a provider; a phone waits on the callback page meanwhile.
    timeout: Annotated[float, Field(gt=0, le=60)] = 8.0
    # From the sign-in button to the provider's callback (their codes live 5 minutes).
    state_ttl: Duration = dt.timedelta(minutes=10)

    def enabled(self) -> tuple[Provider, ...]:
        return tuple(p for p in PROVIDERS if self.app(p).enabled)

    def app(self, provider: str) -> WecomApp | DingtalkApp | FeishuApp:
        found: WecomApp | DingtalkApp | FeishuApp = getattr(self, provider)
        return found
