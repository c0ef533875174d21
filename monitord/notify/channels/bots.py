"""The request bodies and replies of the group bots contractors use: WeCom, DingTalk, Feishu.

Each answers HTTP 200 with an error code in its JSON body; a code that means "too many
messages" is transient, any other non-zero code permanent (a bad key, a bad signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import httpx

from monitord.notify.channels import DeliveryError
from monitord.store.records import OutboxMessage

# Rate limits: WeCom 45009, DingTalk 130101, Feishu 9499 and 11232.
_RATE_LIMITED = frozenset({45009, 130101, 9499, 11232})


def body_for(
    fmt: str, message: OutboxMessage, secret: str | None, now: float | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body and extra query parameters (DingTalk signs in the query)."""
    text = message.body or message.subject
    now = time.time() if now is None else now
    if fmt == "wecom":
        return {"msgtype": "text", "text": {"content": text}}, {}
    if fmt == "dingtalk":
        params: dict[str, str] = {}
        if secret:
            timestamp = str(int(now * 1000))
            params = {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, secret)}
        return {"msgtype": "text", "text": {"content": text}}, params
    if fmt == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            timestamp = str(int(now))
            body |= {"timestamp": timestamp, "sign": feishu_sign(timestamp, secret)}
        return body, {}
    return {
        "key": message.idempotency_key,
        "ticket": message.ticket_id,
        "subject": message.subject,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }, {}


def dingtalk_sign(timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def feishu_sign(timestamp: str, secret: str) -> str:
    # Feishu keys the HMAC with the string to sign and signs an empty message.
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def check_reply(name: str, fmt: str, reply: httpx.Response) -> None:
    if fmt == "json":
        return
    try:
        data = reply.json()
        code = int(data.get("errcode", data.get("code", 0)))
    except (ValueError, AttributeError, TypeError):
        raise DeliveryError(f"{name}: the bot's reply is not its JSON") from None
    if code != 0:
        raise DeliveryError(f"{name}: bot error {code}", permanent=code not in _RATE_LIMITED)
