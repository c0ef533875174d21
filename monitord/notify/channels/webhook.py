"""A JSON POST: monitord's own body, or a WeCom/DingTalk/Feishu group bot's text message.

The URL's host is resolved here and the request is sent to that very address (Host header
and TLS SNI keep the name), so a DNS answer cannot change between the check and the
connection. Addresses refused by monitord.config.addresses (this host, link-local and
cloud metadata, ...) are refused unless allowed by the channel's configuration. Redirects
are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from typing import Any

import httpx

from monitord.config import addresses
from monitord.config.notify import WebhookChannel
from monitord.config.secrets import SecretRef, SecretUnavailable
from monitord.notify.channels import DeliveryError
from monitord.notify.channels.bots import body_for, check_reply
from monitord.store.records import OutboxMessage

# The peer is overloaded or limiting us: worth another try later.
_TRANSIENT_4XX = frozenset({408, 425, 429})


class Webhook:
    def __init__(self, settings: WebhookChannel) -> None:
        self.name = settings.name
        self._s = settings
        self._allowed = addresses.networks(settings.allow_addresses)

    async def send(self, message: OutboxMessage) -> None:
        url = parse_url(self.name, self._secret(self._s.url), self._allowed)
        secret = self._secret(self._s.secret) if self._s.secret is not None else None
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await resolve(self.name, url.host, port, self._allowed)
        body, params = body_for(self._s.format, message, secret)
        pinned = url.copy_with(host=str(address)).copy_merge_params(params)
        extensions: dict[str, Any] = {"sni_hostname": url.host} if url.scheme == "https" else {}
        headers = {"Host": url.netloc.decode("ascii"), "Idempotency-Key": message.idempotency_key}
        try:
            async with httpx.AsyncClient(timeout=self._s.timeout, follow_redirects=False) as c:
                reply = await c.post(pinned, json=body, headers=headers, extensions=extensions)
        except httpx.HTTPError as exc:
            # Timeouts, refused connections, resets: the peer may come back. The exception's
            # text may quote the URL, which may hold a token: only its kind is kept.
            raise DeliveryError(f"{self.name}: {type(exc).__name__}") from None
        status = reply.status_code
        if 300 <= status < 400:
            raise DeliveryError(f"{self.name}: HTTP {status}: redirects are not followed", True)
        if status >= 400:
            permanent = status < 500 and status not in _TRANSIENT_4XX
            raise DeliveryError(f"{self.name}: HTTP {status}", permanent=permanent)
        check_reply(self.name, self._s.format, reply)

    def _secret(self, value: str | SecretRef) -> str:
        if isinstance(value, str):
            return value
        try:
            return value.resolve().get_secret_value()
        except SecretUnavailable as exc:
            raise DeliveryError(f"{self.name}: {exc}") from None  # may be fixed in time


def parse_url(name: str, text: str, allowed: Sequence[addresses.Network]) -> httpx.URL:
    """The configured URL, checked as at load (a secret one is first seen here); a bad one
    is a permanent error that quotes none of it: it may hold a token."""
    problem = addresses.url_problem(text, allowed)
    if problem is None:
        try:
            return httpx.URL(text.strip())
        except (httpx.InvalidURL, ValueError, TypeError):
            problem = "the URL is not valid (not repeated here: it may hold a token)"
    raise DeliveryError(f"{name}: {problem}", permanent=True)


async def resolve(
    name: str, host: str, port: int, allowed: Sequence[addresses.Network]
) -> addresses.Address:
    """The address to connect to: the first the host resolves to that is not refused."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DeliveryError(f"{name}: cannot resolve the host: {exc.strerror}") from None
    why: list[str] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        reason = addresses.refused(address, allowed)
        if reason is None:
            return address
        why.append(reason)
    # The configuration points somewhere it must not: no retry will change that.
    raise DeliveryError(
        f"{name}: the URL's host resolves only to refused addresses "
        f"({'; '.join(sorted(set(why)))}); allow them with allow_addresses",
        permanent=True,
    )
