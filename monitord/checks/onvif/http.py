"""One bounded HTTP POST: a deadline over the whole exchange and a cap on the body.

A device that sends a body forever, or 50 MB of it, costs us at most `max_bytes` of memory
and `timeout` seconds: the whole request, headers and body included, runs under one
deadline, and the body is read in chunks and dropped as soon as it passes the cap.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import errno
from dataclasses import dataclass
from typing import Final

import aiohttp

from monitord.checks.onvif.errors import OnvifError, Reason

MAX_BYTES: Final = 1 << 20  # GetProfiles of a 64-channel NVR is ~300 kB
_CHUNK: Final = 64 * 1024


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    body: bytes
    digest_challenge: bool = False  # a 401 asking for HTTP Digest authentication
    date: dt.datetime | None = None  # the device's clock, by its HTTP Date header


def new_session(limit: int = 200) -> aiohttp.ClientSession:
    """One session for all devices: a bounded pool, connections closed soon after use."""
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=2, keepalive_timeout=10)
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
    )


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    seconds: float,
    max_bytes: int = MAX_BYTES,
    digest: aiohttp.DigestAuthMiddleware | None = None,
) -> HttpReply:
    """`digest`: for devices that want HTTP Digest authentication on top of (or instead
    of) WS-Security, as Axis cameras do by default. One per device: it keeps the nonce."""
    middlewares = (digest,) if digest else ()
    try:
        async with asyncio.timeout(seconds):
            return await _exchange(session, url, body, headers, max_bytes, middlewares)
    except TimeoutError:
        raise OnvifError(Reason.TIMEOUT, f"no complete answer within {seconds:g} s") from None
    except aiohttp.ClientConnectorError as exc:
        refused = exc.os_error.errno == errno.ECONNREFUSED
        reason = Reason.REFUSED if refused else Reason.UNREACHABLE
        raise OnvifError(reason, f"cannot connect: {exc.os_error.strerror}") from None
    except aiohttp.ClientError as exc:
        raise OnvifError(
            Reason.UNREACHABLE, f"HTTP exchange failed: {type(exc).__name__}"
        ) from None


async def _exchange(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: dict[str, str],
    cap: int,
    middlewares: tuple[aiohttp.DigestAuthMiddleware, ...],
) -> HttpReply:
    async with session.post(
        url, data=body, headers=headers, allow_redirects=False, middlewares=middlewares
    ) as resp:
        declared = resp.content_length
        if declared is not None and declared > cap:
            raise OnvifError(Reason.TOO_LARGE, f"answer of {declared} bytes (cap {cap})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise OnvifError(Reason.TOO_LARGE, f"answer larger than {cap} bytes")
            chunks.append(chunk)
        challenge = resp.headers.get("WWW-Authenticate", "").lower().startswith("digest")
        date = _date(resp.headers.get("Date", ""))
        return HttpReply(resp.status, b"".join(chunks), resp.status == 401 and challenge, date)


def _date(text: str) -> dt.datetime | None:
    try:
        found = email.utils.parsedate_to_datetime(text[:64])
    except (TypeError, ValueError, IndexError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=dt.UTC)
