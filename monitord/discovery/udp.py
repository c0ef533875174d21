"""The shape every UDP discovery protocol shares (WS-Discovery, SADP): a probe multicast
to a group out of each multicast-capable interface inside the ranges, the same probe unicast
to every IPv4 host of the ranges (multicast does not cross routers), then listening.

Every send is paced and asks the scope first; the caller's receiver drops replies from
outside the ranges. Nothing here reads a reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monitord.discovery import netif
from monitord.discovery.scope import Pacer, Scope


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
