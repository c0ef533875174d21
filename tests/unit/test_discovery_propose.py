"""The change set from generated switch trees: hidden unmanaged switches become synthetic
parents, PoE corroborates, configured parents the topology disproves are reported."""

from __future__ import annotations

import random

from monitord.config.models import Device, DeviceKind
from monitord.discovery.onvif import Endpoint, OnvifFacts
from monitord.discovery.propose import propose
from monitord.discovery.run import Found
from monitord.discovery.topology import infer
from monitord.discovery.wsd import WsdResult
from tests.support import topolab


def lab_found(seed: int, hidden: float) -> tuple[topolab.Lab, Found]:
    lab = topolab.build(random.Random(seed), 4, 6, hidden, 1.0)
    tables = lab.tables(True)
    cams = [
        OnvifFacts(Endpoint(lab.addresses[m]), "Hikvision", "DS-2CD2347G2", f"SN{m}", "V5.7", m)
        for m in sorted(lab.cameras)
    ]
    topo = infer(tables, end_macs=lab.cameras, gateway=topolab.GATEWAY_MAC)
    return lab, Found(WsdResult(), cameras=cams, switches=tables, topology=topo)


def switches(lab: topolab.Lab) -> list[Device]:
    """The lab's switches as configured, with their true parents."""
    up = {s: (f"sw-{p:02d}",) if p is not None else () for s, p in lab.parent.items()}
    return [
        Device(id=f"sw-{s:02d}", name=f"sw{s}", kind=DeviceKind.SWITCH, site="s1",
               address=f"10.0.0.{s}", mac=lab.chassis(s), parents=up[s])
        for s in sorted(lab.parent)
    ]  # fmt: skip


def test_a_shared_edge_port_yields_one_synthetic_parent_with_those_cameras() -> None:
    lab, found = lab_found(5, 0.5)
    assert lab.hidden, "the seed must hide at least one unmanaged switch"
    items = propose(found, "s1", switches(lab))
    new = {i.device: i for i in items if i.change == "new"}
    hubs = {d for d in new if d.endswith("-hub")}
    assert hubs == {f"sw-{s:02d}-p{p}-hub" for s, p in lab.hidden}
    for mac, (s, p) in lab.cameras.items():
        cam = new[f"cam-{mac.replace(':', '')[-6:]}"]
        want = f"sw-{s:02d}-p{p}-hub" if (s, p) in lab.hidden else f"sw-{s:02d}"
        assert cam.record["parents"] == [want], mac
        assert "note_poe" in cam.notes
    for hub in hubs:
        record = new[hub].record
        assert record["kind"] == "switch" and record["icmp"] == {"enabled": False}
        assert record["parents"] == [hub.split("-p")[0]]
    assert not [i for i in items if i.change != "new"]


def test_poe_on_the_port_raises_the_confidence() -> None:
    lab, found = lab_found(9, 0.0)
    mac = next(iter(sorted(lab.cameras)))
    with_poe = found.topology.placements[mac]
    for t in found.switches:
        t.poe.clear()
    without = infer(found.switches, end_macs=lab.cameras, gateway=topolab.GATEWAY_MAC)
    assert with_poe.poe and not without.placements[mac].poe
    assert with_poe.confidence > without.placements[mac].confidence


def test_a_configured_parent_the_topology_disproves_is_reported() -> None:
    lab, found = lab_found(3, 0.0)
    mac, (s, port) = min(lab.cameras.items())
    wrong = next(x for x in sorted(lab.parent) if x != s)
    cam = Device(id="cam-07", name="gate", kind=DeviceKind.CAMERA, site="s1",
                 address=lab.addresses[mac], mac=mac, parents=(f"sw-{wrong:02d}",))  # fmt: skip
    items = propose(found, "s1", [*switches(lab), cam])
    (item,) = [i for i in items if i.device == "cam-07"]
    assert item.change == "parent"
    assert item.detail == (
        f"cam-07 is configured under sw-{wrong:02d} but its MAC is on sw-{s:02d} port "
        f"GigabitEthernet0/0/{port}"
    )
