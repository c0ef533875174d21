"""The poller's one connection: outbound HTTPS to the centre, failing over between its URLs.

Only the centres' certificates pinned at enrolment are trusted (`pins.pem` is the whole CA
list of the TLS context), so a man in the middle with any public CA's certificate is refused.
A centre that does not answer is skipped for the next; the one that answered last is tried
first next time.
"""

from __future__ import annotations

import hashlib
import ssl
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel

from monitord import __version__
from monitord.sites.wire import (
    LONG_POLL,
    MINOR,
    PREFIX,
    WIRE,
    ConfigOut,
    PushIn,
    PushOut,
    Update,
    UpdateOut,
)

_M = TypeVar("_M", bound=BaseModel)


class LinkDown(Exception):
    """No centre answered."""


class LinkRefused(Exception):
    """A centre answered and refused (revoked credential, a device not ours): retrying as
    it is cannot help."""


def pinned_context(pins: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pins))
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a pinned leaf is a trust anchor
    return ctx


def fetch_certificate(url: str, timeout: float = 10.0) -> tuple[str, str]:
    """The PEM a centre presents and its SHA-256 fingerprint (trust on first use, unless
    the operator gives the fingerprint `pollers add` printed)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname is None:
        raise ValueError(f"{url}: a centre URL must be https://host[:port]")
    pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    return pem, fingerprint(pem)


def fingerprint(pem: str) -> str:
    der = ssl.PEM_cert_to_DER_cert(pem)
    return "sha256:" + hashlib.sha256(der).hexdigest()


class Link:
    def __init__(
        self, centres: list[str], token: str, pins: Path, timeout: float = 10.0,
        speaks: int = MINOR,
    ) -> None:  # fmt: skip
        # `speaks`: the wire's minor version offered (below MINOR only to test an old one)
        self._centres, self._token, self._timeout = list(centres), token, timeout
        self.speaks = speaks
        self._client = httpx.AsyncClient(
            verify=pinned_context(pins),
            timeout=timeout,
            headers={
                "authorization": f"Bearer {token}",
                "user-agent": f"monitord/{__version__}",
                WIRE: str(speaks),
            },
        )
        self.centre: str | None = None  # the one that answered last
        self.minor = 0  # the wire's minor version the centre answered with last

    async def close(self) -> None:
        await self._client.aclose()

    async def push(self, body: PushIn) -> PushOut:
        out = await self._call("POST", "/push", PushOut, body.model_dump_json(exclude_none=True))
        assert out is not None
        return out

    async def configuration(self) -> ConfigOut:
        out = await self._call("GET", "/config", ConfigOut, None)
        assert out is not None  # 304 only answers a long poll
        return out

    async def changed_configuration(self, known: str) -> ConfigOut | None:
        """A long poll (wire 1.1): the configuration once its revision is not `known`, or
        None when the centre answered 304 (nothing changed for LONG_POLL seconds)."""
        return await self._call(
            "GET", "/config", ConfigOut, None, {"wait": known}, LONG_POLL + self._timeout
        )

    async def answer(self, command_id: str, update: Update) -> UpdateOut:
        """A command's update (wire 1.2); the answer says whether to stop."""
        out = await self._call("POST", f"/commands/{command_id}", UpdateOut,
                               update.model_dump_json())  # fmt: skip
        assert out is not None
        return out

    async def _call(
        self,
        method: str,
        path: str,
        model: type[_M],
        content: str | None,
        params: dict[str, str] | None = None,
        read_for: float | None = None,
    ) -> _M | None:
        order = sorted(self._centres, key=lambda c: c != self.centre)
        failures = []
        for centre in order:
            try:
                response = await self._client.request(
                    method,
                    centre.rstrip("/") + PREFIX + path,
                    content=content,
                    params=params,
                    headers={"content-type": "application/json"} if content else None,
                    timeout=read_for if read_for is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TransportError as exc:
                failures.append(f"{centre}: {type(exc).__name__}")
                continue
            if response.status_code in (401, 403):
                raise LinkRefused(f"{centre}: {response.status_code} {_detail(response)}")
            if response.status_code == 304 and params is not None:
                self.centre = centre
                return None
            if response.status_code != 200:
                failures.append(f"{centre}: HTTP {response.status_code}")
                continue
            self.centre = centre
            said = response.headers.get(WIRE, "0")
            self.minor = min(int(said), self.speaks) if said.isdigit() else 0
            return model.model_validate_json(response.content)
        raise LinkDown("; ".join(failures))


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))[:200]
    except ValueError:
        return ""
