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
    assert item.change == "parent_wrong"  # was "parent": the kinds split (issue 17 item 6)
    assert item.detail == (
        f"cam-07 is configured under sw-{wrong:02d} but its MAC is on sw-{s:02d} port "
        f"GigabitEthernet0/0/{port}"
    )


def test_a_parent_the_network_changed_a_wrong_one_and_a_missing_one_are_three_kinds() -> None:
    from monitord.present.evidence import evidence

    lab, found = lab_found(3, 0.0)
    (m1, (s1, p1)), (m2, (s2, p2)), (m3, (s3, p3)) = sorted(lab.cameras.items())[:3]
    other = {m: next(x for x in sorted(lab.parent) if x != s) for m, s in
             ((m1, s1), (m2, s2))}  # fmt: skip

    def cam(ident: str, mac: str, parents: tuple[str, ...]) -> Device:
        return Device(id=ident, name=ident, kind=DeviceKind.CAMERA, site="s1",
                      address=lab.addresses[mac], mac=mac, parents=parents)  # fmt: skip

    moved_from = f"sw-{other[m1]:02d}"
    devices = [*switches(lab), cam("cam-1", m1, (moved_from,)),
               cam("cam-2", m2, (f"sw-{other[m2]:02d}",)), cam("cam-3", m3, ())]  # fmt: skip
    # cam-1's MAC was last read on its configured parent; cam-2's never was.
    last = {
        m1: (moved_from, "GigabitEthernet0/0/9"),
        m2: (f"sw-{s2:02d}", f"GigabitEthernet0/0/{p2}"),
    }
    items = {i.device: i for i in propose(found, "s1", devices, last=last) if "parent" in i.change}
    assert {d: i.change for d, i in items.items()} == {
        "cam-1": "parent", "cam-2": "parent_wrong", "cam-3": "parent_found"}  # fmt: skip
    port1 = f"GigabitEthernet0/0/{p1}"
    assert items["cam-1"].detail == (f"cam-1 was on {moved_from} port GigabitEthernet0/0/9 at "
                                     f"the last table read; its MAC is now on sw-{s1:02d} port {port1}")  # fmt: skip
    assert evidence(items["cam-1"], "zh") == (
        f"上次读取转发表时位于 {moved_from} 端口 GigabitEthernet0/0/9；其 MAC 现在出现在 "
        f"sw-{s1:02d} 端口 {port1}"
    )
    assert evidence(items["cam-2"], "en") == (
        f"configured under sw-{other[m2]:02d}, but its MAC is on sw-{s2:02d} port "
        f"GigabitEthernet0/0/{p2}"
    )
    assert (
        evidence(items["cam-3"], "zh") == f"其 MAC 出现在 sw-{s3:02d} 端口 GigabitEthernet0/0/{p3}"
    )
    assert all(i.record == {"parents": [f"sw-{lab.cameras[d.mac][0]:02d}"]}
               for i in items.values() for d in devices if d.id == i.device)  # fmt: skip
