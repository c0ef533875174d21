"""SMS through an HTTP gateway: a configurable generic request, or Aliyun / Tencent Cloud SMS.

generic: `body` (JSON, form, or GET query) with {phone} and {text} filled in, success told
  by the status and optionally a field of the JSON reply.
aliyun: SendSms of the Dysmsapi RPC API (Version 2017-05-25), POSTed as a form to
  https://dysmsapi.aliyuncs.com/ with signature V1: the parameters sorted, RFC 3986
  percent-encoded, "POST&%2F&" + the encoded query, HMAC-SHA1 keyed with the AccessKey
  secret + "&", base64. Reply {"Code": "OK", ...}; an error is another Code (often with a
  4xx status).
tencent: SendSms of API 3.0 (Version 2021-01-11), a JSON POST to
  https://sms.tencentcloudapi.com/ signed TC3-HMAC-SHA256 (canonical request over
  content-type and host, key derived from "TC3" + SecretKey, the date, "sms", "tc3_request").
  Always HTTP 200: {"Response": {"SendStatusSet": [{"Code": "Ok", ...}]}} or
  {"Response": {"Error": {"Code": ...}}}.

Both providers send a template with variables; the text goes into one variable (`param`),
cut to `max_chars`. Failures of the account or channel (throttling, balance, credentials,
the provider's own errors) are transient, so the messages go out once they are fixed;
those of the message (a bad number, a refused text) are permanent. The URL is resolved and
pinned like the webhook channel's (monitord.config.addresses refuses, unless allowed).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx

from monitord.config import addresses
from monitord.config.delivery import SmsChannel
from monitord.config.secrets import SecretRef, SecretUnavailable
from monitord.notify.channels import DeliveryError
from monitord.notify.channels.webhook import parse_url, resolve
from monitord.store.records import OutboxMessage

ENDPOINTS = {
    "aliyun": "https://dysmsapi.aliyuncs.com/",
    "tencent": "https://sms.tencentcloudapi.com/",
}
_TRANSIENT_4XX = frozenset({408, 425, 429})
# Aliyun codes that are the account's or the service's, not the message's.
_ALIYUN_TRANSIENT = (
    "isv.BUSINESS_LIMIT_CONTROL", "isv.DAY_LIMIT_CONTROL", "isv.AMOUNT_NOT_ENOUGH",
    "isv.OUT_OF_SERVICE", "isv.SYSTEM_ERROR", "Throttling", "ServiceUnavailable",
    "InternalError", "SignatureDoesNotMatch", "InvalidAccessKeyId", "Forbidden.RAM",
    "isv.ACCOUNT_ABNORMAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.SMS_SIGNATURE_ILLEGAL",
)  # fmt: skip
_TENCENT_TRANSIENT = (
    "LimitExceeded", "RequestLimitExceeded", "InternalError", "AuthFailure",
    "FailedOperation.InsufficientBalanceInSmsPackage", "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved", "ResourceUnavailable",
)  # fmt: skip


class SmsGateway:
    def __init__(self, settings: SmsChannel) -> None:
        self.name = settings.name
        self._s = settings
        self._allowed = addresses.networks(settings.allow_addresses)

    async def send(self, message: OutboxMessage) -> None:
        s = self._s
        phone = message.recipient.strip()
        if not phone:
            raise DeliveryError(f"{self.name}: no phone number", permanent=True)
        text = (message.body or message.subject)[: s.text_limit]
        written = self._secret(s.url) if s.url is not None else ENDPOINTS[s.provider]
        url = parse_url(self.name, written, self._allowed)
        if s.provider == "aliyun":
            request = self._aliyun(url, phone, text, message)
        elif s.provider == "tencent":
            request = self._tencent(url, phone, text)
        else:
            request = self._generic(url, phone, text)
        reply = await self._send(request, message.idempotency_key)
        self._check(reply)

    def _generic(self, url: httpx.URL, phone: str, text: str) -> httpx.Request:
        s = self._s
        # Plain replacement, not str.format: a text with braces must not be interpreted.
        fields = {k: v.replace("{phone}", phone).replace("{text}", text) for k, v in s.body.items()}
        headers = {k: self._secret(v) for k, v in s.headers.items()}
        if s.method == "GET":
            return httpx.Request("GET", url.copy_merge_params(fields), headers=headers)
        if s.encoding == "form":
            return httpx.Request("POST", url, data=fields, headers=headers)
        return httpx.Request("POST", url, json=fields, headers=headers)

    def _aliyun(
        self, url: httpx.URL, phone: str, text: str, message: OutboxMessage
    ) -> httpx.Request:
        s = self._s
        assert s.key_id is not None and s.key_secret is not None
        params = {
            "AccessKeyId": self._secret(s.key_id),
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.idempotency_key[:64],
            "PhoneNumbers": phone,
            "RegionId": s.region or "cn-hangzhou",
            "SignName": s.sign_name or "",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": s.template or "",
            "TemplateParam": json.dumps({s.param: text}, ensure_ascii=False),
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = aliyun_sign("POST", params, self._secret(s.key_secret))
        body = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in params.items())
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return httpx.Request("POST", url, content=body.encode(), headers=headers)

    def _tencent(self, url: httpx.URL, phone: str, text: str) -> httpx.Request:
        s = self._s
        assert s.key_id is not None and s.key_secret is not None
        body = json.dumps(
            {
                "PhoneNumberSet": [phone],
                "SmsSdkAppId": s.app_id,
                "SignName": s.sign_name,
                "TemplateId": s.template,
                "TemplateParamSet": [text],
            },
            ensure_ascii=False,
        ).encode()
        now = int(time.time())
        host = url.netloc.decode("ascii")
        authorization = tencent_authorization(
            self._secret(s.key_id), self._secret(s.key_secret), host, body, now
        )
        headers = {
            "Authorization": authorization,
            "Content-Type": TENCENT_CONTENT_TYPE,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(now),
            "X-TC-Region": s.region or "ap-guangzhou",
        }
        return httpx.Request("POST", url, content=body, headers=headers)

    async def _send(self, request: httpx.Request, key: str) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https") or not url.host:
            raise DeliveryError(f"{self.name}: the URL must be http(s)://host/…", permanent=True)
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve(self.name, url.host, port, self._allowed)
        # Sent to the checked address; the Host header and TLS SNI keep the name.
        request.url = url.copy_with(host=str(address))
        request.headers["Host"] = url.netloc.decode("ascii")
        request.headers["Idempotency-Key"] = key
        if url.scheme == "https":
            request.extensions["sni_hostname"] = url.host
        try:
            async with httpx.AsyncClient(timeout=self._s.timeout, follow_redirects=False) as c:
                return await c.send(request)
        except httpx.HTTPError as exc:
            # Only the kind: the text may quote the URL, which may carry a token.
            raise DeliveryError(f"{self.name}: {type(exc).__name__}") from None

    def _check(self, reply: httpx.Response) -> None:
        status, s = reply.status_code, self._s
        if 300 <= status < 400:
            raise DeliveryError(f"{self.name}: HTTP {status}: redirects are not followed", True)
        if s.provider == "aliyun":
            self._verdict(_field(reply, "Code"), ("OK",), _ALIYUN_TRANSIENT, status)
        elif s.provider == "tencent":
            error = _field(reply, "Response.Error.Code")
            if error is None:
                error = _field(reply, "Response.SendStatusSet.0.Code")
            self._verdict(error, ("Ok",), _TENCENT_TRANSIENT, status)
        else:
            ok = status in s.success_status if s.success_status else 200 <= status < 300
            if not ok:
                self._status(status)
            elif s.success_field is not None:
                self._verdict(_field(reply, s.success_field), s.success_values, s.retry_values, 0)

    def _verdict(
        self, code: str | None, ok: tuple[str, ...], transient: tuple[str, ...], status: int
    ) -> None:
        if code is not None and code in ok:
            return
        if code is None:
            if status >= 400:
                self._status(status)
            raise DeliveryError(f"{self.name}: the gateway's reply has no result code")
        retry = any(code == t or code.startswith(f"{t}.") for t in transient)
        raise DeliveryError(f"{self.name}: gateway error {code[:80]}", permanent=not retry)

    def _status(self, status: int) -> None:
        permanent = 400 <= status < 500 and status not in _TRANSIENT_4XX
        raise DeliveryError(f"{self.name}: HTTP {status}", permanent=permanent)

    def _secret(self, value: str | SecretRef) -> str:
        if isinstance(value, str):
            return value
        try:
            return value.resolve().get_secret_value()
        except SecretUnavailable as exc:
            raise DeliveryError(f"{self.name}: {exc}") from None  # may be fixed in time


def _field(reply: httpx.Response, path: str) -> str | None:
    """A dotted path (list indexes as numbers) in a JSON reply, as text; None if absent."""
    try:
        value: Any = reply.json()
    except ValueError:
        return None
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return None if isinstance(value, dict | list) or value is None else str(value)


def _pct(value: str) -> str:
    # RFC 3986: only A-Z a-z 0-9 - _ . ~ stay; a space is %20, "*" is %2A.
    return quote(value, safe="-_.~")


def aliyun_sign(method: str, params: dict[str, str], secret: str) -> str:
    query = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_pct('/')}&{_pct(query)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


TENCENT_CONTENT_TYPE = "application/json; charset=utf-8"


def tencent_authorization(
    secret_id: str, secret_key: str, host: str, body: bytes, timestamp: int
) -> str:
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{TENCENT_CONTENT_TYPE}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )

    signature = tc3_signature(secret_key, date, "sms", to_sign)
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


def tc3_signature(secret_key: str, date: str, service: str, to_sign: str) -> str:
    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
