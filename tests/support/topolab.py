"""Generated switch trees with their true cameras' positions, as the switches would report
them: `SwitchTables` for pure tests, .snmprec files (snmpsim) for the SNMP sweep.

Each switch's forwarding table is what it learns from real traffic: a MAC on the port
toward it. With `flood`, broadcasts (ARP) make every switch learn every MAC; without, a
switch learns only what passes it on the way to the poller at the root.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from monitord.discovery.snmp import Neighbour, SwitchTables

UPLINK, GATEWAY_PORT = 1, 48
GATEWAY_MAC = "02:99:00:00:00:01"


@dataclass
class Lab:
    parent: dict[int, int | None]  # switch -> parent switch
    down: dict[int, dict[int, int]] = field(default_factory=dict)  # switch -> child -> port
    cameras: dict[str, tuple[int, int]] = field(default_factory=dict)  # MAC -> (switch, port)
    hidden: set[tuple[int, int]] = field(default_factory=set)  # (switch, port) unmanaged
    lldp: set[int] = field(default_factory=set)  # switches whose uplink speaks LLDP
    addresses: dict[str, str] = field(default_factory=dict)  # camera MAC -> IPv4

    @staticmethod
    def chassis(s: int) -> str:
        return f"02:00:00:00:{s // 256:02x}:{s % 256:02x}"

    def path_up(self, s: int) -> list[int]:
        out = [s]
        while (p := self.parent[out[-1]]) is not None:
            out.append(p)
        return out

    def port_toward(self, s: int, home: int, port: int | None) -> int:
        """The port of switch s on the way to a MAC on switch `home` (port `port`)."""
        if home == s:
            return GATEWAY_PORT if port is None else port
        path = self.path_up(home)
        if s in path:
            return self.down[s][path[path.index(s) - 1]]
        return UPLINK if self.parent[s] is not None else GATEWAY_PORT

    def tables(self, flood: bool) -> list[SwitchTables]:
        root = next(s for s, p in self.parent.items() if p is None)
        located: dict[str, tuple[int, int | None]] = {GATEWAY_MAC: (root, None)}
        located.update({self.chassis(s): (s, None) for s in self.parent})
        located.update(self.cameras)
        out = []
        for s in sorted(self.parent):
            t = SwitchTables(f"10.0.{s // 256}.{s % 256}", sys_name=f"sw{s}")
            t.chassis = self.chassis(s)
            for mac, (home, port) in located.items():
                if mac == t.chassis:
                    continue
                on_path = s in self.path_up(home) or mac == GATEWAY_MAC
                if flood or on_path:
                    t.fdb.setdefault(mac, set()).add((self.port_toward(s, home, port), 1))
            t.ports = {p: f"GigabitEthernet0/0/{p}" for p in range(1, 49)}
            if s in self.lldp and self.parent[s] is not None:
                p = self.parent[s]
                assert p is not None
                t.lldp.append(
                    Neighbour(UPLINK, self.chassis(p), f"Gi0/0/{self.down[p][s]}", f"sw{p}", True)
                )
            for child, port in self.down.get(s, {}).items():
                if child in self.lldp:
                    t.lldp.append(
                        Neighbour(port, self.chassis(child), "Gi0/0/1", f"sw{child}", True)
                    )
            t.poe = {port: 3 for home, port in set(self.cameras.values()) if home == s}
            if self.parent[s] is None:
                t.arp = {m: {a} for m, a in self.addresses.items()}
            out.append(t)
        return out


def build(
    rng: random.Random, switches: int, cameras_per: int, hidden_share: float, lldp_share: float
) -> Lab:
    lab = Lab(parent={0: None})
    free = {0: list(range(2, GATEWAY_PORT))}
    for s in range(1, switches):
        p = rng.choice([x for x in free if len(free[x]) > cameras_per + 2])
        lab.parent[s] = p
        lab.down.setdefault(p, {})[s] = free[p].pop(0)
        free[s] = list(range(2, GATEWAY_PORT))
        if rng.random() < lldp_share:
            lab.lldp.add(s)
    n = 0
    for s in sorted(lab.parent):
        for _ in range(rng.randint(1, cameras_per)):
            port = free[s].pop(0)
            group = rng.randint(2, 4) if rng.random() < hidden_share else 1
            if group > 1:
                lab.hidden.add((s, port))
            for _ in range(group):
                n += 1
                mac = f"02:10:00:{n // 65536:02x}:{n // 256 % 256:02x}:{n % 256:02x}"
                lab.cameras[mac] = (s, port)
                lab.addresses[mac] = f"10.1.{n // 256}.{n % 256}"
    return lab


def snmprec(t: SwitchTables, engine: str) -> str:
    """The switch as snmpsim records it (sorted by OID, as snmpsim needs)."""
    rows: list[tuple[tuple[int, ...], str]] = []

    def add(oid: str, kind: str, value: str) -> None:
        rows.append((tuple(int(x) for x in oid.split(".")), f"{oid}|{kind}|{value}"))

    add("1.3.6.1.2.1.1.1.0", "4", f"Huawei Versatile Routing Platform S5735-L48P4X {t.sys_name}")
    add("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.2011.2.23.596")
    add("1.3.6.1.2.1.1.3.0", "67", "123456")
    add("1.3.6.1.2.1.1.5.0", "4", t.sys_name)
    add("1.3.6.1.6.3.10.2.1.1.0", "4x", engine)
    add("1.0.8802.1.1.2.1.3.2.0", "4x", t.chassis.replace(":", ""))
    for port, name in t.ports.items():
        add(f"1.3.6.1.2.1.31.1.1.1.1.{port}", "4", name)
        add(f"1.3.6.1.2.1.17.1.4.1.2.{port}", "2", str(port))  # bridge port = ifIndex
    for mac, seen in t.fdb.items():
        index = ".".join(str(int(b, 16)) for b in mac.split(":"))
        for port, vlan in seen:
            add(f"1.3.6.1.2.1.17.7.1.2.2.1.2.{vlan}.{index}", "2", str(port))
    for mac, ips in t.arp.items():
        for ip in ips:
            add(f"1.3.6.1.2.1.4.22.1.2.{GATEWAY_PORT}.{ip}", "4x", mac.replace(":", ""))
    for i, n in enumerate(t.lldp, 1):
        index = f"0.{n.port}.{i}"
        add(f"1.0.8802.1.1.2.1.4.1.1.4.{index}", "2", "4")
        add(f"1.0.8802.1.1.2.1.4.1.1.5.{index}", "4x", n.chassis.replace(":", ""))
        add(f"1.0.8802.1.1.2.1.4.1.1.7.{index}", "4", n.port_id)
        add(f"1.0.8802.1.1.2.1.4.1.1.9.{index}", "4", n.name)
        add(f"1.0.8802.1.1.2.1.4.1.1.12.{index}", "4x", "2800")  # bridge + router
    for port, power in t.poe.items():
        add(f"1.3.6.1.2.1.105.1.1.1.6.1.{port}", "2", "3")  # deliveringPower
        add(f"1.3.6.1.2.1.105.1.1.1.10.1.{port}", "2", str(power + 1))
    return "\n".join(line for _, line in sorted(rows)) + "\n"


def write(directory: Path, tables: list[SwitchTables]) -> dict[str, str]:
    """One .snmprec per switch (its community is its name); engine ids by community."""
    directory.mkdir(parents=True, exist_ok=True)
    engines = {}
    for i, t in enumerate(tables):
        engine = f"800007db03{t.chassis.replace(':', '')}{i:02x}"
        (directory / f"{t.sys_name}.snmprec").write_text(snmprec(t, engine), encoding="utf-8")
        engines[t.sys_name] = engine
    return engines
