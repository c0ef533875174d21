"""A topolab switch tree as four switch families record it for snmpsim, each with its own
shapes (what Netdisco and LibreNMS users hit, ../shared/research/discovery.md):

- Huawei S5735: ifIndex = port + 5 (NULL0, InLoopBack0, ... first), bridge port -> ifIndex
  mapping needed, Q-BRIDGE FDB with every MAC in fdbId 0 (the "VLAN 0" quirk, Netdisco#1108),
  LLDP local port = ifIndex, lldpLocPortId = ifName.
- H3C S5130 (Comware 7): ifIndex = port, Q-BRIDGE per VLAN, LLDP rows under a non-zero
  timemark.
- TP-Link JetStream T2600G: ifIndex = 49152 + port, LLDP local port = the front-panel
  number (not an ifIndex; lldpLocPortId does not name the interface), Q-BRIDGE per VLAN.
- Ruijie S2910: no Q-BRIDGE-MIB; BRIDGE-MIB per VLAN in `community@vlan` contexts (the
  Cisco convention, Netdisco#652), VLAN interfaces named "VLAN 10"; the base community
  holds VLAN 1 only. Non-zero timemark.

Cameras are on VLAN 10 + (their switch % 3); switches and the gateway on VLAN 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monitord.discovery.snmp import SwitchTables
from tests.support import topolab


@dataclass(frozen=True)
class Family:
    name: str
    descr: str
    oid: str
    port_name: Callable[[int], str]
    if_index: Callable[[int], int]
    fdb: str  # "vlan", "zero" (fdbId 0) or "context" (community@vlan)
    lldp_local: str  # "ifindex" or "number"
    timemark: int


FAMILIES = (
    Family("huawei", "Huawei Versatile Routing Platform Software VRP (R) S5735-L48P4X-A1",
           "1.3.6.1.4.1.2011.2.23.596", lambda n: f"GigabitEthernet0/0/{n}",
           lambda n: n + 5, "zero", "ifindex", 0),
    Family("h3c", "H3C Comware Platform Software, Software Version 7.1.070, S5130S-52P-EI",
           "1.3.6.1.4.1.25506.1.1622", lambda n: f"GigabitEthernet1/0/{n}",
           lambda n: n, "vlan", "ifindex", 8151),
    Family("tplink", "JetStream 48-Port Gigabit L2+ Managed Switch with 4 SFP Slots T2600G-52TS",
           "1.3.6.1.4.1.11863.1.1.4", lambda n: f"gigabitEthernet 1/0/{n}",
           lambda n: 49152 + n, "vlan", "number", 0),
    Family("ruijie", "Ruijie Full Layer 2 Managed Switch (S2910-48GT4XS-E) By Ruijie Networks",
           "1.3.6.1.4.1.4881.1.1.10.1.262", lambda n: f"GigabitEthernet 0/{n}",
           lambda n: n, "context", "ifindex", 3120),
)  # fmt: skip
CAMERA_VLANS = (10, 11, 12)


def family(switch: int) -> Family:
    return FAMILIES[switch % len(FAMILIES)]


def vlan_of(lab: topolab.Lab, mac: str) -> int:
    home = lab.cameras.get(mac)
    return CAMERA_VLANS[home[0] % 3] if home else 1


def _mac_index(mac: str) -> str:
    return ".".join(str(int(b, 16)) for b in mac.split(":"))


def records(lab: topolab.Lab, t: SwitchTables, s: int, engine: str) -> dict[str, str]:
    """community -> .snmprec text (one, or one per VLAN context for `context` agents)."""
    f = family(s)
    files: dict[str, list[tuple[tuple[int, ...], str]]] = {t.sys_name: []}

    def add(oid: str, kind: str, value: str, community: str = t.sys_name) -> None:
        key = tuple(int(x) for x in oid.split("."))
        files.setdefault(community, []).append((key, f"{oid}|{kind}|{value}"))

    add("1.3.6.1.2.1.1.1.0", "4", f"{f.descr} {t.sys_name}")
    add("1.3.6.1.2.1.1.2.0", "6", f.oid)
    add("1.3.6.1.2.1.1.3.0", "67", "123456")
    add("1.3.6.1.2.1.1.5.0", "4", t.sys_name)
    add("1.3.6.1.6.3.10.2.1.1.0", "4x", engine)
    add("1.0.8802.1.1.2.1.3.2.0", "4x", t.chassis.replace(":", ""))
    if f.name == "huawei":
        for i, name in enumerate(("NULL0", "InLoopBack0", "Vlanif1", "MEth0/0/1", "Console9/0/0")):
            add(f"1.3.6.1.2.1.31.1.1.1.1.{i + 1}", "4", name)
    if f.fdb == "context":
        for v in (1, *CAMERA_VLANS):
            add(f"1.3.6.1.2.1.31.1.1.1.1.{4096 + v}", "4", f"VLAN {v}")
    for n in t.ports:
        add(f"1.3.6.1.2.1.31.1.1.1.1.{f.if_index(n)}", "4", f.port_name(n))
        local = f.if_index(n) if f.lldp_local == "ifindex" else n
        if f.lldp_local == "ifindex":
            add(f"1.0.8802.1.1.2.1.3.7.1.3.{local}", "4", f.port_name(n))
        else:
            add(f"1.0.8802.1.1.2.1.3.7.1.3.{local}", "4", f"Port {n}")
        if f.fdb != "context":
            add(f"1.3.6.1.2.1.17.1.4.1.2.{n}", "2", str(f.if_index(n)))
    for mac, seen in t.fdb.items():
        vlan = vlan_of(lab, mac)
        for port, _ in seen:
            if f.fdb == "context":
                community = t.sys_name if vlan == 1 else f"{t.sys_name}@{vlan}"
                add(f"1.3.6.1.2.1.17.4.3.1.2.{_mac_index(mac)}", "2", str(port), community)
                add(f"1.3.6.1.2.1.17.1.4.1.2.{port}", "2", str(f.if_index(port)), community)
            else:
                fdb_id = 0 if f.fdb == "zero" else vlan
                add(f"1.3.6.1.2.1.17.7.1.2.2.1.2.{fdb_id}.{_mac_index(mac)}", "2", str(port))
    for mac, ips in t.arp.items():
        for ip in ips:
            add(f"1.3.6.1.2.1.4.22.1.2.{f.if_index(topolab.GATEWAY_PORT)}.{ip}", "4x",
                mac.replace(":", ""))  # fmt: skip
    for i, nb in enumerate(t.lldp, 1):
        local = f.if_index(nb.port) if f.lldp_local == "ifindex" else nb.port
        index = f"{f.timemark}.{local}.{i}"
        add(f"1.0.8802.1.1.2.1.4.1.1.4.{index}", "2", "4")
        add(f"1.0.8802.1.1.2.1.4.1.1.5.{index}", "4x", nb.chassis.replace(":", ""))
        add(f"1.0.8802.1.1.2.1.4.1.1.7.{index}", "4", nb.port_id)
        add(f"1.0.8802.1.1.2.1.4.1.1.9.{index}", "4", nb.name)
        add(f"1.0.8802.1.1.2.1.4.1.1.12.{index}", "4x", "2800")
    for port, power in t.poe.items():
        add(f"1.3.6.1.2.1.105.1.1.1.6.1.{port}", "2", "3")
        add(f"1.3.6.1.2.1.105.1.1.1.10.1.{port}", "2", str(power + 1))
    out = {}
    for community, rows in files.items():
        unique = dict(sorted(rows))  # one row per OID (a port learned twice is one row)
        out[community] = "\n".join(unique.values()) + "\n"
    return out


def write(lab: topolab.Lab, directory: Path, tables: list[SwitchTables]) -> dict[str, str]:
    """The .snmprec files (community = file name); engine ids by switch name."""
    directory.mkdir(parents=True, exist_ok=True)
    engines = {}
    for t in tables:
        s = int(t.sys_name[2:])
        engine = f"800007db03{t.chassis.replace(':', '')}{s:04x}"
        for community, text in records(lab, t, s, engine).items():
            (directory / f"{community}.snmprec").write_text(text, encoding="utf-8")
        engines[t.sys_name] = engine
    return engines
