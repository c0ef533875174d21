"""Asynchronous ICMP echo ("ping") with one shared socket per address family.

Per-ping sockets (icmplib, ping3) make every socket see every reply, so CPU per ping
grows with concurrency; here one socket per family demultiplexes replies by a random
per-echo token carried in the payload.
"""

from __future__ import annotations

import asyncio
import errno
import heapq
import os
import secrets
import socket
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final, Self

from monitord.checks.icmp.packet import TOKEN_SIZE, decode_echo_reply, encode_echo_request
from monitord.checks.icmp.sockets import open_socket, received_at

# Read this many replies per readiness callback, and drain after this many sends, so a
# burst of thousands of sends neither starves other tasks nor overflows the buffer.
_READ_BUDGET: Final = 4096
_DRAIN_EVERY: Final = 256
_ENOBUFS_RETRIES: Final = 6

_ERRORS: Final = {
    errno.ENETUNREACH: "no route to network",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETDOWN: "network is down",
    errno.EACCES: "sending refused (broadcast address or local firewall)",
    errno.EPERM: "sending refused by local firewall",
    errno.EADDRNOTAVAIL: "no usable source address",
    errno.ENOBUFS: "no buffer space (send queue full)",
    errno.EAFNOSUPPORT: "address family not supported on this host",
    errno.EBADF: "pinger closed",
}


class IcmpMode(StrEnum):
    RAW = "raw"
    DGRAM = "dgram"


class IcmpUnavailable(Exception):
    """Neither raw nor datagram ICMP sockets may be opened by this process."""


@dataclass(frozen=True, slots=True)
class PingResult:
    address: str
    sent: int
    received: int
    rtts: tuple[float, ...]
    error: str | None = None

    @property
    def loss(self) -> float:
        # Nothing sent is a total failure, never "0 % loss".
        return 1.0 if self.sent == 0 else 1.0 - self.received / self.sent

    @property
    def rtt_min(self) -> float | None:
        return min(self.rtts) if self.rtts else None

    @property
    def rtt_avg(self) -> float | None:
        return sum(self.rtts) / len(self.rtts) if self.rtts else None

    @property
    def rtt_max(self) -> float | None:
        return max(self.rtts) if self.rtts else None

    @property
    def alive(self) -> bool:
        return self.received > 0


class _Request:
    """The echoes of one ping() call."""

    __slots__ = ("abandoned", "address", "deadline", "error", "interval", "outstanding",
                 "remaining", "rtts", "sent", "timeout", "tokens", "waiter")  # fmt: skip

    def __init__(
        self,
        address: str,
        count: int,
        interval: float,
        timeout: float,
        waiter: asyncio.Future[None],
    ) -> None:
        self.address, self.remaining, self.interval = address, count, interval
        self.timeout, self.waiter = timeout, waiter
        self.sent = self.outstanding = 0
        self.deadline = 0.0
        self.rtts: list[float] = []
        self.tokens: list[bytes] = []
        self.error: str | None = None
        self.abandoned = False  # its ping() was cancelled: nothing more is sent

    def answered(self, rtt: float) -> None:
        self.outstanding -= 1
        if rtt <= self.timeout:
            self.rtts.append(rtt)
        if self.outstanding == 0 and self.remaining == 0:
            self.finish()

    def finish(self) -> None:
        if not self.waiter.done():
            self.waiter.set_result(None)


_SEND, _EXPIRE = 0, 1


