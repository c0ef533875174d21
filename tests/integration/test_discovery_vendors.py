"""The SNMP sweep against snmpsim serving Huawei, H3C, TP-Link and Ruijie shapes of one
generated tree of >= 200 cameras (tests/support/vendorlab.py): the right switch and port for
>= 95 % of cameras, none on an uplink, the hidden unmanaged switches inferred."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from monitord.checks.snmp.client import Credentials, SnmpClient
from monitord.discovery import snmp as dsnmp
from monitord.discovery.scope import Pacer
from monitord.discovery.topology import infer
from tests.peers.snmp import Snmpsim, snmpsim_missing
from tests.support import topolab, vendorlab

Lab = tuple[topolab.Lab, Snmpsim, dict[str, str]]


@pytest.fixture(scope="module")
def vendor_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    why = snmpsim_missing()
    if why:
        pytest.skip(why)
    lab = topolab.build(random.Random(17), 28, 14, 0.1, 0.7)
    base = tmp_path_factory.mktemp("vendorlab")
    engines = vendorlab.write(lab, base / "data", lab.tables(flood=True))
    with Snmpsim(base, data=base / "data", probe="sw0") as sim:
        yield lab, sim, engines


async def read_all(lab: topolab.Lab, sim: Snmpsim) -> list[dsnmp.SwitchTables]:
    client = SnmpClient(max_walk_rows=5000)
    try:
        out = []
        for s in sorted(lab.parent):
            login = Credentials("2c", community=SecretStr(f"sw{s}"))
            got = await dsnmp.read_agent(
                client, "127.0.0.1", [login], Pacer(5000.0), port=sim.port, seconds=0.5
            )
            assert got is not None and got.errors == [], (s, got and got.errors)
            out.append(got)
        return out
    finally:
        client.close()


async def test_four_vendor_families_place_cameras_on_their_true_ports(vendor_sim: Lab) -> None:
    lab, sim, engines = vendor_sim
    families = {vendorlab.family(s).name for s in lab.parent}
    assert families == {"huawei", "h3c", "tplink", "ruijie"}
    assert len(lab.cameras) >= 200 and lab.hidden
    tables = await read_all(lab, sim)
    truth = lab.tables(flood=True)
    for got, want in zip(tables, truth, strict=True):  # LLDP's local port is an ifIndex
        f = vendorlab.family(int(want.sys_name[2:]))
        mapped = sorted((f.if_index(n.port), n.chassis) for n in want.lldp)
        assert sorted((n.port, n.chassis) for n in got.lldp) == mapped, f.name
    topo = infer(tables, end_macs=lab.cameras, gateway=topolab.GATEWAY_MAC)
    uplinks = {(s, topolab.UPLINK) for s in lab.parent} | {
        (p, port) for p, kids in lab.down.items() for port in kids.values()
    }
    right, on_uplink = 0, 0
    for mac, (s, port) in lab.cameras.items():
        f = vendorlab.family(s)
        placed = topo.placements.get(mac)
        if placed is None:
            continue
        want = (engines[f"sw{s}"], f.if_index(port))
        if (placed.switch, placed.port) == want and placed.port_name == f.port_name(port):
            right += 1
        by_engine = {v: int(k[2:]) for k, v in engines.items()}
        home = by_engine[placed.switch]
        if any(placed.port == vendorlab.family(home).if_index(p) for h, p in uplinks if h == home):
            on_uplink += 1
    assert right / len(lab.cameras) >= 0.95, (right, len(lab.cameras))
    assert on_uplink == 0
    want_hubs = {(engines[f"sw{s}"], vendorlab.family(s).if_index(p)) for s, p in lab.hidden}
    assert set(topo.hubs()) == want_hubs
    # Every family's quirk was exercised: VLAN 0 (Huawei), contexts (Ruijie), PoE everywhere.
    vlans = {v for t in tables for seen in t.fdb.values() for _, v in seen}
    assert {0, 1, *vendorlab.CAMERA_VLANS} <= vlans
    assert all(
        t.poe for t in tables if any(h == int(t.sys_name[2:]) for h, _ in lab.cameras.values())
    )
