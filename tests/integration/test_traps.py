"""The trap receiver alone, with net-snmp's senders: v1, v2c, v3 traps and informs, wrong
credentials and unknown users counted, a busy port refused loudly."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from monitord.checks.snmp.traps import Trap, TrapListenError, TrapReceiver, TrapUserKeys
from tests.peers.snmp import AUTH_KEY, PRIV_KEY, USER

pytestmark = pytest.mark.skipif(
    shutil.which("snmptrap") is None, reason="net-snmp's snmptrap missing (apt-get install snmp)"
)
COMMUNITY = "trap-secret-77"
ENGINE_ID = "8000000001020304"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[TrapReceiver, list[Trap]]]:
    got: list[Trap] = []
    users = [TrapUserKeys(USER, "SHA", SecretStr(AUTH_KEY), "AES", SecretStr(PRIV_KEY), ENGINE_ID)]
    r = TrapReceiver(
        "127.0.0.1", 0, [SecretStr(COMMUNITY)], users, got.append, lambda: dt.datetime.now(dt.UTC)
    )
    yield r, got
    r.close()


async def send(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err


async def until(condition: Callable[[], bool]) -> None:
    """Poll for up to 5 s: the receiver runs in this loop, so it must be given turns."""
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


V3 = ["-l", "authPriv", "-u", USER, "-a", "SHA", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY]


async def test_every_version(receiver: tuple[TrapReceiver, list[Trap]]) -> None:
    r, got = receiver
    at = f"127.0.0.1:{r.port}"
    await send("snmptrap", "-v2c", "-c", COMMUNITY, at, "", "1.3.6.1.6.3.1.1.5.3",
               "1.3.6.1.2.1.2.2.1.1.3", "i", "3")  # fmt: skip
    await send("snmptrap", "-v1", "-c", COMMUNITY, at, "1.3.6.1.4.1.8072", "127.0.0.1", "6",
               "17", "")  # fmt: skip
    await send("snmptrap", "-v3", "-e", "0x" + ENGINE_ID, *V3, at, "", "1.3.6.1.6.3.1.1.5.1")
    await send("snmpinform", "-v3", *V3, "-t", "2", at, "", "1.3.6.1.6.3.1.1.5.4")
    await send("snmpinform", "-v2c", "-c", COMMUNITY, "-t", "2", at, "", "1.3.6.1.6.3.1.1.5.2")
    await until(lambda: len(got) == 5)
    assert [(t.name, t.security_model) for t in got] == [
        ("linkDown", 2),
        ("enterprise", 1),
        ("coldStart", 3),
        ("linkUp", 3),
        ("warmStart", 2),
    ]
    assert got[0].varbinds[-1] == ("1.3.6.1.2.1.2.2.1.1.3", 3)
    assert got[1].trap_oid == "1.3.6.1.4.1.8072.0.17"
    assert {t.source for t in got} == {"127.0.0.1"}


async def test_wrong_credentials_are_counted_and_dropped(
    receiver: tuple[TrapReceiver, list[Trap]],
) -> None:
    r, got = receiver
    at = f"127.0.0.1:{r.port}"
    await send("snmptrap", "-v2c", "-c", "wrong", at, "", "1.3.6.1.6.3.1.1.5.3")
    wrong_key = ["-l", "authNoPriv", "-u", USER, "-a", "SHA", "-A", "not-the-key-123"]
    await send("snmptrap", "-v3", "-e", "0x" + ENGINE_ID, *wrong_key, at, "", "1.3.6.1.6.3.1.1.5.3")
    await send("snmptrap", "-v3", "-e", "0x" + ENGINE_ID, "-l", "noAuthNoPriv", "-u", "nobody",
               at, "", "1.3.6.1.6.3.1.1.5.3")  # fmt: skip
    await until(lambda: r.drops()["bad_community"] == 1 and r.drops()["bad_v3_credentials"] >= 2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x30\x82\xff\xff garbage", ("127.0.0.1", r.port))
    await until(lambda: r.drops()["malformed"] >= 1)
    assert got == []


def test_busy_port_fails_loudly() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(TrapListenError, match=f"127.0.0.1:{port}: Address already in use"):
            TrapReceiver(
                "127.0.0.1", port, [], [], lambda _t: None, lambda: dt.datetime.now(dt.UTC)
            )
