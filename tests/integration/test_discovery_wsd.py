"""WS-Discovery, the clock sweep and ONVIF identity against real peers on loopback, and
multicast in a network namespace of the test's own."""

from __future__ import annotations

import datetime as dt
import random
import subprocess
import sys
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from monitord.checks.onvif.client import OnvifClient
from monitord.discovery import onvif as donvif
from monitord.discovery.scope import Pacer, Scope, networks
from monitord.discovery.wsd import MAX_REPLY, WsdProber
from tests.peers import netlab
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_docs import DeviceInfo
from tests.peers.wsd import WsdResponder, probe_matches


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def net() -> str:
    """A /29 of loopback of this test's own (127.N.M.0/29): hosts .1 to .6."""
    return f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"


def scope(net: str) -> Scope:
    return Scope(networks([f"{net}.0/29"]))


async def probe(net: str, port: int) -> WsdProber:
    prober = WsdProber(scope(net), Pacer(5000.0), port=port, listen=0.5, multicast=False)
    await prober.run()
    return prober


async def test_unicast_probe_finds_each_camera_once_even_with_identical_names(net: str) -> None:
    port = random.randint(20000, 40000)
    cams = [
        WsdResponder(f"{net}.{i}", port, name="NVT", hardware="IPC-model", xaddr=f"http://{net}.{i}:8000/onvif/device_service")
        for i in (1, 2, 3)
    ]  # fmt: skip
    hidden = WsdResponder(f"{net}.4", port, discoverable=False)
    with cams[0], cams[1], cams[2], hidden:
        prober = await probe(net, port)
    found = prober.result.matches
    assert sorted(m.source for m in found.values()) == [f"{net}.{i}" for i in (1, 2, 3)]
    assert {m.endpoint for m in found.values()} == {c.endpoint for c in cams}
    first = found[cams[0].endpoint]
    assert first.scope("name") == "NVT" and first.scope("hardware") == "IPC-model"
    assert first.device_service() == (8000, "/onvif/device_service")
    assert hidden.probes == 2  # probed (NVT and Device) but silent: NonDiscoverable
    assert prober.result.sent == 6 * 2  # every host of the /29, two probes each, no more
    assert prober.result.refused == []


async def test_an_xaddr_naming_another_host_is_not_believed(net: str) -> None:
    port = random.randint(20000, 40000)
    with WsdResponder(f"{net}.1", port, xaddr="http://10.9.9.9:8080/onvif/device_service"):
        prober = await probe(net, port)
    (match,) = prober.result.matches.values()
    assert match.device_service() == (80, "/onvif/device_service")


HOSTILE = {
    "entity bomb": (
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;">]><env:Envelope xmlns:env="http://www.w3.org/2003/05/'
            b'soap-envelope"><env:Body>&lol2;</env:Body></env:Envelope>'
        ),
        "DTD",
    ),
    "huge": (probe_matches("{mid}", "urn:uuid:x", "", "x" * (MAX_REPLY + 10)), "larger than"),
    "garbage": (b"\x00\xffnot xml at all<<<", "not well-formed"),
    "not soap": (b"<a><b/></a>", "not a SOAP envelope"),
    "deep": (
        b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope">'
        + b"<x>" * 100
        + b"</x>" * 100
        + b"</env:Envelope>",
        "deeper than",
    ),
    "unsolicited": (probe_matches("urn:uuid:not-ours", "urn:uuid:x", "", ""), "RelatesTo"),
    "many scopes": (
        probe_matches("{mid}", "urn:uuid:x", "", " ".join(f"s{i}" for i in range(100))),
        "Scopes",
    ),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_hostile_replies_are_refused_with_a_reason(net: str, kind: str) -> None:
    raw, words = HOSTILE[kind]
    port = random.randint(20000, 40000)
    with WsdResponder(f"{net}.1", port, raw=raw):
        prober = await probe(net, port)
    assert prober.result.matches == {}
    assert prober.result.refused_count == 2
    assert all(r.startswith(f"{net}.1: ") and words in r for r in prober.result.refused)


async def test_sweep_finds_a_non_discoverable_camera_and_identity_follows() -> None:
    host = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}.3"
    info = DeviceInfo(
        "Hikvision", "DS-2CD2347G2", "V5.7.3", "DS2347-77001", "88", "C0-56-E3-AA-00-01"
    )
    client = OnvifClient()
    try:
        with OnvifPeer(host=host, info=info, username="admin", password="right-1") as cam:
            net = host.rsplit(".", 1)[0]
            s = scope(net)
            found = await donvif.sweep(
                client, s, Pacer(5000.0), s.hosts(), now, ports=[cam.port, 1], seconds=1.0
            )
            assert found == [donvif.Endpoint(host, cam.port)]
            logins = [("admin", SecretStr("wrong")), ("admin", SecretStr("right-1"))]
            facts = await donvif.identify(client, s, found[0], logins, now)
            rejected = cam.auth_failures
    finally:
        await client.close()
    assert facts.error is None
    assert (facts.vendor, facts.model, facts.serial, facts.firmware) == (
        "Hikvision", "DS-2CD2347G2", "DS2347-77001", "V5.7.3",
    )  # fmt: skip
    assert facts.mac == "c0:56:e3:aa:00:01"
    assert rejected >= 1  # the wrong login was tried first and refused


async def test_no_login_goes_outside_the_ranges() -> None:
    client = OnvifClient()
    try:
        s = Scope(networks(["127.200.1.0/30"]))
        e = donvif.Endpoint("127.200.2.1", 80)
        facts = await donvif.identify(client, s, e, [("admin", SecretStr("x"))], now)
    finally:
        await client.close()
    assert facts.error is not None and "outside" in facts.error


@pytest.fixture
def lab() -> Iterator[netlab.NetLab]:
    why = netlab.available()
    if why:
        pytest.skip(why)
    with netlab.NetLab(hosts=1) as built:
        yield built


@pytest.mark.root
def test_multicast_probe_in_a_namespace_finds_the_camera(lab: netlab.NetLab) -> None:
    cam = lab.host_addresses[0]
    xaddr = f"http://{cam}/onvif/device_service"
    responder = subprocess.Popen(
        ["ip", "netns", "exec", lab.host_ns, sys.executable, "-m", "tests.peers.wsd",
         "0.0.0.0", "3702", cam, xaddr],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=netlab.REPO,
    )  # fmt: skip
    try:
        assert responder.stdout is not None and responder.stdout.readline().strip() == "ready"
        out = lab.python(
            "import asyncio\n"
            "from monitord.discovery.scope import Pacer, Scope, networks\n"
            "from monitord.discovery.wsd import WsdProber\n"
            "p = WsdProber(Scope(networks(['192.0.2.0/24'])), Pacer(1000.0), listen=1.0,"
            " unicast=False)\n"
            "r = asyncio.run(p.run())\n"
            "print(r.interfaces, r.sent, sorted((m.source, m.endpoint) for m in r.matches.values()))\n"
        )
    finally:
        assert responder.stdin is not None
        responder.stdin.close()
        responder.wait(10)
    assert out.strip() == f"['{lab._ifname['client'][1]}'] 2 [('{cam}', 'urn:uuid:netns-cam-1')]"
