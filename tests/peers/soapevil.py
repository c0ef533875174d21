"""A hostile "camera" on 127.0.0.1: an HTTP/1.1 server whose first path segment picks how
it answers any SOAP request, so one peer covers every attack the ONVIF client must survive.

    async with EvilSoap() as evil:
        evil.url("xxe_file")          # http://127.0.0.1:PORT/xxe_file/onvif/device_service
        evil.canary_hits              # requests the XXE-over-HTTP entity would have made

Modes (`MODES`): xxe_file (external entity naming a local file holding CANARY), xxe_http
(external entity on our canary HTTP port), billion_laughs, quadratic (one 50 kB entity
referenced 20 000 times), huge (50 MB body, Content-Length declared), huge_chunked (50 MB,
chunked, no length), endless (chunked body that never ends), stall (headers, then silence),
invalid_xml, deep (nesting 10 000 levels), not_soap (an HTML page), fault (a SOAP 1.2
fault), http500 (a plain HTTP 500 page), ok (a valid GetSystemDateAndTime answer), and
http_digest (the ok answer, but only to a request with valid HTTP Digest authentication for
DIGEST_USER and `digest_password`, as Axis cameras demand; not in MODES: not an attack).
It speaks real HTTP framing over asyncio streams; nothing is faked below the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Final, Self

CANARY: Final = "CANARY-7f3a9c-never-resolve-me"
DIGEST_USER, REALM, NONCE = "admin", "AXIS_ACCC8E000000", "b7f2a0c4d1e94f3a"
MB: Final = 1024 * 1024
ENV: Final = "http://www.w3.org/2003/05/soap-envelope"
_OK_BODY: Final = (
    '<tds:GetSystemDateAndTimeResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl"'
    ' xmlns:tt="http://www.onvif.org/ver10/schema"><tds:SystemDateAndTime>'
    "<tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
    "<tt:UTCDateTime><tt:Time><tt:Hour>10</tt:Hour><tt:Minute>0</tt:Minute>"
    "<tt:Second>0</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>1</tt:Month>"
    "<tt:Day>1</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
    "</tds:GetSystemDateAndTimeResponse>"
)
MODES: Final = (
    "xxe_file", "xxe_http", "billion_laughs", "quadratic", "huge", "huge_chunked", "endless",
    "stall", "invalid_xml", "deep", "not_soap", "fault", "http500", "ok",
)  # fmt: skip


def envelope(body: str, prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<s:Envelope xmlns:s="{ENV}"><s:Body>{body}</s:Body></s:Envelope>'
    )


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class EvilSoap:
    def __init__(self, hosts: Sequence[str] = ("127.0.0.1",)) -> None:
        self.hosts = list(hosts)  # loopback addresses that all serve the same port
        self.canary_hits = 0
        self.digest_password = "digest-Pa55"
        self.digest_challenges = self.digest_answers = 0
        self.requests = 0
        self._dir = Path(tempfile.mkdtemp(prefix="soapevil-"))
        self.secret_file = self._dir / "secret.txt"
        self.secret_file.write_text(CANARY)
        self._servers: list[asyncio.Server] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = self.canary_port = 0

    def url(self, mode: str) -> str:
        return f"http://{self.hosts[0]}:{self.port}/{mode}/onvif/device_service"

    async def __aenter__(self) -> Self:
        with socket.socket() as probe:
            probe.bind((self.hosts[0], 0))
            port = probe.getsockname()[1]
        main = await asyncio.start_server(self._serve, self.hosts, port)
        canary = await asyncio.start_server(self._canary, "127.0.0.1", 0)
        self._servers = [main, canary]
        self.port = main.sockets[0].getsockname()[1]
        self.canary_port = canary.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)
        for f in self._dir.iterdir():
            f.unlink()
        self._dir.rmdir()

    async def _canary(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.canary_hits += 1
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nLEAKED")
        with contextlib.suppress(OSError):
            await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                length = next(
                    (int(x.split(":", 1)[1]) for x in lines if x.lower().startswith("content-length")),
                    0,
                )  # fmt: skip
                await reader.readexactly(length)
                self.requests += 1
                mode = path.strip("/").split("/")[0]
                if mode == "http_digest" and not self._digest_ok(lines, path):
                    self._unauthorized(writer)
                    continue
                await self._answer("ok" if mode == "http_digest" else mode, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._tasks.discard(task)
            writer.close()

    def _digest_ok(self, lines: list[str], path: str) -> bool:
        """RFC 7616 Digest, MD5, qop=auth, as an Axis camera demands it."""
        header = next(
            (x.split(":", 1)[1] for x in lines if x.lower().startswith("authorization")), ""
        )
        if not header.strip().lower().startswith("digest "):
            return False
        f = dict(re.findall(r'(\w+)="?([^",]*)"?', header.strip()[7:]))
        ha1 = md5(f"{DIGEST_USER}:{REALM}:{self.digest_password}")
        ha2 = md5(f"POST:{f.get('uri', '')}")
        expect = md5(f"{ha1}:{NONCE}:{f.get('nc')}:{f.get('cnonce')}:auth:{ha2}")
        ok = (
            f.get("username") == DIGEST_USER
            and f.get("uri") == path
            and f.get("response") == expect
        )
        self.digest_answers += ok
        return ok

    def _unauthorized(self, w: asyncio.StreamWriter) -> None:
        self.digest_challenges += 1
        w.write(
            b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
            b'WWW-Authenticate: Digest realm="%s", nonce="%s", qop="auth", algorithm=MD5\r\n\r\n'
            % (REALM.encode(), NONCE.encode())
        )

    async def _answer(self, mode: str, w: asyncio.StreamWriter) -> None:
        if mode in ("huge", "huge_chunked", "endless", "stall"):
            await self._stream(mode, w)
            return
        status, body = self._document(mode)
        kind = "text/html" if mode in ("not_soap", "http500") else "application/soap+xml"
        data = body.encode()
        w.write(
            f"HTTP/1.1 {status}\r\nContent-Type: {kind}; charset=utf-8\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await w.drain()

    def _document(self, mode: str) -> tuple[str, str]:
        ok = "200 OK"
        if mode == "ok":
            return ok, envelope(_OK_BODY)
        if mode == "xxe_file":
            dtd = f'<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file://{self.secret_file}">]>'
            return ok, envelope(_OK_BODY.replace(">NTP<", ">&x;<"), dtd)
        if mode == "xxe_http":
            url = f"http://127.0.0.1:{self.canary_port}/leak"
            dtd = f'<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "{url}">]>'
            return ok, envelope(_OK_BODY.replace(">NTP<", ">&x;<"), dtd)
        if mode == "billion_laughs":
            ents = ['<!ENTITY l0 "lol">'] + [
                f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
            ]
            dtd = f"<!DOCTYPE s:Envelope [{''.join(ents)}]>"
            return ok, envelope(_OK_BODY.replace(">NTP<", ">&l9;<"), dtd)
        if mode == "quadratic":
            dtd = f'<!DOCTYPE s:Envelope [<!ENTITY a "{"A" * 50_000}">]>'
            return ok, envelope(_OK_BODY.replace(">NTP<", ">" + "&a;" * 20_000 + "<"), dtd)
        if mode == "invalid_xml":
            return ok, envelope(_OK_BODY)[:-40] + "<unclosed>&bogus;"
        if mode == "deep":
            return ok, envelope("<a>" * 10_000 + "</a>" * 10_000)
        if mode == "not_soap":
            return ok, "<html><body>Welcome to the camera web UI</body></html>"
        if mode == "fault":
            fault = (
                "<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode>"
                '<s:Value xmlns:ter="http://www.onvif.org/ver10/error">ter:HardwareFailure'
                '</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">'
                "Video encoder failed</s:Text></s:Reason></s:Fault>"
            )
            return "500 Internal Server Error", envelope(fault)
        if mode == "http500":
            return "500 Internal Server Error", "<html><body>Internal Server Error</body></html>"
        return "404 Not Found", "unknown mode"

    async def _stream(self, mode: str, w: asyncio.StreamWriter) -> None:
        chunk = b"<a>" + b"x" * (MB - 7) + b"</a>"
        if mode == "stall":
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n\r\n")
            await w.drain()
            await asyncio.sleep(3600)
            return
        if mode == "huge":
            head = envelope("").split("</s:Body>")[0].encode()
            total = 50 * MB
            w.write(
                f"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
                f"Content-Length: {total}\r\n\r\n".encode()
                + head
            )
            sent = len(head)
            while sent < total:
                piece = chunk[: total - sent]
                w.write(piece)
                sent += len(piece)
                await w.drain()
            return
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        start = envelope("").split("</s:Body>")[0].encode()
        w.write(b"%x\r\n%s\r\n" % (len(start), start))
        sent = 0
        while mode == "endless" or sent < 50 * MB:
            piece = chunk if mode == "huge_chunked" else b"<a>tick</a>"
            w.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
            await w.drain()
            if mode == "endless":
                await asyncio.sleep(0.05)
        w.write(b"0\r\n\r\n")
        await w.drain()
