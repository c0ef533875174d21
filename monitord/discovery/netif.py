"""Which local interfaces can send multicast, from the kernel (Linux ioctls, no dependency).

python-ws-discovery opened a socket on every interface and broke on wg0 and docker0
(andreikop/python-ws-discovery#23): only interfaces that are up, not loopback, flagged
MULTICAST and holding an IPv4 address are used.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
from typing import Final

_SIOCGIFFLAGS: Final = 0x8913
_SIOCGIFADDR: Final = 0x8915
_IFF_UP, _IFF_LOOPBACK, _IFF_MULTICAST = 0x1, 0x8, 0x1000


def multicast_interfaces() -> list[tuple[str, str]]:
    """(name, IPv4 address) of each usable interface."""
    out = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for _index, name in socket.if_nameindex():
            packed = struct.pack("256s", name.encode()[:15])
            try:
                flags = struct.unpack("H", fcntl.ioctl(s, _SIOCGIFFLAGS, packed)[16:18])[0]
                if not flags & _IFF_UP or flags & _IFF_LOOPBACK or not flags & _IFF_MULTICAST:
                    continue
                address = socket.inet_ntoa(fcntl.ioctl(s, _SIOCGIFADDR, packed)[20:24])
            except OSError:
                continue  # no IPv4 address, or gone meanwhile
            out.append((name, address))
    return out


def multicast_out(transport: asyncio.DatagramTransport, address: str) -> None:
    """Send this socket's multicast out of the interface holding `address`, one hop only."""
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(address))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
