"""The SNMP sweep: which addresses answer one of the site's credentials, and what a switch
or router knows of its neighbourhood (LLDP, forwarding tables, ARP, port names).

Walks go through the existing client (bounded rows, no loops, secrets never in errors).
MAC addresses are read from indexes (BRIDGE-MIB, Q-BRIDGE-MIB) or as hex octets (ARP,
LLDP chassis ids), never through a text decoding that would mangle them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final

from pydantic import SecretStr

from monitord.checks.snmp.client import Credentials, SnmpClient, SnmpError, SnmpValue, Target
from monitord.checks.snmp.oids import SYS_DESCR, SYS_NAME, SYS_OBJECT_ID
from monitord.discovery.scope import Pacer, Scope

ENGINE_ID: Final = "1.3.6.1.6.3.10.2.1.1.0"  # snmpEngineID.0 (SNMP-FRAMEWORK-MIB)
IF_NAME: Final = "1.3.6.1.2.1.31.1.1.1.1"  # ifName (IF-MIB ifXTable)
IF_DESCR: Final = "1.3.6.1.2.1.2.2.1.2"  # ifDescr, where ifXTable is missing
BASE_PORT_IFINDEX: Final = "1.3.6.1.2.1.17.1.4.1.2"  # dot1dBasePortIfIndex
FDB_PORT: Final = "1.3.6.1.2.1.17.4.3.1.2"  # dot1dTpFdbPort.<mac>
QFDB_PORT: Final = "1.3.6.1.2.1.17.7.1.2.2.1.2"  # dot1qTpFdbPort.<fdbId>.<mac>
ARP_MAC: Final = "1.3.6.1.2.1.4.22.1.2"  # ipNetToMediaPhysAddress.<ifIndex>.<ipv4>
LLDP_REM: Final = "1.0.8802.1.1.2.1.4.1.1"  # lldpRemTable
LLDP_CHASSIS_SUBTYPE, LLDP_CHASSIS = f"{LLDP_REM}.4", f"{LLDP_REM}.5"
LLDP_PORT_ID, LLDP_SYS_NAME, LLDP_CAPS = f"{LLDP_REM}.7", f"{LLDP_REM}.9", f"{LLDP_REM}.12"
LLDP_LOC_CHASSIS: Final = "1.0.8802.1.1.2.1.3.2.0"  # lldpLocChassisId.0
LLDP_LOC_PORT_ID: Final = "1.0.8802.1.1.2.1.3.7.1.3"  # lldpLocPortId.<lldpPortNumber>
VTP_VLAN_STATE: Final = "1.3.6.1.4.1.9.9.46.1.3.1.1.2.1"  # vtpVlanState.1.<vlan> (Cisco)
WALKERS: Final = 2  # agents whose tables are read at once (sweep; bench/discover.py)
MAX_VLAN_CONTEXTS: Final = 64  # community@vlan walks per switch: bounded
_VLAN_IF: Final = re.compile(r"^(?:vlan-?interface|vlanif|vlan)\s*(\d{1,4})$", re.IGNORECASE)
PETH_STATUS: Final = "1.3.6.1.2.1.105.1.1.1.6"  # pethPsePortDetectionStatus.<group>.<port>
PETH_CLASS: Final = "1.3.6.1.2.1.105.1.1.1.10"  # pethPsePortPowerClassifications
_DELIVERING: Final = 3  # deliveringPower(3); disabled(1) searching(2) fault(4) ...
_MAC_SUBTYPE: Final = 4  # lldpRemChassisIdSubtype macAddress(4)
_BRIDGE_BIT: Final = 0x20  # LldpSystemCapabilitiesMap bit 2 "bridge", MSB first


@dataclass(frozen=True, slots=True)
class Neighbour:
    """An LLDP neighbour seen on `port` (ifIndex, or LLDP's local port number)."""

    port: int
    chassis: str  # a MAC (aa:bb:...) for subtype macAddress, else the id as text/hex
    port_id: str
    name: str
    bridge: bool  # it says it is a bridge (a switch)


@dataclass(slots=True)
class SwitchTables:
    """What one SNMP agent told us; `errors` lists the tables it would not give."""

    address: str
    sys_name: str = ""
    sys_descr: str = ""
    sys_object_id: str = ""
    engine_id: str = ""
    chassis: str = ""  # lldpLocChassisId as a MAC, when it is one
    ports: dict[int, str] = field(default_factory=dict)  # ifIndex -> name
    fdb: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # MAC -> {(ifIndex, vlan)}
    arp: dict[str, set[str]] = field(default_factory=dict)  # MAC -> IPv4 addresses
    lldp: list[Neighbour] = field(default_factory=list)
    poe: dict[int, int] = field(default_factory=dict)  # ifIndex -> power class (0-4) delivered
    errors: list[str] = field(default_factory=list)


def mac_from_index(parts: Sequence[str]) -> str:
    if len(parts) != 6 or not all(p.isdigit() and int(p) < 256 for p in parts):
        return ""
    return ":".join(f"{int(p):02x}" for p in parts)


def mac_from_hex(value: SnmpValue | None) -> str:
    text = str(value or "")
    if len(text) != 12:
        return ""
    return ":".join(text[i : i + 2] for i in range(0, 12, 2))


async def _walk(
    client: SnmpClient, t: Target, pacer: Pacer, column: str, out: SwitchTables, hex_: bool
) -> dict[str, SnmpValue]:
    await pacer.wait()
    try:
        rows, cut = await client.walk(t, column, hex_octets=hex_)
    except SnmpError as exc:
        out.errors.append(f"{column}: {exc.what}")
        return {}
    if cut:
        out.errors.append(f"{column}: stopped at the row limit")
    prefix = column + "."
    return {k[len(prefix) :]: v for k, v in rows.items()}


async def read_switch(client: SnmpClient, t: Target, pacer: Pacer, out: SwitchTables) -> None:
    """The neighbourhood tables of an agent that already answered (`out` holds its system)."""
    names = await _walk(client, t, pacer, IF_NAME, out, False)
    names = names or await _walk(client, t, pacer, IF_DESCR, out, False)
    out.ports = {int(k): str(v)[:64] for k, v in names.items() if k.isdigit()}
    base = await _walk(client, t, pacer, BASE_PORT_IFINDEX, out, False)
    to_if = {int(k): int(v) for k, v in base.items() if k.isdigit() and isinstance(v, int)}
    q = await _walk(client, t, pacer, QFDB_PORT, out, False)
    for index, port in q.items():
        vlan, *rest = index.split(".")
        _learn(out, mac_from_index(rest), port, to_if, int(vlan) if vlan.isdigit() else 0)
    if not q:  # no Q-BRIDGE-MIB: the VLAN-unaware table
        for index, port in (await _walk(client, t, pacer, FDB_PORT, out, False)).items():
            _learn(out, mac_from_index(index.split(".")), port, to_if, 0)
        await _vlan_contexts(client, t, pacer, out)
    for index, value in (await _walk(client, t, pacer, ARP_MAC, out, True)).items():
        parts = index.split(".")
        mac = mac_from_hex(value)
        if mac and len(parts) == 5:
            out.arp.setdefault(mac, set()).add(".".join(parts[1:]))
    await _lldp(client, t, pacer, out, to_if)
    await _poe(client, t, pacer, out, to_if)


async def _poe(
    client: SnmpClient, t: Target, pacer: Pacer, out: SwitchTables, to_if: dict[int, int]
) -> None:
    """Ports delivering PoE (POWER-ETHERNET-MIB, RFC 3621). pethPsePortIndex is a port
    number within its group; the switches we know number it like their bridge ports (the
    front-panel number), so it maps to an ifIndex as dot1dBasePort does."""
    status = await _walk(client, t, pacer, PETH_STATUS, out, False)
    if not status:
        return
    classes = await _walk(client, t, pacer, PETH_CLASS, out, False)
    for index, value in status.items():
        parts = index.split(".")
        if len(parts) != 2 or not parts[1].isdigit() or value != _DELIVERING:
            continue
        port = int(parts[1])
        power = classes.get(index)
        out.poe[to_if.get(port, port)] = power - 1 if isinstance(power, int) and power > 0 else 0


def _learn(out: SwitchTables, mac: str, port: SnmpValue, to_if: dict[int, int], vlan: int) -> None:
    if mac and isinstance(port, int) and port > 0:  # port 0: learned, but not on a port
        out.fdb.setdefault(mac, set()).add((to_if.get(port, port), vlan))


async def _lldp(
    client: SnmpClient, t: Target, pacer: Pacer, out: SwitchTables, to_if: dict[int, int]
) -> None:
    subtype = await _walk(client, t, pacer, LLDP_CHASSIS_SUBTYPE, out, False)
    if not subtype:
        return
    chassis = await _walk(client, t, pacer, LLDP_CHASSIS, out, True)
    port_ids = await _walk(client, t, pacer, LLDP_PORT_ID, out, False)
    names = await _walk(client, t, pacer, LLDP_SYS_NAME, out, False)
    caps = await _walk(client, t, pacer, LLDP_CAPS, out, True)
    local = await _local_ports(client, t, pacer, out, to_if)
    for index, kind in subtype.items():
        parts = index.split(".")  # timeMark.localPortNum.remIndex
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        raw = chassis.get(index)
        ident = mac_from_hex(raw) if kind == _MAC_SUBTYPE else _text_of_hex(raw)
        bits = str(caps.get(index) or "00")
        bridge = bool(int(bits[:2] or "0", 16) & _BRIDGE_BIT)
        port_id, name = str(port_ids.get(index, ""))[:64], str(names.get(index, ""))[:64]
        number = int(parts[1])
        out.lldp.append(Neighbour(local.get(number, number), ident, port_id, name, bridge))


async def _local_ports(
    client: SnmpClient, t: Target, pacer: Pacer, out: SwitchTables, to_if: dict[int, int]
) -> dict[int, int]:
    """lldpPortNumber -> ifIndex. LLDP-MIB numbers its ports on its own: Huawei, H3C and
    Ruijie use the ifIndex, TP-Link the front-panel number. The port's id naming one of our
    interfaces settles it; else the number is read as a bridge port, as BRIDGE-MIB maps it."""
    ids = await _walk(client, t, pacer, LLDP_LOC_PORT_ID, out, False)
    by_name = {name.lower(): index for index, name in out.ports.items()}
    mapped = {}
    for key, value in ids.items():
        if not key.isdigit():
            continue
        number = int(key)
        named = by_name.get(str(value).strip().lower())
        if named is None and number not in out.ports:
            named = to_if.get(number)
        mapped[number] = named if named is not None else number
    return mapped


async def _vlan_contexts(client: SnmpClient, t: Target, pacer: Pacer, out: SwitchTables) -> None:
    """Cisco-style agents without Q-BRIDGE-MIB give the forwarding table of one VLAN per
    community, `community@vlan` (Netdisco#652); each context has its own bridge-port
    mapping. VLANs come from CISCO-VTP-MIB, else from the VLAN interfaces' names."""
    c = t.credentials
    if c.version != "2c" or c.community is None:
        return  # v3 uses contexts, not communities; not seen on these switches
    states = await _walk(client, t, pacer, VTP_VLAN_STATE, out, False)
    vlans = {int(k) for k in states if k.isdigit()}
    vlans |= {int(m[1]) for n in out.ports.values() if (m := _VLAN_IF.match(n.strip()))}
    for vlan in sorted(v for v in vlans if 1 < v < 4095)[:MAX_VLAN_CONTEXTS]:
        login = dataclasses.replace(
            c, community=SecretStr(f"{c.community.get_secret_value()}@{vlan}")
        )
        context = dataclasses.replace(t, credentials=login)
        scratch = SwitchTables(t.host)  # a missing context is no error of the switch's
        fdb = await _walk(client, context, pacer, FDB_PORT, scratch, False)
        if not fdb:
            continue  # no such context (or nothing learned): skip its port map
        base = await _walk(client, context, pacer, BASE_PORT_IFINDEX, scratch, False)
        to_if = {int(k): int(v) for k, v in base.items() if k.isdigit() and isinstance(v, int)}
        for index, port in fdb.items():
            _learn(out, mac_from_index(index.split(".")), port, to_if, vlan)


def _text_of_hex(value: SnmpValue | None) -> str:
    try:
        return bytes.fromhex(str(value or "")).decode("utf-8", "replace")[:64]
    except ValueError:
        return ""


async def find_agent(
    client: SnmpClient, address: str, logins: Sequence[Credentials], pacer: Pacer,
    *, port: int = 161, seconds: float = 1.0, retries: int = 0,
) -> tuple[Target, SwitchTables] | None:  # fmt: skip
    """One GET of the system group per login until the agent at `address` answers: its
    target (the login it took) and its system; None if none does."""
    for login in logins:
        t = Target(address, port, login, seconds, retries)
        await pacer.wait()
        try:
            system = await client.get(t, (SYS_NAME, SYS_DESCR, SYS_OBJECT_ID))
        except SnmpError:
            continue
        out = SwitchTables(address)
        out.sys_name = str(system.get(SYS_NAME, ""))[:128]
        out.sys_descr = str(system.get(SYS_DESCR, ""))[:256]
        out.sys_object_id = str(system.get(SYS_OBJECT_ID, ""))[:128]
        return t, out
    return None


async def read_tables(client: SnmpClient, t: Target, pacer: Pacer, out: SwitchTables) -> None:
    """Everything past the system group of an agent `find_agent` found: its ids, then its
    neighbourhood tables."""
    try:
        ids = await client.get(t, (ENGINE_ID, LLDP_LOC_CHASSIS), hex_octets=True)
    except SnmpError:
        ids = {}
    out.engine_id = str(ids.get(ENGINE_ID, ""))[:64]
    out.chassis = mac_from_hex(ids.get(LLDP_LOC_CHASSIS))
    await read_switch(client, t, pacer, out)


async def read_agent(
    client: SnmpClient, address: str, logins: Sequence[Credentials], pacer: Pacer,
    *, port: int = 161, seconds: float = 1.0, retries: int = 0,
) -> SwitchTables | None:  # fmt: skip
    """The agent at `address` with the first login it answers, and all its tables."""
    got = await find_agent(client, address, logins, pacer, port=port, seconds=seconds,
                           retries=retries)  # fmt: skip
    if got is None:
        return None
    await read_tables(client, got[0], pacer, got[1])
    return got[1]


async def sweep(
    client: SnmpClient, scope: Scope, addresses: Iterable[str], logins: Sequence[Credentials],
    pacer: Pacer, *, port: int = 161, concurrency: int = 64, walkers: int = WALKERS,
    walked: Callable[[], None] = lambda: None,
) -> list[SwitchTables]:  # fmt: skip
    """Every agent among `addresses` (inside the scope only) with its tables; `walked()`
    is called as each agent's tables are read (a progress display counts them).

    Two phases. First the agents are found: one GET per address and login. Most addresses
    of a camera VLAN answer no SNMP and each costs its whole timeout, so `concurrency` sets
    how many such waits overlap (64: a /22 in ~16 s, not ~63 s at 16). Then their tables
    are read, `walkers` agents at a time, each from its first request to its last. Walked
    as soon as found, every agent shared this loop's time with the others and with the
    finding, and each switch's ~60 requests spread over the whole sweep (a 48-port switch's
    tables 7-16 s first to last in bench/discover.py, its forwarding table changing under
    the reading meanwhile). What is sent stays under the global pacer and the per-switch
    buckets either way."""
    gate = asyncio.Semaphore(concurrency)

    async def find(address: str) -> tuple[Target, SwitchTables] | None:
        async with gate:
            return await find_agent(client, address, logins, pacer, port=port)

    wanted = [a for a in addresses if scope.allows(a)]
    agents = deque(got for got in await asyncio.gather(*(find(a) for a in wanted)) if got)
    out: list[SwitchTables] = []

    async def walker() -> None:
        while agents:
            t, tables = agents.popleft()
            await read_tables(client, t, pacer, tables)
            out.append(tables)
            walked()

    async with asyncio.TaskGroup() as tasks:
        for _ in range(max(1, walkers)):
            tasks.create_task(walker())
    order = {a: i for i, a in enumerate(wanted)}
    return sorted(out, key=lambda t: order[t.address])  # in address order, as before
