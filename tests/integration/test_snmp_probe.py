"""The SNMP probe against real agents: snmpd (v2c, v3 authPriv) and snmpsim recordings."""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from monitord.checks.snmp import oids as O
from monitord.checks.snmp.client import (
    Credentials,
    SnmpAuthError,
    SnmpClient,
    SnmpProtocolError,
    SnmpTimeout,
    Target,
)
from tests.peers.snmp import AUTH_KEY, COMMUNITY, PRIV_KEY, USER, Snmpd, Snmpsim

V2C = Credentials("2c", community=SecretStr(COMMUNITY))
V3 = Credentials("3", user=USER, auth_key=SecretStr(AUTH_KEY), priv_key=SecretStr(PRIV_KEY))


@pytest.fixture
async def client() -> AsyncIterator[SnmpClient]:
    c = SnmpClient(max_walk_rows=50)
    yield c
    c.close()


async def test_v2c_get_and_missing_oid(client: SnmpClient, snmpd: Snmpd) -> None:
    t = Target("127.0.0.1", snmpd.port, V2C, timeout=1.0, retries=0)
    got = await client.get(t, [O.SYS_NAME, O.SYS_UPTIME, "1.3.6.1.2.1.1.99.0"])
    assert got[O.SYS_NAME] == "testagent"
    assert isinstance(got[O.SYS_UPTIME], int)
    assert "1.3.6.1.2.1.1.99.0" not in got  # noSuchObject is absent, not an error


async def test_v3_auth_priv_sha_aes(client: SnmpClient, snmpd: Snmpd) -> None:
    t = Target("127.0.0.1", snmpd.port, V3, timeout=1.0, retries=0)
    assert (await client.get(t, [O.SYS_NAME]))[O.SYS_NAME] == "testagent"


async def test_v3_wrong_key_is_an_auth_error_without_the_key(
    client: SnmpClient, snmpd: Snmpd
) -> None:
    wrong = Credentials(
        "3", user=USER, auth_key=SecretStr("wrong-auth-key-123"), priv_key=SecretStr(PRIV_KEY)
    )
    t = Target("127.0.0.1", snmpd.port, wrong, timeout=1.0, retries=0)
    with pytest.raises(SnmpAuthError) as info:
        await client.get(t, [O.SYS_NAME])
    text = str(info.value) + repr(info.value) + repr(t)
    assert f"127.0.0.1:{snmpd.port}" in str(info.value)
    for secret in ("wrong-auth-key-123", PRIV_KEY, AUTH_KEY, COMMUNITY):
        assert secret not in text


async def test_wrong_community_times_out_naming_the_address(
    client: SnmpClient, snmpd: Snmpd
) -> None:
    t = Target("127.0.0.1", snmpd.port, Credentials("2c", SecretStr("not-the-one")), 0.3, 0)
    with pytest.raises(SnmpTimeout) as info:
        await client.get(t, [O.SYS_NAME])
    assert str(info.value).startswith(f"127.0.0.1:{snmpd.port}: ")
    assert "not-the-one" not in str(info.value)


async def test_walk_is_bounded(client: SnmpClient, snmpd: Snmpd) -> None:
    t = Target("127.0.0.1", snmpd.port, V2C, timeout=1.0, retries=0)
    rows, truncated = await client.walk(t, "1.3.6.1.2.1")  # all of MIB-2: far over 50
    assert truncated
    assert 50 <= len(rows) < 50 + 25 * 2


@pytest.mark.parametrize(
    ("community", "kind", "ports", "expect"),
    [
        (
            "switch1",
            "switch",
            (1, 3),
            {O.PETH_PSE_PORT_DETECTION_STATUS + ".1.2": 4, O.IF_OPER_STATUS + ".3": 2},
        ),
        (
            "nvr1",
            "nvr",
            (),
            {O.HR_STORAGE_USED + ".32": 966987100, O.HR_DEVICE_STATUS + ".1553": 3},
        ),
        ("acs1", "access_controller", (), {O.SYS_NAME: "acs-gate"}),
    ],
)
async def test_fetch_plans_against_recordings(
    client: SnmpClient,
    snmpsim: Snmpsim,
    community: str,
    kind: str,
    ports: tuple[int, ...],
    expect: dict[str, object],
) -> None:
    t = Target("127.0.0.1", snmpsim.port, Credentials("2c", SecretStr(community)), 2.0, 1)
    reading = await client.fetch(t, O.plan_for(kind, ports))
    assert reading.error is None, reading.error
    assert reading.partial == ()
    for oid, value in expect.items():
        assert reading.get(oid) == value
    assert str(reading.get(O.SYS_OBJECT_ID)).startswith("1.3.6.1.4.1.99999.")


async def test_counters_move(client: SnmpClient, snmpsim: Snmpsim) -> None:
    t = Target("127.0.0.1", snmpsim.port, Credentials("2c", SecretStr("switch1")), 2.0, 1)
    oid = O.IF_HC_IN_OCTETS + ".1"
    first = (await client.get(t, [oid]))[oid]
    await asyncio.sleep(1.1)  # snmpsim's numeric variation follows the wall clock
    second = (await client.get(t, [oid]))[oid]
    assert isinstance(first, int) and isinstance(second, int) and second > first


class _Garbage(asyncio.DatagramProtocol):
    """Answers every request with random bytes or a mutated copy of it."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seen = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.seen += 1
        if self.rng.random() < 0.5:
            reply = self.rng.randbytes(self.rng.randint(0, 300))
        else:
            mutated = bytearray(data)
            for _ in range(self.rng.randint(1, 8)):
                if mutated:
                    mutated[self.rng.randrange(len(mutated))] = self.rng.randrange(256)
            reply = bytes(mutated[: self.rng.randint(0, len(mutated))])
        self.transport.sendto(reply, addr)  # type: ignore[attr-defined]


async def test_garbage_replies_end_in_a_clear_error(client: SnmpClient) -> None:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    transport, peer = await loop.create_datagram_endpoint(lambda: _Garbage(7), sock=sock)
    port = sock.getsockname()[1]
    try:
        t = Target("127.0.0.1", port, V2C, timeout=0.2, retries=0)
        for _ in range(30):
            reading = await client.fetch(t, O.plan_for("switch", (1,)))
            assert reading.error is not None
            assert isinstance(reading.error, SnmpTimeout | SnmpProtocolError)
            assert COMMUNITY not in str(reading.error)
        assert peer.seen >= 30
        # The engine survived: a real agent is still answered.
    finally:
        transport.close()


async def test_same_v3_user_name_with_other_keys_on_two_agents(
    client: SnmpClient, snmpd: Snmpd, tmp_path: Path
) -> None:
    other_keys = ("other-auth-key-1", "other-priv-key-2")
    with Snmpd(tmp_path, keys=other_keys) as other:
        a = Target("127.0.0.1", snmpd.port, V3, timeout=1.0, retries=0)
        b_creds = Credentials(
            "3", user=USER, auth_key=SecretStr(other_keys[0]), priv_key=SecretStr(other_keys[1])
        )
        b = Target("127.0.0.1", other.port, b_creds, timeout=1.0, retries=0)
        # Interleaved and concurrent: one engine would swap the user's keys mid-request.
        got = await asyncio.gather(
            *(client.get(t, [O.SYS_NAME]) for _ in range(20) for t in (a, b))
        )
    assert all(g == {O.SYS_NAME: "testagent"} for g in got)
