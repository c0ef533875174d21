"""A JSON POST: monitord's own body, or a WeCom/DingTalk/Feishu group bot's text message.

The URL's host is resolved here and the request is sent to that very address (Host header
and TLS SNI keep the name), so a DNS answer cannot change between the check and the
connection. Loopback, link-local (cloud metadata), multicast and unspecified addresses are
refused unless allowed by the channel's configuration. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import httpx

from monitord.config.notify import WebhookChannel
from monitord.config.secrets import SecretRef, SecretUnavailable
from monitord.notify.channels import DeliveryError
from monitord.notify.channels.bots import body_for, check_reply
from monitord.store.records import OutboxMessage

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Metadata services that are not link-local: Alibaba Cloud's, AWS's IPv6 one.
_METADATA = {ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")}
# The peer is overloaded or limiting us: worth another try later.
_TRANSIENT_4XX = frozenset({408, 425, 429})


def forbidden(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address in _METADATA
    )


class Webhook:
    def __init__(self, settings: WebhookChannel) -> None:
        self.name = settings.name
        self._s = settings
        self._allowed = [ipaddress.ip_network(a, strict=False) for a in settings.allow_addresses]

    async def send(self, message: OutboxMessage) -> None:
        url = httpx.URL(self._secret(self._s.url))
        secret = self._secret(self._s.secret) if self._s.secret is not None else None
        if url.scheme not in ("http", "https") or not url.host:
            raise DeliveryError(f"{self.name}: the URL must be http(s)://host/…", permanent=True)
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


async def resolve(
    name: str, host: str, port: int, allowed: list[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> Address:
    """The address to connect to: the first the host resolves to that is not refused."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DeliveryError(f"{name}: cannot resolve the host: {exc.strerror}") from None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0])
        if not forbidden(address) or any(address in n for n in allowed):
            return address
    # The configuration points somewhere it must not: no retry will change that.
    raise DeliveryError(
        f"{name}: the URL's host resolves only to refused addresses "
        "(loopback, link-local, metadata); allow them with allow_addresses",
        permanent=True,
    )
