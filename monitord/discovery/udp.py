"""The shape every UDP discovery protocol shares (WS-Discovery, SADP): a probe multicast
to a group out of each multicast-capable interface inside the ranges, the same probe unicast
to every IPv4 host of the ranges (multicast does not cross routers), then listening.

Every send is paced and asks the scope first; `Receiver` drops replies from outside the
ranges before the protocol's parser sees them, and tallies what it refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar

from monitord.discovery import netif
from monitord.discovery.scope import Pacer, Scope

MAX_REFUSALS: Final = 50  # kept for the report; the rest are only counted
T = TypeVar("T")


class ReplyRefused(Exception):
    """A datagram we would not read; the message says why (never its content)."""


@dataclass(slots=True)
class Tally:
    """What a run sent and refused, whatever the protocol."""

    refused: list[str] = field(default_factory=list)
    refused_count: int = 0
    outside: int = 0  # replies from outside the ranges, dropped unread
    sent: int = 0

    def refuse(self, source: str, why: str) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_REFUSALS:
            self.refused.append(f"{source}: {why}")


class Receiver(asyncio.DatagramProtocol, Generic[T]):
    """Replies in the ranges go to `parse` (which raises ReplyRefused), each item to `keep`."""

    def __init__(
        self, scope: Scope, tally: Tally, parse: Callable[[bytes, str], Iterable[T]],
        keep: Callable[[T], object],
    ) -> None:  # fmt: skip
        self.scope, self.tally, self.parse, self.keep = scope, tally, parse, keep

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        source = str(addr[0])
        if not self.scope.allows(source):
            self.tally.outside += 1
            return
        try:
            items = self.parse(data, source)
        except ReplyRefused as exc:
            self.tally.refuse(source, str(exc))
            return
        for item in items:
            self.keep(item)


@dataclass(slots=True)
class Sent:
    count: int = 0
    interfaces: list[str] = field(default_factory=list)


async def probe(
    scope: Scope, pacer: Pacer, port: int, group: str,
    messages: Callable[[], Sequence[bytes]], receiver: Callable[[], asyncio.DatagramProtocol],
    *, listen: float, multicast: bool = True, unicast: bool = True, bind: str = "0.0.0.0",
) -> Sent:  # fmt: skip
    """Send `messages()` (fresh ids per socket) and listen `listen` seconds."""
    loop = asyncio.get_running_loop()
    sent = Sent()
    transports: list[asyncio.DatagramTransport] = []

    async def send(t: asyncio.DatagramTransport, message: bytes, host: str) -> None:
        await pacer.wait()
        t.sendto(message, (host, port))
        sent.count += 1

    try:
        if multicast:
            for name, address in netif.multicast_interfaces():
                if not scope.allows(address):
                    continue  # an interface on another network: not ours to probe
                sent.interfaces.append(name)
                t, _ = await loop.create_datagram_endpoint(receiver, local_addr=(address, 0))
                transports.append(t)
                netif.multicast_out(t, address)
                for message in messages():
                    await send(t, message, group)
        if unicast:
            t, _ = await loop.create_datagram_endpoint(receiver, local_addr=(bind, 0))
            transports.append(t)
            batch = messages()
            for host in scope.hosts():
                if ":" in host:
                    continue  # these protocols are IPv4 in practice; v6 ranges are skipped
                for message in batch:
                    await send(t, message, host)
        await pacer.clock.sleep(listen)
    finally:
        for t in transports:
            t.close()
    return sent
