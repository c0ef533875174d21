"""Topology inference on generated switch trees: every camera lands on its true access
switch and port, never on an uplink; shared edge ports reveal unmanaged switches."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from monitord.discovery.snmp import SwitchTables
from monitord.discovery.topology import infer, switch_key
from tests.support import topolab


def keys(tables: list[SwitchTables]) -> dict[int, str]:
    return {int(t.sys_name[2:]): switch_key(t) for t in tables}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    switches=st.integers(1, 12),
    cameras_per=st.integers(1, 8),
    hidden=st.floats(0, 0.5),
    lldp=st.floats(0, 1),
    flood=st.booleans(),
)
def test_every_camera_is_placed_on_its_true_access_port(
    seed: int, switches: int, cameras_per: int, hidden: float, lldp: float, flood: bool
) -> None:
    lab = topolab.build(random.Random(seed), switches, cameras_per, hidden, lldp)
    tables = lab.tables(flood)
    key = keys(tables)
    topo = infer(tables, end_macs=lab.cameras, gateway=topolab.GATEWAY_MAC)
    assert set(topo.placements) == set(lab.cameras)
    for mac, (switch, port) in lab.cameras.items():
        got = topo.placements[mac]
        assert (got.switch, got.port) == (key[switch], port), mac
        assert got.port not in topo.uplinks[got.switch]
        assert (got.hidden_switch is not None) == ((switch, port) in lab.hidden)
    lldp_children = {s for s in lab.lldp if lab.parent[s] is not None}
    for s in lldp_children:
        if all(x in lab.lldp for x in lab.path_up(s)[:-1]):  # an unbroken LLDP chain up
            assert topo.switch_parents[key[s]] == key[lab.parent[s]]  # type: ignore[index]


def test_identity_is_the_mac_not_the_address() -> None:
    lab = topolab.build(random.Random(7), 3, 4, 0.0, 1.0)
    before = infer(lab.tables(True), end_macs=lab.cameras)
    lab.addresses = {m: a.replace("10.1.", "10.2.") for m, a in lab.addresses.items()}
    after = infer(lab.tables(True), end_macs=lab.cameras)
    assert before.placements == after.placements  # renumbered, same devices, same places


def test_a_moved_camera_is_placed_at_its_new_port() -> None:
    lab = topolab.build(random.Random(3), 2, 3, 0.0, 1.0)
    mac = next(iter(lab.cameras))
    lab.cameras[mac] = (1, 40)
    topo = infer(lab.tables(False), end_macs=lab.cameras)
    assert topo.placements[mac].port == 40
    assert topo.placements[mac].switch == keys(lab.tables(False))[1]
