"""Opening ICMP sockets and reading kernel receive stamps (Linux)."""

from __future__ import annotations

import socket
import struct
import time
from typing import Final

from monitord.checks.icmp.packet import ECHO_REPLY_V4, ECHO_REPLY_V6

# Linux values; the socket module does not export them.
SO_TIMESTAMPNS: Final = getattr(socket, "SO_TIMESTAMPNS", 35)
_SO_RCVBUFFORCE: Final = getattr(socket, "SO_RCVBUFFORCE", 33)
_SOL_RAW: Final = 255
_ICMP_FILTER: Final = 1
_ICMP6_FILTER: Final = 1
_TIMESPEC: Final = struct.Struct("@ll")

_RCVBUF: Final = 4 << 20


def open_socket(family: socket.AddressFamily, *, raw: bool) -> socket.socket:
    """A non-blocking ICMP socket: raw (root/CAP_NET_RAW) or datagram (ping_group_range)."""
    v6 = family == socket.AF_INET6
    kind = socket.SOCK_RAW if raw else socket.SOCK_DGRAM
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    sock = socket.socket(family, kind | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, proto)
    try:
        try:  # FORCE passes net.core.rmem_max but needs CAP_NET_ADMIN
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, _RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        # Kernel receive stamps keep RTTs honest while our event loop is busy.
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        if raw:
            # A raw socket sees all ICMP on the host, our own requests included on
            # loopback; let only echo replies wake us up (set bit = blocked).
            if v6:
                words = [0xFFFFFFFF] * 8
                words[ECHO_REPLY_V6 >> 5] &= ~(1 << (ECHO_REPLY_V6 & 31)) & 0xFFFFFFFF
                sock.setsockopt(socket.IPPROTO_ICMPV6, _ICMP6_FILTER, struct.pack("8I", *words))
            else:
                mask = ~(1 << ECHO_REPLY_V4) & 0xFFFFFFFF
                sock.setsockopt(_SOL_RAW, _ICMP_FILTER, struct.pack("I", mask))
    except BaseException:
        sock.close()
        raise
    return sock


def received_at(ancillary: list[tuple[int, int, bytes]]) -> float:
    """Wall-clock arrival time from the kernel stamp in recvmsg ancillary data, else now."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TIMESPEC.size:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return float(sec + nsec * 1e-9)
    return time.time()
