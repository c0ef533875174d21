"""RTSP/1.0 message framing (RFC 2326 / 7826) and the SDP media summary (RFC 8866).

Everything read from the peer is bounded: a response head larger than `MAX_HEAD` or a body
larger than `MAX_BODY` is a `BadResponse`, never an unbounded buffer.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

MAX_HEAD: Final = 16 * 1024
MAX_BODY: Final = 64 * 1024
_SAMPLE_KEEP: Final = 1024  # scrubbed, then shown up to _SAMPLE_SHOWN characters
_SAMPLE_SHOWN: Final = 60
_STATUS: Final = re.compile(rb"RTSP/(\d)\.(\d) ([1-5]\d\d)(?: ([^\r\n]*))?")
# RFC 3551 static payload types, for an m= line that carries no a=rtpmap.
_STATIC_PT: Final = {
    "0": "PCMU",
    "3": "GSM",
    "4": "G723",
    "8": "PCMA",
    "9": "G722",
    "14": "MPA",
    "18": "G729",
    "26": "JPEG",
    "31": "H261",
    "32": "MPV",
    "33": "MP2T",
    "34": "H263",
}


class BadResponse(Exception):
    """The peer's answer is not RTSP we can read; the message says what was wrong.

    `sample` is the offending data, kept whole so that the caller can scrub secrets a peer
    may have echoed before `describe` cuts it short (a cut could split a secret otherwise).
    """

    def __init__(self, message: str, sample: bytes | None = None) -> None:
        super().__init__(message)
        self.message, self.sample = message, sample

    def describe(self, scrub: Callable[[str], str] = lambda text: text) -> str:
        if self.sample is None:
            return self.message
        text = scrub(self.sample[:_SAMPLE_KEEP].decode("latin-1"))
        shown = repr(text[:_SAMPLE_SHOWN]) + ("..." if len(text) > _SAMPLE_SHOWN else "")
        return f"{self.message} {shown}"

    def __str__(self) -> str:
        return self.describe()


class ClosedBeforeAnswer(BadResponse):
    """The peer closed the connection before sending a single byte of the answer."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    phrase: str
    headers: tuple[tuple[str, str], ...]  # (lower-case name, value), in order
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def format_request(method: str, url: str, cseq: int, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {url} RTSP/1.0",
        f"CSeq: {cseq}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def parse_head(head: bytes) -> tuple[int, str, tuple[tuple[str, str], ...]]:
    """Status code, reason phrase and headers of a response head (without the blank line)."""
    first, _, rest = head.partition(b"\n")
    match = _STATUS.fullmatch(first.rstrip(b"\r"))
    if match is None:
        raise BadResponse("not an RTSP status line:", first)
    headers: list[tuple[str, str]] = []
    for raw in rest.split(b"\n"):
        line = raw.rstrip(b"\r").decode("latin-1")
        name, colon, value = line.partition(":")
        # Lines without a colon (obsolete folding, vendor junk) carry nothing we need.
        if colon and name.strip():
            headers.append((name.strip().lower(), value.strip()))
    return int(match[3]), (match[4] or b"").decode("latin-1").strip(), tuple(headers)


def _content_length(headers: tuple[tuple[str, str], ...]) -> int:
    values = {v for k, v in headers if k == "content-length"}
    if not values:
        return 0
    if len(values) > 1:
        raise BadResponse("conflicting Content-Length headers")
    value = values.pop()
    if not value.isdigit() or not value.isascii():
        raise BadResponse(f"invalid Content-Length {value[:20]!r}")
    length = int(value)
    if length > MAX_BODY:
        raise BadResponse(f"body of {length} bytes exceeds the {MAX_BODY}-byte limit")
    return length


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Read one response; the reader's limit must be at least MAX_HEAD."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise BadResponse(f"response head exceeds {MAX_HEAD} bytes") from exc
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            raise ClosedBeforeAnswer("connection closed without an answer") from exc
        raise BadResponse("connection closed mid-answer after", exc.partial) from exc
    if len(head) > MAX_HEAD:
        raise BadResponse(f"response head exceeds {MAX_HEAD} bytes")
    status, phrase, headers = parse_head(head[:-4])
    length = _content_length(headers)
    try:
        body = await reader.readexactly(length)
    except asyncio.IncompleteReadError as exc:
        raise BadResponse(f"body cut short: {len(exc.partial)} of {length} bytes") from exc
    return Response(status, phrase, headers, body)


def sdp_media(sdp: str) -> tuple[str, ...]:
    """One "type/encoding" per m= section, e.g. ("video/H264", "audio/PCMA")."""
    found: list[str] = []
    kind = fmt = encoding = None

    def close() -> None:
        if kind is not None:
            name = encoding or _STATIC_PT.get(fmt or "") or (f"pt{fmt}" if fmt else "unknown")
            found.append(f"{kind}/{name}")

    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            close()
            fields = line[2:].split()
            kind = fields[0] if fields else "unknown"
            fmt = fields[3] if len(fields) > 3 else None
            encoding = None
        elif kind is not None and encoding is None and line.startswith("a=rtpmap:"):
            pt, _, spec = line[9:].partition(" ")
            if pt == fmt and spec:
                encoding = spec.split("/", 1)[0].strip() or None
    close()
    return tuple(found)