class _Channel:
    """One socket of one address family, shared by every ping of that family.

    Every ping's next echo and its timeout wait in one heap behind one loop timer, instead
    of a coroutine sleeping between echoes and a timer per ping: at 10 000 devices those
    sleeps and timers were the largest share of the daemon's own CPU per echo."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, mode: IcmpMode, ident: int
    ) -> None:
        self._loop, self._sock, self._ident = loop, sock, ident
        self._v6 = sock.family == socket.AF_INET6
        self._ip_header = mode is IcmpMode.RAW and not self._v6
        # The kernel rewrites the identifier of datagram sockets to their port.
        self._check_ident = mode is IcmpMode.RAW
        self._seq = secrets.randbelow(0x10000)
        self._sends = 0
        self._pending: dict[bytes, tuple[_Request, int, float]] = {}
        self._due: list[tuple[float, int, int, _Request]] = []  # (when, order, what, request)
        self._order = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._firing = False
        self._random, self._random_at = b"", 0
        self._slow: set[asyncio.Task[None]] = set()
        self._wake: asyncio.Future[None] | None = None
        self.closed = False
        loop.add_reader(sock.fileno(), self._read)

    def start(self, request: _Request) -> None:
        """Send the first echo now; the others follow `interval` apart, then the timeout."""
        self._emit(request)

    def forget(self, request: _Request) -> None:
        request.abandoned = True
        for token in request.tokens:
            self._pending.pop(token, None)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._loop.remove_reader(self._sock.fileno())
            self._loop.remove_writer(self._sock.fileno())
        except RuntimeError:  # the loop is already closed
            pass
        self._sock.close()
        if self._timer is not None:
            self._timer.cancel()
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)
        for request, _, _ in list(self._pending.values()):
            request.finish()
        for _, _, what, request in self._due:
            if what == _SEND and not request.waiter.done():  # it had more to send
                request.error = _describe(OSError(errno.EBADF, "pinger closed"))
            request.finish()
        self._pending.clear()
        self._due.clear()

    def _token(self) -> bytes:
        # One urandom call per 512 echoes rather than one each.
        at = self._random_at
        if at >= len(self._random):
            self._random, at = os.urandom(TOKEN_SIZE * 512), 0
        self._random_at = at + TOKEN_SIZE
        return self._random[at : at + TOKEN_SIZE]

    def _emit(self, request: _Request) -> None:
        if request.abandoned:
            return
        if self.closed:
            self._failed(request, OSError(errno.EBADF, "pinger closed"))
            return
        self._seq = seq = (self._seq + 1) & 0xFFFF
        token = self._token()
        packet = encode_echo_request(self._ident, seq, token, v6=self._v6)
        try:
            sent_at = time.time()
            self._sock.sendto(packet, (request.address, 0))
        except OSError as exc:
            if _transient(exc):
                self._send_later(request, seq, token, packet, exc)
            else:
                self._failed(request, exc)
            return
        self._sent(request, seq, token, sent_at)

    def _send_later(
        self, request: _Request, seq: int, token: bytes, packet: bytes, first: OSError
    ) -> None:
        task = self._loop.create_task(self._send_slowly(request, seq, token, packet, first))
        self._slow.add(task)
        task.add_done_callback(self._slow.discard)

    async def _send_slowly(
        self, request: _Request, seq: int, token: bytes, packet: bytes, error: OSError
    ) -> None:
        """A full socket buffer (wait until writable) or device queue (transient; it says
        nothing about the target: retry a few times, backing off)."""
        retries = 0
        while True:
            if isinstance(error, BlockingIOError):
                await self._writable()
            elif retries >= _ENOBUFS_RETRIES:
                self._failed(request, error)
                return
            else:
                await asyncio.sleep(0.001 * 2**retries)
                retries += 1
            if self.closed:
                self._failed(request, OSError(errno.EBADF, "pinger closed"))
                return
            if request.abandoned:
                return
            try:
                sent_at = time.time()
                self._sock.sendto(packet, (request.address, 0))
                break
            except OSError as exc:
                if not _transient(exc):
                    self._failed(request, exc)
                    return
                error = exc
        self._sent(request, seq, token, sent_at)

    def _sent(self, request: _Request, seq: int, token: bytes, sent_at: float) -> None:
        self._pending[token] = (request, seq, sent_at)
        request.tokens.append(token)
        request.sent += 1
        request.outstanding += 1
        request.remaining -= 1
        now = self._loop.time()
        request.deadline = now + request.timeout
        if request.remaining:
            self._push(now + request.interval, _SEND, request)
        else:
            self._push(request.deadline, _EXPIRE, request)
        self._sends += 1
        if self._sends % _DRAIN_EVERY == 0:
            self._read()

    def _failed(self, request: _Request, exc: OSError) -> None:
        request.error, request.remaining = _describe(exc), 0
        if request.outstanding and not self.closed:
            self._push(request.deadline, _EXPIRE, request)
        else:
            request.finish()

    def _push(self, when: float, what: int, request: _Request) -> None:
        self._order += 1
        heapq.heappush(self._due, (when, self._order, what, request))
        if self._firing:
            return  # _fire arms the timer for what is left
        if self._timer is None or when < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._arm(when)

    def _arm(self, when: float) -> None:
        self._timer, self._timer_at = self._loop.call_at(when, self._fire), when

    def _fire(self) -> None:
        self._timer, self._firing = None, True
        due, now = self._due, self._loop.time()
        read = False
        try:
            while due and due[0][0] <= now:
                _, _, what, request = heapq.heappop(due)
                if request.waiter.done() or request.abandoned:
                    continue
                if what == _SEND:
                    self._emit(request)
                    continue
                if not read:  # replies that arrived in time may still sit in the buffer
                    self._read()
                    read = True
                request.finish()
        finally:
            self._firing = False
            if due and not self.closed:
                self._arm(due[0][0])

    async def _writable(self) -> None:
        if self._wake is None:
            self._wake = self._loop.create_future()
            self._loop.add_writer(self._sock.fileno(), self._on_writable)
        # Shared by every waiting sender: one cancelled sender must not cancel it.
        await asyncio.shield(self._wake)

    def _on_writable(self) -> None:
        self._loop.remove_writer(self._sock.fileno())
        wake, self._wake = self._wake, None
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _read(self) -> None:
        if self.closed:
            return
        pending = self._pending
        for _ in range(_READ_BUDGET):
            try:
                data, ancillary, _flags, _addr = self._sock.recvmsg(512, 64)
            except BlockingIOError:
                return
            except OSError:
                continue  # a queued socket error says nothing about our echoes
            reply = decode_echo_reply(data, v6=self._v6, ip_header=self._ip_header)
            if reply is None:
                continue
            entry = pending.get(reply.token)
            if entry is None or entry[1] != reply.seq:
                continue
            if self._check_ident and reply.ident != self._ident:
                continue
            del pending[reply.token]
            request, _, sent_at = entry
            request.answered(max(0.0, received_at(ancillary) - sent_at))


def _unavailable(mode: IcmpMode | None) -> IcmpUnavailable:
    try:
        now = "now " + " ".join(Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    except OSError:  # hidden, e.g. by systemd's ProcSubset=pid
        now = "unreadable here; see systemd/60-monitord-ping.conf"
    groups = sorted({os.getegid(), *os.getgroups()})
    raw = (
        "raw ICMP sockets need root or the CAP_NET_RAW capability "
        "(e.g. AmbientCapabilities=CAP_NET_RAW in the systemd unit)"
    )
    dgram = (
        f"datagram ICMP sockets need net.ipv4.ping_group_range ({now}) "
        f"to include one of our groups {groups}, "
        f'e.g. sysctl -w net.ipv4.ping_group_range="{groups[0]} {groups[0]}"'
    )
    reasons = {IcmpMode.RAW: raw, IcmpMode.DGRAM: dgram}
    wanted = [reasons[mode]] if mode else [raw, dgram]
    return IcmpUnavailable("cannot open ICMP sockets: " + "; ".join(wanted))


class Pinger:
    """Sends echo requests to IP addresses; use one per event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, mode: IcmpMode, v4: socket.socket) -> None:
        self.mode = mode
        self._loop = loop
        self._ident = secrets.randbelow(0xFFFF) + 1
        self._channels = {socket.AF_INET: _Channel(loop, v4, mode, self._ident)}
        self._closed = False

    @classmethod
    async def open(cls, mode: IcmpMode | None = None) -> Pinger:
        """Open the IPv4 socket; mode None picks RAW when permitted, else DGRAM."""
        loop = asyncio.get_running_loop()
        for candidate in [mode] if mode else [IcmpMode.RAW, IcmpMode.DGRAM]:
            try:
                sock = open_socket(socket.AF_INET, raw=candidate is IcmpMode.RAW)
            except PermissionError:
                continue
            return cls(loop, candidate, sock)
        raise _unavailable(mode)

    async def ping(
        self,
        address: str,
        count: int = 3,
        interval: float = 0.2,
        timeout: float = 1.0,  # noqa: ASYNC109
    ) -> PingResult:
        """Send count echoes interval apart; each counts if answered within timeout."""
        family = _family(address)
        if count < 1 or timeout <= 0 or interval < 0:
            raise ValueError("count must be >= 1, timeout > 0 and interval >= 0")
        if self._closed:
            raise RuntimeError("Pinger is closed")
        try:
            channel = self._channel(family)
        except OSError as exc:
            return PingResult(address, 0, 0, (), f"cannot open ICMP socket: {exc.strerror or exc}")
        request = _Request(address, count, interval, timeout, self._loop.create_future())
        try:
            channel.start(request)
            await request.waiter
        finally:
            channel.forget(request)
        return PingResult(
            address, request.sent, len(request.rtts), tuple(request.rtts), request.error
        )

    def close(self) -> None:
        self._closed = True
        for channel in self._channels.values():
            channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def _channel(self, family: socket.AddressFamily) -> _Channel:
        channel = self._channels.get(family)
        if channel is None:
            sock = open_socket(family, raw=self.mode is IcmpMode.RAW)
            channel = self._channels[family] = _Channel(self._loop, sock, self.mode, self._ident)
        return channel


def _family(address: str) -> socket.AddressFamily:
    """The family of an IP address literal; hostnames are refused, never resolved."""
    # inet_pton rather than ipaddress: it is ~50 times cheaper, and this runs per ping.
    try:
        socket.inet_pton(socket.AF_INET, address)
        return socket.AF_INET
    except OSError:
        pass
    try:
        socket.inet_pton(socket.AF_INET6, address.partition("%")[0])
        return socket.AF_INET6
    except OSError:
        raise ValueError(f"not an IP address: {address!r}") from None


def _transient(exc: OSError) -> bool:
    """A full socket buffer or device queue: the echo is sent later, not given up."""
    return isinstance(exc, BlockingIOError) or exc.errno == errno.ENOBUFS


def _describe(exc: OSError) -> str:
    if exc.errno in _ERRORS:
        return _ERRORS[exc.errno]
    return os.strerror(exc.errno) if exc.errno else str(exc)
