"""The SNMP sweep against snmpsim serving generated switch trees (LLDP, Q-BRIDGE FDB, ARP,
ifName as Huawei S5735 switches lay them out), then the topology it implies."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from monitord.checks.snmp.client import Credentials, SnmpClient
from monitord.discovery import snmp as dsnmp
from monitord.discovery.scope import Pacer, Scope, networks
from monitord.discovery.topology import infer
from tests.peers.snmp import Snmpsim, snmpsim_missing
from tests.support import topolab


@pytest.fixture(scope="module")
def lab_sim(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[topolab.Lab, Snmpsim, dict[str, str]]]:
    why = snmpsim_missing()
    if why:
        pytest.skip(why)
    lab = topolab.build(random.Random(11), 5, 10, 0.2, 0.6)
    base = tmp_path_factory.mktemp("topolab")
    engines = topolab.write(base / "data", lab.tables(flood=True))
    with Snmpsim(base, data=base / "data", probe="sw0") as sim:
        yield lab, sim, engines


def login(community: str) -> Credentials:
    return Credentials("2c", community=SecretStr(community))


async def test_switch_tables_read_over_snmp_give_every_camera_its_port(
    lab_sim: tuple[topolab.Lab, Snmpsim, dict[str, str]],
) -> None:
    lab, sim, engines = lab_sim
    client = SnmpClient(max_walk_rows=5000)
    try:
        tables = []
        for s in sorted(lab.parent):
            wrong, right = login("not-it"), login(f"sw{s}")
            got = await dsnmp.read_agent(
                client, "127.0.0.1", [wrong, right], Pacer(2000.0), port=sim.port, seconds=0.3
            )
            assert got is not None and got.errors == [], got and got.errors
            tables.append(got)
    finally:
        client.close()
    assert [t.engine_id for t in tables] == [engines[f"sw{s}"] for s in sorted(lab.parent)]
    assert tables[0].sys_object_id == "1.3.6.1.4.1.2011.2.23.596"
    assert tables[0].ports[3] == "GigabitEthernet0/0/3"
    root = tables[0]
    assert root.arp == {m: {a} for m, a in lab.addresses.items()}  # MACs survive as bytes
    truth = lab.tables(flood=True)
    for got, want in zip(tables, truth, strict=True):
        assert got.fdb == want.fdb and got.chassis == want.chassis
        assert got.poe == want.poe and got.poe  # PoE delivered on every camera port
        assert sorted((n.port, n.chassis, n.name, n.bridge) for n in got.lldp) == sorted(
            (n.port, n.chassis, n.name, n.bridge) for n in want.lldp
        )
    topo = infer(tables, end_macs=lab.cameras, gateway=topolab.GATEWAY_MAC)
    for mac, (switch, port) in lab.cameras.items():
        placed = topo.placements[mac]
        assert (placed.switch, placed.port) == (engines[f"sw{switch}"], port)
        assert placed.port_name == f"GigabitEthernet0/0/{port}"


async def test_the_sweep_asks_only_inside_the_ranges(
    lab_sim: tuple[topolab.Lab, Snmpsim, dict[str, str]],
) -> None:
    _lab, sim, _engines = lab_sim
    client = SnmpClient()
    pacer = Pacer(2000.0)
    try:
        found = await dsnmp.sweep(
            client, Scope(networks(["127.0.0.0/31"])), ["127.0.0.1", "127.0.0.2", "10.1.1.1"],
            [login("sw1")], pacer, port=sim.port,
        )  # fmt: skip
    finally:
        client.close()
    assert [f.sys_name for f in found] == ["sw1"]
    assert found[0].address == "127.0.0.1"
