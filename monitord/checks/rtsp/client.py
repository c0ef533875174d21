"""RTSP stream liveness: OPTIONS then DESCRIBE, in pure asyncio.

A camera that answers ping or ONVIF may still fail to serve video; a DESCRIBE that returns an
SDP with media proves the streaming server is up and the credentials are accepted. No ffmpeg
or GStreamer: spawning a decoder per camera costs tens of MB and a process start each check,
while this exchange costs about 0.3 ms of CPU (../shared/research/libs.md, section 4), which is
what checking thousands of cameras every few minutes needs. Decoding frames is out of scope.

Credentials may come as arguments or inside the URI (rtsp://user:pass@host/path); they are
stripped from every request line and never appear in a result's detail.
"""

from __future__ import annotations

import asyncio
import base64
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import SplitResult, quote, unquote, urlsplit

from monitord.checks.rtsp import auth as rtsp_auth
from monitord.checks.rtsp import wire as rtsp_wire
from monitord.checks.rtsp.wire import BadResponse, Response

Reason = Literal["ok", "auth_rejected", "refused", "timeout", "bad_response", "no_media", "error"]

_USER_AGENT: Final = "monitord-rtsp-check"
_DEFAULT_PORT: Final = 554
_URI_SAFE: Final = "/%:@!$&'()*+,;=-._~?"


@dataclass(frozen=True, slots=True)
class StreamCheck:
    ok: bool  # the server described at least one media stream
    reason: Reason
    detail: str  # human-readable, never contains credentials
    status_code: int | None
    media: tuple[str, ...]  # e.g. ("video/H264",) from the SDP m= and a=rtpmap lines
    seconds: float


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    url: str  # the URI without userinfo, as sent on the request line
    username: str | None
    password: str | None
    allow_basic: bool = False


