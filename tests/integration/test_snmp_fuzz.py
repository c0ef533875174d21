"""The probe's response path under mutated replies: a proxy in front of snmpd answers every
request with many mutated copies of snmpd's real reply (bit flips, truncated BER, changed
type tags), and sometimes the real one. Each poll must end as values or a clear error, the
evaluation must turn either into findings, and the client must keep working.
"""

from __future__ import annotations

import asyncio
import random
import socket

from pydantic import SecretStr

from monitord.checks.snmp import oids as O
from monitord.checks.snmp.client import Credentials, SnmpClient, SnmpError, Target
from monitord.checks.snmp.evaluate import evaluate
from monitord.config.secrets import SecretRef
from monitord.config.snmp import SnmpSettings
from monitord.health.findings import Status
from tests.peers.snmp import COMMUNITY, Snmpd

COPIES = 12


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self.reply.done():
            self.reply.set_result(data)


class _MutatingProxy(asyncio.DatagramProtocol):
    def __init__(self, agent_port: int, seed: int) -> None:
        self.agent_port, self.rng = agent_port, random.Random(seed)
        self.sent = 0
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.DatagramTransport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _mutate(self, packet: bytes) -> bytes:
        out = bytearray(packet)
        how = self.rng.randrange(4)
        if how == 0:  # flip bytes
            for _ in range(self.rng.randint(1, 4)):
                out[self.rng.randrange(len(out))] ^= 1 << self.rng.randrange(8)
        elif how == 1:  # truncated BER
            del out[self.rng.randrange(1, len(out)) :]
        elif how == 2:  # a type tag changed: INTEGER <-> OCTET STRING <-> Counter64 ...
            tags = [i for i, b in enumerate(out) if b in (0x02, 0x04, 0x06, 0x41, 0x43, 0x46)]
            if tags:
                out[self.rng.choice(tags)] = self.rng.choice((0x02, 0x04, 0x05, 0x06, 0x41, 0x46))
        else:  # junk inserted
            at = self.rng.randrange(len(out))
            out[at:at] = self.rng.randbytes(self.rng.randint(1, 8))
        return bytes(out)

    async def _answer(self, request: bytes, client: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        up, proto = await loop.create_datagram_endpoint(
            _Upstream, remote_addr=("127.0.0.1", self.agent_port)
        )
        try:
            up.sendto(request)
            reply = await asyncio.wait_for(proto.reply, 1.0)
        except TimeoutError:
            return
        finally:
            up.close()
        for _ in range(COPIES):
            self.transport.sendto(self._mutate(reply), client)
            self.sent += 1
        if self.rng.random() < 0.4:
            self.transport.sendto(reply, client)


async def test_mutated_replies_end_as_values_or_clear_errors(snmpd: Snmpd) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    transport, proxy = await loop.create_datagram_endpoint(
        lambda: _MutatingProxy(snmpd.port, seed=11), sock=sock
    )
    client = SnmpClient()
    settings = SnmpSettings(community=SecretRef(env="UNUSED"), ports=(1, 2))
    creds = Credentials("2c", community=SecretStr(COMMUNITY))
    t = Target("127.0.0.1", sock.getsockname()[1], creds, timeout=0.5, retries=0)
    slots = asyncio.Semaphore(20)
    statuses: dict[Status, int] = {}
    errors = 0

    async def one() -> None:
        nonlocal errors
        async with slots:
            reading = await client.fetch(t, O.plan_for("switch", (1, 2)))
        if reading.error is not None:
            assert isinstance(reading.error, SnmpError)
            assert COMMUNITY not in str(reading.error)
            errors += 1
        for f in evaluate("sw", "switch", settings, reading, None, 0.0).findings:
            statuses[f.status] = statuses.get(f.status, 0) + 1

    try:
        await asyncio.gather(*(one() for _ in range(200)))
        assert proxy.sent >= 2000
        assert errors < 200 and statuses.get(Status.OK, 0) > 0  # real replies got through
        # The engine is unharmed: straight to the agent, a clean answer.
        # (A generous timeout: this asks whether the engine works, not how fast.)
        direct = Target("127.0.0.1", snmpd.port, creds, timeout=5.0, retries=1)
        assert (await client.get(direct, [O.SYS_NAME]))[O.SYS_NAME] == "testagent"
    finally:
        client.close()
        transport.close()
        for task in list(proxy.tasks):
            task.cancel()
