"""Hikvision SADP against our responder on loopback (no real peer exists): activated and
not-yet-activated devices found by MAC, hostile replies refused with a reason."""

from __future__ import annotations

import random

import pytest

from monitord.discovery.sadp import MAX_REPLY, SadpProber
from monitord.discovery.scope import Pacer, Scope, networks
from tests.peers.sadp import SadpResponder, probe_match


@pytest.fixture
def net() -> str:
    return f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"


async def probe(net: str, port: int) -> SadpProber:
    prober = SadpProber(
        Scope(networks([f"{net}.0/29"])), Pacer(5000.0), port=port, listen=0.5, multicast=False
    )
    await prober.run()
    return prober


async def test_sadp_finds_activated_and_unactivated_devices_by_mac(net: str) -> None:
    port = random.randint(20000, 40000)
    live = SadpResponder(f"{net}.1", port, mac="c0:56:e3:00:00:01", serial="SN-1")
    fresh = SadpResponder(f"{net}.2", port, mac="c0:56:e3:00:00:02", activated=False)
    with live, fresh:
        prober = await probe(net, port)
    found = prober.result.devices
    assert sorted(found) == ["c0:56:e3:00:00:01", "c0:56:e3:00:00:02"]
    one, two = found["c0:56:e3:00:00:01"], found["c0:56:e3:00:00:02"]
    assert (one.source, one.serial, one.model, one.activated) == (
        f"{net}.1", "SN-1", "DS-2CD2347G2-LU", True,
    )  # fmt: skip
    assert one.firmware.startswith("V5.7.3") and one.reported_address == f"{net}.1"
    assert two.activated is False
    assert prober.result.sent == 6 and live.probes == 1  # one inquiry per host of the /29
    assert prober.result.refused == []


def _match(probe_id: str, **kw: object) -> bytes:
    args: dict[str, object] = {
        "mac": "c0:56:e3:00:00:09", "address": "x", "serial": "s", "model": "m",
    }  # fmt: skip
    args.update(kw)
    return probe_match(probe_id, **args)  # type: ignore[arg-type]


HOSTILE = {
    "entity bomb": (
        b'<?xml version="1.0"?><!DOCTYPE z [<!ENTITY a "aaaa">]><ProbeMatch>&a;</ProbeMatch>',
        "DTD",
    ),
    "huge": (_match("{uuid}", model="m" * (MAX_REPLY + 10)), "larger than"),
    "garbage": (b"\x00\xffnot xml<<<", "not well-formed"),
    "not sadp": (b"<Probe><Uuid>{uuid}</Uuid></Probe>", "not a SADP ProbeMatch"),
    "deep": (b"<ProbeMatch>" + b"<x>" * 100 + b"</x>" * 100 + b"</ProbeMatch>", "deeper than"),
    "unsolicited": (_match("8282F1DB-0000-0000-0000-000000000000"), "Uuid"),
    "no mac": (_match("{uuid}", mac="zz"), "without a MAC"),
    "many fields": (
        b"<ProbeMatch>" + b"".join(b"<F%d>x</F%d>" % (i, i) for i in range(200)) + b"</ProbeMatch>",
        "fields",
    ),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
async def test_hostile_sadp_replies_are_refused_with_a_reason(net: str, kind: str) -> None:
    raw, words = HOSTILE[kind]
    port = random.randint(20000, 40000)
    with SadpResponder(f"{net}.1", port, mac="c0:56:e3:00:00:09", raw=raw):
        prober = await probe(net, port)
    assert prober.result.devices == {}
    assert prober.result.refused_count == 1
    assert all(r.startswith(f"{net}.1: ") and words in r for r in prober.result.refused)
