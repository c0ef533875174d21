"""Per-switch pacing, measured where it matters: at the switch. A counting relay (its own
process, kernel arrival times) stands in front of snmpsim at three loopback addresses, one
per "switch"; a discovery run may send no more than `switch_rate` requests to any of them in
any second, whatever the sweep's global rate."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from monitord.checks.snmp.client import Credentials, SnmpClient
from monitord.config.discovery import DiscoverySettings
from monitord.discovery import snmp as dsnmp
from monitord.discovery.run import discover
from monitord.discovery.scope import Pacer, Scope, networks
from tests.peers.snmp import Snmpsim, free_udp_port, snmpsim_missing
from tests.peers.udprelay import UdpRelay, max_per_second
from tests.support import topolab

Rig = tuple[Snmpsim, Path]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    why = snmpsim_missing()
    if why:
        pytest.skip(why)
    # Big enough tables (every switch learns ~430 MACs) that one walk takes ~100 requests.
    lab = topolab.build(random.Random(17), 28, 14, 0.1, 0.7)
    base = tmp_path_factory.mktemp("pacing")
    topolab.write(base / "data", lab.tables(flood=True))
    with Snmpsim(base, data=base / "data", probe="sw0") as agent:
        yield agent, base


def relay(tmp_path: Path, agent: Snmpsim) -> tuple[UdpRelay, str, list[str]]:
    net = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"
    switches = [f"{net}.{i}" for i in (1, 2, 3)]
    return UdpRelay(tmp_path, free_udp_port(), agent.port, switches), net, switches


async def test_no_switch_receives_more_than_its_rate_in_any_second(
    sim: Rig, tmp_path: Path
) -> None:
    agent, _ = sim
    r, net, switches = relay(tmp_path, agent)
    os.environ["T_PACE_COMMUNITY"] = "sw0"
    settings = DiscoverySettings.model_validate({
        "ranges": [f"{net}.0/29"], "rate": 2000, "listen": 0.1, "sweep_ports": [1],
        "wsd_port": free_udp_port(), "sadp_port": free_udp_port(),
        "snmp": [{"community": {"env": "T_PACE_COMMUNITY"}, "port": r.port}],
    })  # fmt: skip
    assert settings.switch_rate == 50  # the default is the cap
    with r:
        found = await discover(settings, Scope(networks(settings.ranges)), now)
    arrivals = r.arrivals()
    assert sorted(s.address for s in found.switches) == switches
    assert all(s.fdb for s in found.switches)  # the tables were read, not cut short
    for address in switches:
        assert len(arrivals[address]) > 50, address  # more than a capped second holds
        assert max_per_second(arrivals[address]) <= 50, address


async def test_the_relay_sees_an_unpaced_walk_go_far_faster(sim: Rig, tmp_path: Path) -> None:
    """The reference: without the buckets the same walk floods the switch (so the counting
    above could see a broken cap)."""
    agent, _ = sim
    r, _net, switches = relay(tmp_path, agent)
    client = SnmpClient()
    login = Credentials("2c", community=SecretStr("sw0"))
    try:
        with r:
            got = await dsnmp.read_agent(client, switches[0], [login], Pacer(2000.0), port=r.port)
    finally:
        client.close()
    assert got is not None and got.fdb
    assert max_per_second(r.arrivals()[switches[0]]) > 50


async def test_agents_are_found_first_then_each_switch_is_read_whole_in_turn(
    sim: Rig, tmp_path: Path
) -> None:
    """The sweep's two phases, as the switches see them: every switch's one finding GET
    before any table request, then one switch's tables after another (walkers=1), never
    interleaved - so a switch's first-to-last span is its own walk, not the sweep's."""
    agent, _ = sim
    r, net, switches = relay(tmp_path, agent)
    client = SnmpClient()
    login = Credentials("2c", community=SecretStr("sw0"))
    scope = Scope(networks([f"{net}.0/29"]))
    try:
        with r:
            found = await dsnmp.sweep(client, scope, scope.hosts(), [login], Pacer(2000.0),
                                      port=r.port, walkers=1)  # fmt: skip
    finally:
        client.close()
    assert [s.address for s in found] == switches and all(s.fdb for s in found)
    arrivals = r.arrivals()
    assert max(arrivals[a][0] for a in switches) < min(arrivals[a][1] for a in switches)
    spans = sorted((arrivals[a][1], arrivals[a][-1]) for a in switches)
    assert all(end < nxt for (_, end), (nxt, _) in itertools.pairwise(spans)), spans


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
