"""The request bodies and replies of the group bots contractors use: WeCom, DingTalk, Feishu.

Each answers HTTP 200 with an error code in its JSON body; a code that means "too many
messages" is transient, any other non-zero code permanent (a bad key, a bad signature).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import time
from typing import Any

import httpx

from monitord.notify.channels import DeliveryError
from monitord.store.records import OutboxMessage

# Rate limits: WeCom 45009, DingTalk 130101, Feishu 9499 and 11232.
_RATE_LIMITED = frozenset({45009, 130101, 9499, 11232})
_MOBILE = re.compile(r"\+?\d{6,15}")


def body_for(
    fmt: str, message: OutboxMessage, secret: str | None, now: float | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body and extra query parameters (DingTalk signs in the query)."""
    text = message.body or message.subject
    now = time.time() if now is None else now
    # A recipient on a group bot is someone to @-mention (the on-call engineer): a mobile
    # number or the platform's user id.
    mention = message.recipient.strip()
    mobile = bool(_MOBILE.fullmatch(mention))
    if fmt == "wecom":
        content: dict[str, Any] = {"content": text}
        if mention:
            content["mentioned_mobile_list" if mobile else "mentioned_list"] = [mention]
        return {"msgtype": "text", "text": content}, {}
    if fmt == "dingtalk":
        params: dict[str, str] = {}
        if secret:
            timestamp = str(int(now * 1000))
            params = {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, secret)}
        if not mention:
            return {"msgtype": "text", "text": {"content": text}}, params
        # DingTalk highlights a mention only when the text carries "@" + the mobile or id.
        at = {"atMobiles": [mention]} if mobile else {"atUserIds": [mention]}
        return {"msgtype": "text", "text": {"content": f"@{mention} {text}"}, "at": at}, params
    if fmt == "feishu":
        if mention and not mobile:  # Feishu mentions by open_id only
            text = f'<at user_id="{html.escape(mention)}"></at> {text}'
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            timestamp = str(int(now))
            body |= {"timestamp": timestamp, "sign": feishu_sign(timestamp, secret)}
        return body, {}
    return {
        "key": message.idempotency_key,
        "to": message.recipient,  # the person's address for this channel, if any
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
