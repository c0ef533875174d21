"""The three providers' OAuth code flows on the wire: the authorize URL, then code -> user.

One function per provider, each as its platform documents it (checked 2026-12):
- WeCom (企业微信), self-built app, 网页授权登录: "构造网页授权链接" (developer.work.weixin.qq.com
  document/path/91022), `GET /cgi-bin/gettoken?corpid&corpsecret` ("获取access_token", 91039),
  `GET /cgi-bin/auth/getuserinfo?access_token&code` ("获取访问用户身份", 91023 / 96442, updated
  2022-09-23). Errors are HTTP 200 with `{"errcode": n, "errmsg": ...}`.
- DingTalk, new API (api.dingtalk.com v1.0): authorize at `login.dingtalk.com/oauth2/auth`
  ("获取登录用户的访问凭证"), which returns `authCode`; `POST /v1.0/oauth2/userAccessToken`
  ("获取用户token", open.dingtalk.com/document/orgapp/obtain-user-token), `GET
  /v1.0/contact/users/me` with `x-acs-dingtalk-access-token` ("获取用户通讯录个人信息").
  Errors are HTTP 4xx/5xx with `{"code": "...", "message": ..., "requestid": ...}`.
- Feishu / Lark: authorize at `accounts.feishu.cn/open-apis/authen/v1/authorize` ("获取授权码"),
  `POST /open-apis/authen/v2/oauth/token` (the RFC 6749 token endpoint that replaced the v1
  `oidc/access_token`, doc updated 2025-06), `GET /open-apis/authen/v1/user_info` with a
  Bearer token ("获取用户信息"). Errors: `{"code": n, "error", "error_description"}` from the
  token endpoint, `{"code": n, "msg": ...}` from the others.

The secret goes only into the request that needs it and never into an error: a WireError
names the provider, the step and the HTTP status, with the provider's own error code and
message, and never the transport's text (httpx's would carry WeCom's URL, whose query holds
the secret).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from monitord.config.oauth import DingtalkApp, FeishuApp, WecomApp

MAX_REPLY = 64 * 1024  # a provider's JSON answer is a few hundred bytes
# WeCom's access_token errors: invalid, expired (全局错误码): fetch a new one, once.
_WECOM_STALE = {40014, 42001}
_IN_QUERY = re.compile(r"(corpsecret=)[^&\s]*")


class _HideQuerySecret(logging.Filter):
    """httpx logs each request's URL at INFO, and WeCom's `gettoken` carries the secret in
    its query (as documented): whoever turns stdlib logging up must not see it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any("corpsecret=" in str(a) for a in record.args):
            record.args = tuple(
                _IN_QUERY.sub(r"\1***", str(a)) if "corpsecret=" in str(a) else a
                for a in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_HideQuerySecret())


@dataclass(frozen=True, slots=True)
class Identity:
    provider: str
    subject: str  # the provider's user id, what `monitord users link --id` names
    name: str


class WireError(Exception):
    """A provider call that failed: provider, step, HTTP status and the provider's own words."""

    def __init__(self, provider: str, step: str, status: int | None, detail: str) -> None:
        self.provider, self.step, self.status = provider, step, status
        self.detail = detail[:200]
        shown = "no answer" if status is None else f"HTTP {status}"
        super().__init__(f"{provider} {step}: {shown}: {self.detail}")


def authorize_url(provider: str, app: WecomApp | DingtalkApp | FeishuApp, redirect: str,
                  state: str) -> str:  # fmt: skip
    """Where the sign-in button sends the browser."""
    if isinstance(app, WecomApp):
        query = {"appid": app.corp_id, "redirect_uri": redirect, "response_type": "code",
                 "scope": "snsapi_base", "state": state, "agentid": app.agent_id}  # fmt: skip
        path = "/connect/oauth2/authorize"
        suffix = "#wechat_redirect"  # required by WeCom's client, never sent to a server
    elif isinstance(app, DingtalkApp):
        query = {"redirect_uri": redirect, "response_type": "code", "client_id": app.client_id,
                 "scope": "openid", "state": state, "prompt": "consent"}  # fmt: skip
        path, suffix = "/oauth2/auth", ""
    else:
        query = {"client_id": app.app_id, "response_type": "code", "redirect_uri": redirect,
                 "state": state}  # fmt: skip
        path, suffix = "/open-apis/authen/v1/authorize", ""
    base = app.authorize_base.rstrip("/")
    return f"{base}{path}?{urlencode(query, quote_via=quote)}{suffix}"