class _Failure(Exception):
    def __init__(self, reason: Reason, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.reason: Reason = reason
        self.detail = detail
        self.status = status


def _target(uri: str, username: str | None, password: str | None, basic: bool) -> _Target:
    try:
        parts = urlsplit(uri.strip())
        port = parts.port or _DEFAULT_PORT
    except ValueError:
        # ValueError's text may quote a malformed password, so it is not repeated.
        raise _Failure("error", "invalid RTSP URI (malformed address or port)") from None
    if parts.scheme.lower() != "rtsp":
        what = "rtsps (RTSP over TLS)" if parts.scheme.lower() == "rtsps" else repr(parts.scheme)
        raise _Failure("error", f"unsupported: scheme {what}; only rtsp:// is checked")
    if not parts.hostname:
        raise _Failure("error", "invalid RTSP URI: no host")
    host = parts.hostname
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    # Spaces or controls in a URI a device reported would break the request line.
    path, query = quote(parts.path or "/", safe=_URI_SAFE), quote(parts.query, safe=_URI_SAFE)
    url = SplitResult("rtsp", netloc, path, query, "").geturl()
    if username is None and parts.username is not None:
        username = unquote(parts.username)
        password = unquote(parts.password) if password is None and parts.password else password
    return _Target(host, port, url, username, password, basic)


class _Session:
    def __init__(self, target: _Target) -> None:
        self.target = target
        self.cseq = 0
        self.auth: rtsp_auth.Authorizer | None = None
        self.stage = "connecting"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.close()
        self.stage = "connecting"
        try:
            self.reader, self.writer = await asyncio.open_connection(
                self.target.host, self.target.port, limit=rtsp_wire.MAX_HEAD + 1
            )
        except ConnectionRefusedError:
            raise _Failure("refused", "connection refused") from None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def _send(self, method: str, extra: dict[str, str]) -> Response:
        if self.writer is None or self.reader is None:
            await self.connect()
        assert self.writer is not None and self.reader is not None
        self.cseq += 1
        headers = {"User-Agent": _USER_AGENT, **extra}
        if self.auth is not None:
            headers["Authorization"] = self.auth.header(method, self.target.url)
        self.stage = f"waiting for the answer to {method}"
        self.writer.write(rtsp_wire.format_request(method, self.target.url, self.cseq, headers))
        await self.writer.drain()
        response = await rtsp_wire.read_response(self.reader)
        if (response.header("connection") or "").lower() == "close":
            self.close()
        return response

    async def _send_reconnecting(self, method: str, extra: dict[str, str]) -> Response:
        reused = self.writer is not None
        try:
            return await self._send(method, extra)
        except (rtsp_wire.ClosedBeforeAnswer, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The server hung up between two requests (some do after a 401 or after OPTIONS,
            # without saying "Connection: close"): ask again on a new connection, once.
            self.close()
            return await self._send(method, extra)

    async def request(self, method: str, extra: dict[str, str]) -> Response:
        response = await self._send_reconnecting(method, extra)
        if response.status != 401 or self.auth is not None:
            return response
        if self.target.username is None:
            raise _Failure("auth_rejected", f"{method}: credentials required (401)", 401)
        challenges = rtsp_auth.parse_challenges(response.all("www-authenticate"))
        t = self.target
        self.auth = rtsp_auth.choose(challenges, t.username or "", t.password or "", t.allow_basic)
        if self.auth is None and any(c.scheme == "basic" for c in challenges):
            raise _Failure(
                "auth_rejected",
                f"{method}: the server asks for Basic authentication, which sends the password "
                "in clear over RTSP; not sent (allow_basic: true to accept that)",
                401,
            )
        if self.auth is None:
            offered = rtsp_auth.describe_schemes(challenges)
            raise _Failure("auth_rejected", f"{method}: unsupported authentication: {offered}", 401)
        return await self._send_reconnecting(method, extra)


def _status_failure(method: str, response: Response, target: _Target) -> _Failure:
    phrase = _redact(response.phrase, target)[:80]
    text = f"{method} answered {response.status} {phrase}".rstrip()
    if response.status == 401:
        return _Failure("auth_rejected", f"{text}: credentials rejected", 401)
    if response.status == 403:
        return _Failure("auth_rejected", f"{text}: access forbidden", 403)
    return _Failure("error", text, response.status)


async def _exchange(session: _Session) -> tuple[int, tuple[str, ...], str]:
    options = await session.request("OPTIONS", {})
    if options.status in (401, 403):
        raise _status_failure("OPTIONS", options, session.target)
    # Some servers answer OPTIONS oddly yet describe fine; DESCRIBE decides.
    described = await session.request("DESCRIBE", {"Accept": "application/sdp"})
    if described.status != 200:
        raise _status_failure("DESCRIBE", described, session.target)
    kind = (described.header("content-type") or "application/sdp").split(";")[0].strip().lower()
    if kind != "application/sdp":
        raise _Failure("bad_response", f"DESCRIBE answered with {kind[:60]!r}, not SDP", 200)
    media = rtsp_wire.sdp_media(described.body.decode("utf-8", "replace"))
    return 200, media, f"{len(media)} media stream(s)" if media else "the SDP has no m= line"


def _redact(text: str, target: _Target) -> str:
    secrets = [s for s in (target.password, target.username) if s and len(s) >= 3]
    # Peer bytes are decoded as Latin-1: a non-ASCII secret echoed in UTF-8 looks like this.
    secrets += [s.encode().decode("latin-1") for s in secrets if not s.isascii()]
    if target.username is not None:
        pair = f"{target.username}:{target.password or ''}".encode()
        secrets.append(base64.b64encode(pair).decode("ascii"))
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


async def check_stream(
    uri: str,
    username: str | None = None,
    password: str | None = None,
    *,
    timeout: float = 5.0,  # noqa: ASYNC109 - one budget for connect and both exchanges
    allow_basic: bool = False,
) -> StreamCheck:
    """Whether the RTSP server at `uri` describes at least one media stream; never raises.
    Credentials go out as Digest; as Basic (the password in clear) only with `allow_basic`."""
    started = time.monotonic()
    target: _Target | None = None
    session: _Session | None = None
    reason: Reason
    status: int | None = None
    media: tuple[str, ...] = ()
    try:
        target = _target(uri, username, password, allow_basic)
        session = _Session(target)
        async with asyncio.timeout(timeout):
            status, media, detail = await _exchange(session)
        reason = "ok" if media else "no_media"
    except _Failure as failure:
        reason, detail, status = failure.reason, failure.detail, failure.status
    except BadResponse as exc:
        reason = "bad_response"
        detail = exc.describe(lambda text: _redact(text, target) if target else text)
    except TimeoutError:
        stage = session.stage if session else "connecting"
        reason, detail = "timeout", f"no complete answer within {timeout:g} s ({stage})"
    except OSError as exc:
        reason, detail = "error", f"network error: {exc.strerror or exc.__class__.__name__}"
    except Exception as exc:  # noqa: BLE001 - a probe must report, never crash its caller
        reason, detail = "error", f"internal error: {exc.__class__.__name__}"
    finally:
        if session is not None:
            with suppress(Exception):
                session.close()
    if target is not None:
        detail = _redact(detail, target)
    return StreamCheck(
        ok=reason == "ok",
        reason=reason,
        detail=detail,
        status_code=status,
        media=media,
        seconds=time.monotonic() - started,
    )
