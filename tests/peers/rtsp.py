"""RTSP peers for tests, all on 127.0.0.1.

- `GstRtsp(mode)`: Debian's GStreamer RTSP server (tests/peers/rtsp_gst_server.py, run by the system
  python3 because PyGObject is not in the venv), serving a test pattern without auth ("open"),
  with Basic ("basic") or with Digest ("digest") authentication for USER/PASSWORD.
- `scripted(answer)`: a TCP server that hands each request head to `answer(head, index)` and
  sends back what it returns (None: say nothing and keep the connection open; b"": hang up;
  Hangup(data): send data, then hang up).
  It speaks the real RTSP framing and is used where GStreamer cannot misbehave on demand.
- `closed_port()`: a port bound but not listening, so connecting is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import select
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

SYSTEM_PYTHON = "/usr/bin/python3"
SCRIPT = Path(__file__).resolve().parent / "rtsp_gst_server.py"
USER, PASSWORD = "viewer", "Str3am:p@ss/w0rd"  # URI-reserved characters on purpose
_START_TIMEOUT = 15.0


@functools.cache
def gst_missing() -> str | None:
    probe = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); "
        "from gi.repository import GstRtspServer"
    )
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, "-c", probe], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{SYSTEM_PYTHON} unusable: {exc}"
    if done.returncode != 0:
        return (
            "GStreamer RTSP server missing (apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 "
            "gstreamer1.0-plugins-base gstreamer1.0-plugins-good)"
        )
    return None


class GstRtsp:
    """The GStreamer RTSP server in a child process; mounts /test (video) and /av (video+audio)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in __exit__

    def url(self, path: str = "/test", userinfo: str | None = None) -> str:
        auth = f"{userinfo}@" if userinfo else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Self:
        self._proc = subprocess.Popen(
            [SYSTEM_PYTHON, str(SCRIPT), self.mode, USER, PASSWORD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        assert self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout], [], [], _START_TIMEOUT)
        line = self._proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT "):
            self._stop()
            self._log.seek(0)
            raise RuntimeError(f"GStreamer RTSP server did not start: {self._log.read()[-2000:]!r}")
        self.port = int(line.split()[1])
        return self

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin is not None:
                proc.stdin.close()
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop()
        self._log.close()


@dataclass(frozen=True)
class Hangup:
    data: bytes


Answer = Callable[[bytes, int], bytes | Hangup | None]


@dataclass
class Scripted:
    port: int = 0
    requests: list[bytes] = field(default_factory=list)  # every request head, in order
    connections: int = 0
    host: str = "127.0.0.1"

    def url(self, path: str = "/cam", userinfo: str | None = None) -> str:
        auth = f"{userinfo}@" if userinfo else ""
        return f"rtsp://{auth}{self.host}:{self.port}{path}"


@contextlib.asynccontextmanager
async def scripted(answer: Answer, host: str = "127.0.0.1") -> AsyncIterator[Scripted]:
    """`host`: any 127.0.0.0/8 address, a second host on loopback."""
    peer = Scripted(host=host)
    tasks: set[asyncio.Task[None]] = set()

    async def talk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
                    return
                peer.requests.append(head)
                reply = answer(head, len(peer.requests) - 1)
                if reply is None:
                    await reader.read()  # silent until the client gives up
                    return
                if not reply:
                    return
                writer.write(reply.data if isinstance(reply, Hangup) else reply)
                await writer.drain()
                if isinstance(reply, Hangup):
                    return
        except OSError:
            return
        finally:
            writer.close()

    def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(talk(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(handle, host, 0)
    peer.port = server.sockets[0].getsockname()[1]
    try:
        yield peer
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def response(status: str, cseq_of: bytes, headers: dict[str, str], body: bytes = b"") -> bytes:
    """An RTSP/1.0 response echoing the request's CSeq."""
    cseq = next(
        (
            ln.split(b":", 1)[1].strip()
            for ln in cseq_of.split(b"\r\n")
            if ln.lower().startswith(b"cseq:")
        ),
        b"0",
    )
    lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq.decode()}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


SDP_H264 = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n"
    b"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n"
)
SDP_EMPTY = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n"