async def _call(
    client: httpx.AsyncClient, provider: str, step: str, method: str, url: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    """One request; its status and JSON object, or WireError (never the transport's text)."""
    try:
        reply = await client.request(method, url, **kw)
    except httpx.TimeoutException:
        raise WireError(provider, step, None, "timed out") from None
    except httpx.HTTPError as exc:
        raise WireError(provider, step, None, f"unreachable ({type(exc).__name__})") from None
    if len(reply.content) > MAX_REPLY:
        raise WireError(provider, step, reply.status_code, "answer too large")
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise WireError(provider, step, reply.status_code, "answer is not a JSON object")
    return reply.status_code, body


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    return value if isinstance(value, str) else ""


@dataclass
class WecomTokens:
    """WeCom's app access_token, kept until shortly before it expires: WeCom rate-limits
    `gettoken` and asks callers to cache it (91039)."""

    held: dict[tuple[str, str, str], tuple[str, dt.datetime]] = field(default_factory=dict)

    def get(self, key: tuple[str, str, str], now: dt.datetime) -> str | None:
        found = self.held.get(key)
        return found[0] if found and now < found[1] else None


async def wecom(app: WecomApp, secret: str, code: str, client: httpx.AsyncClient,
                tokens: WecomTokens, now: dt.datetime) -> Identity:  # fmt: skip
    base = app.api_base.rstrip("/")
    key = (base, app.corp_id or "", app.agent_id or "")
    for attempt in (1, 2):
        token = tokens.get(key, now)
        if token is None:
            status, body = await _call(client, "wecom", "gettoken", "GET", f"{base}/cgi-bin/gettoken",
                                       params={"corpid": app.corp_id, "corpsecret": secret})  # fmt: skip
            token = _wecom_ok("gettoken", status, body, "access_token")
            life = body.get("expires_in")
            ttl = max(int(life) - 300, 0) if isinstance(life, int) else 0
            tokens.held[key] = (token, now + dt.timedelta(seconds=ttl))
        status, body = await _call(client, "wecom", "getuserinfo", "GET",
                                   f"{base}/cgi-bin/auth/getuserinfo",
                                   params={"access_token": token, "code": code})  # fmt: skip
        if body.get("errcode") in _WECOM_STALE and attempt == 1:
            tokens.held.pop(key, None)
            continue
        _wecom_ok("getuserinfo", status, body, None)
        # A member has `userid`; someone outside the corp only an `openid` (91023 b).
        subject = _text(body, "userid") or _text(body, "openid")
        if not subject:
            raise WireError("wecom", "getuserinfo", status, "no userid in the answer")
        return Identity("wecom", subject, subject)
    raise AssertionError("unreachable")  # pragma: no cover


def _wecom_ok(step: str, status: int, body: dict[str, Any], want: str | None) -> str:
    errcode = body.get("errcode")
    if status != 200 or errcode != 0:
        raise WireError("wecom", step, status, f"errcode {errcode}: {_text(body, 'errmsg')}")
    value = _text(body, want) if want else "-"
    if not value:
        raise WireError("wecom", step, status, f"no {want} in the answer")
    return value


async def dingtalk(app: DingtalkApp, secret: str, code: str, client: httpx.AsyncClient) -> Identity:
    base = app.api_base.rstrip("/")
    payload = {"clientId": app.client_id, "clientSecret": secret, "code": code,
               "grantType": "authorization_code"}  # fmt: skip
    status, body = await _call(client, "dingtalk", "userAccessToken", "POST",
                               f"{base}/v1.0/oauth2/userAccessToken", json=payload)  # fmt: skip
    token = _dingtalk_ok("userAccessToken", status, body, "accessToken")
    status, body = await _call(client, "dingtalk", "users/me", "GET",
                               f"{base}/v1.0/contact/users/me",
                               headers={"x-acs-dingtalk-access-token": token})  # fmt: skip
    subject = _dingtalk_ok("users/me", status, body, "unionId")
    return Identity("dingtalk", subject, _text(body, "nick") or subject)


def _dingtalk_ok(step: str, status: int, body: dict[str, Any], want: str) -> str:
    if status != 200:
        raise WireError("dingtalk", step, status,
                        f"{_text(body, 'code') or '?'}: {_text(body, 'message')}")  # fmt: skip
    value = _text(body, want)
    if not value:
        raise WireError("dingtalk", step, status, f"no {want} in the answer")
    return value


async def feishu(app: FeishuApp, secret: str, code: str, redirect: str,
                 client: httpx.AsyncClient) -> Identity:  # fmt: skip
    base = app.api_base.rstrip("/")
    payload = {"grant_type": "authorization_code", "client_id": app.app_id,
               "client_secret": secret, "code": code, "redirect_uri": redirect}  # fmt: skip
    status, body = await _call(client, "feishu", "oauth/token", "POST",
                               f"{base}/open-apis/authen/v2/oauth/token", json=payload)  # fmt: skip
    if status != 200 or body.get("code") != 0:
        raise WireError("feishu", "oauth/token", status,
                        f"code {body.get('code')}: {_text(body, 'error_description')}")  # fmt: skip
    token = _text(body, "access_token")
    if not token:
        raise WireError("feishu", "oauth/token", status, "no access_token in the answer")
    status, body = await _call(client, "feishu", "user_info", "GET",
                               f"{base}/open-apis/authen/v1/user_info",
                               headers={"authorization": f"Bearer {token}"})  # fmt: skip
    data = body.get("data")
    if status != 200 or body.get("code") != 0 or not isinstance(data, dict):
        raise WireError("feishu", "user_info", status,
                        f"code {body.get('code')}: {_text(body, 'msg')}")  # fmt: skip
    # open_id: always present, one per user and app (user_id needs an extra permission).
    subject = _text(data, "open_id")
    if not subject:
        raise WireError("feishu", "user_info", status, "no open_id in the answer")
    return Identity("feishu", subject, _text(data, "name") or subject)
