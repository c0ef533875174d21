"""Where each device hangs off: pure inference from the switches' tables (no I/O).

A MAC is placed on the port of the switch that learned it where (1) the port is no uplink
and (2) the fewest MACs are learned: an access port carries its camera, an uplink carries
everything beyond it. A port is an uplink when it has an LLDP neighbour or learns the MAC
of another switch (or of an NVR or router we were told of) - Netdisco's
`macsuck_no_deviceport`, LibreNMS#15102. An access port carrying several end MACs and no
LLDP neighbour hides an unmanaged switch: its MACs are children of a synthetic parent.
Switches are parented along LLDP links, breadth first from the root (where the gateway
hangs off).

Identity is the MAC (or the switch's engine id/chassis), never the address.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from monitord.discovery.snmp import SwitchTables


def switch_key(s: SwitchTables) -> str:
    """A switch's identity: its SNMP engine id, else its LLDP chassis MAC, else address."""
    return s.engine_id or s.chassis or s.address


@dataclass(frozen=True, slots=True)
class Placement:
    mac: str
    switch: str  # switch_key of the access switch
    port: int  # ifIndex
    port_name: str
    shared: int  # end MACs on that port: > 1 means an unmanaged switch in between
    poe: bool = False  # the port delivers PoE: a powered device hangs right there

    @property
    def hidden_switch(self) -> str | None:
        return f"{self.switch}/port{self.port}" if self.shared > 1 else None

    @property
    def confidence(self) -> float:
        """How sure the placement is: one end MAC alone on an edge port is strong; behind
        an unmanaged switch the camera is known only to be somewhere below that port; PoE
        delivered on the port corroborates a powered camera (or the PoE switch feeding it)."""
        base = 0.8 if self.shared == 1 else 0.6
        return round(base + (0.15 if self.poe else 0.0), 2)


@dataclass(slots=True)
class Topology:
    placements: dict[str, Placement] = field(default_factory=dict)  # by MAC
    uplinks: dict[str, set[int]] = field(default_factory=dict)  # switch -> ports
    switch_parents: dict[str, str] = field(default_factory=dict)  # switch -> its parent
    links: list[tuple[str, int, str]] = field(default_factory=list)  # (switch, port, neighbour)

    def hubs(self) -> dict[tuple[str, int], list[str]]:
        """Hidden unmanaged switches: (switch, edge port) -> the end MACs behind it."""
        out: dict[tuple[str, int], list[str]] = {}
        for p in self.placements.values():
            if p.shared > 1:
                out.setdefault((p.switch, p.port), []).append(p.mac)
        return {k: sorted(v) for k, v in sorted(out.items())}


def infer(
    switches: Sequence[SwitchTables], end_macs: Iterable[str] | None = None,
    infrastructure: Iterable[str] = (), gateway: str | None = None,
) -> Topology:  # fmt: skip
    """Placements of `end_macs` (default: every learned MAC that is no switch's).

    `gateway`: the MAC of the router toward the discovery host; the switch it hangs off is
    the root of the switch tree (else the switch with the most LLDP neighbours)."""
    by_chassis = {s.chassis: switch_key(s) for s in switches if s.chassis}
    infra = set(by_chassis) | set(infrastructure)
    topo = Topology()
    port_macs: dict[tuple[str, int], set[str]] = {}
    for s in switches:
        key = switch_key(s)
        ups = topo.uplinks.setdefault(key, set())
        ups.update(n.port for n in s.lldp)
        for mac, seen in s.fdb.items():
            for port, _vlan in seen:
                port_macs.setdefault((key, port), set()).add(mac)
                if mac in infra and by_chassis.get(mac) != key:
                    ups.add(port)
    wanted = set(end_macs) if end_macs is not None else None
    ends = {m for macs in port_macs.values() for m in macs} - infra
    if wanted is not None:
        ends &= wanted | {gateway}
    names = {switch_key(s): s.ports for s in switches}
    poe_ports = {switch_key(s): set(s.poe) for s in switches}
    best: dict[str, tuple[int, str, int]] = {}
    for (key, port), macs in port_macs.items():
        if port in topo.uplinks[key]:
            continue
        for mac in macs & ends:
            rank = (len(macs), key, port)
            if mac not in best or rank < best[mac]:
                best[mac] = rank
    for mac, (_n, key, port) in best.items():
        shared = len(port_macs[(key, port)] & ends)
        poe = port in poe_ports[key]
        topo.placements[mac] = Placement(mac, key, port, names[key].get(port, ""), shared, poe)
    found = topo.placements.pop(gateway, None) if gateway else None
    _switch_tree(switches, by_chassis, topo, found.switch if found else None)
    return topo


def _switch_tree(
    switches: Sequence[SwitchTables], by_chassis: dict[str, str], topo: Topology,
    root: str | None,
) -> None:  # fmt: skip
    by_name = {s.sys_name: switch_key(s) for s in switches if s.sys_name}
    adjacent: dict[str, set[str]] = {switch_key(s): set() for s in switches}
    for s in switches:
        key = switch_key(s)
        for n in s.lldp:
            other = by_chassis.get(n.chassis) or by_name.get(n.name)
            topo.links.append((key, n.port, other or n.chassis or n.name))
            if other and other != key:
                adjacent[key].add(other)
                adjacent[other].add(key)
    if not adjacent:
        return
    start = root if root in adjacent else max(sorted(adjacent), key=lambda k: len(adjacent[k]))
    queue, seen = deque([start]), {start}
    while queue:
        here = queue.popleft()
        for other in sorted(adjacent[here] - seen):
            seen.add(other)
            topo.switch_parents[other] = here
            queue.append(other)
