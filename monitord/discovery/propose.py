"""What a run proposes against the configured devices: the change set.

Kinds: new, address (DHCP renumbered), firmware, moved (port or switch, from the MAC->port
history), parent (parent changed: the network moved a device away from the parent it was
last recorded under, the configured one), parent_wrong (the configured parent is one the
topology never showed: the configuration is wrong, issue 17 item 6), parent_found (no
parent configured, the topology names one), missing (configured, in the ranges, not seen). Devices match by MAC, then serial, never by address alone: a camera
that DHCP renumbered is the same camera at a new address. Switches are proposed from their
SNMP identity (LLDP chassis MAC), and a hidden unmanaged switch (several camera MACs on one
edge port without LLDP) as a synthetic parent `<switch>-p<port>-hub`: it has no address of
its own, so it borrows its upstream switch's with ICMP off - a node for root cause only.
Nothing is changed here; apply.py writes the reviewed result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitord.config.models import Device
from monitord.discovery.run import Found
from monitord.discovery.snmp import SwitchTables
from monitord.discovery.topology import Placement, switch_key

Record = dict[str, object]
Position = tuple[str, str]  # (switch id, port name) as last recorded


@dataclass(frozen=True, slots=True)
class Item:
    change: str  # "new", "address", "firmware", "moved", "parent", "parent_wrong",
    # "parent_found", "missing", "facts"
    device: str  # configured id, or the proposed one
    address: str
    detail: str
    record: Record = field(default_factory=dict)  # new: the whole record; else the update
    notes: tuple[str, ...] = ()  # i18n keys, e.g. "note_not_activated"
    # `detail` for a reader in their language: the console's word `why` and its values
    why: str = ""
    args: Mapping[str, str] = field(default_factory=dict)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:48]


def _fill(record: Record, **facts: object) -> Record:
    for key, value in facts.items():
        if value:
            record[key] = value
    return record


@dataclass(slots=True)
class _Known:
    mine: list[Device]
    by_mac: dict[str, Device] = field(default_factory=dict)
    by_serial: dict[str, Device] = field(default_factory=dict)
    by_address: dict[str, Device] = field(default_factory=dict)
    by_id: dict[str, Device] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for d in self.mine:
            self.by_id[d.id] = d
            self.by_address.setdefault(d.address, d)
            if d.mac:
                self.by_mac[d.mac] = d
            if d.serial:
                self.by_serial[d.serial] = d


def propose(
    found: Found, site: str, devices: Sequence[Device],
    last: Mapping[str, Position] | None = None, in_scope: frozenset[str] | None = None,
    gaps: bool = False,
) -> list[Item]:  # fmt: skip
    """The change set; `last`: each MAC's previous (switch id, port) from the store;
    `in_scope`: configured addresses the run covered (missing is reported only for them);
    `gaps`: also "facts" items, discovered facts a configured record lacks (what --apply
    fills in)."""
    k = _Known([d for d in devices if d.site == site])
    items: list[Item] = []
    seen: set[str] = set()
    switch_ids = _switches(found, site, k, items, seen)
    hubs = _hubs(found, site, k, switch_ids, items, seen)
    for cam in found.cameras:
        placed = found.topology.placements.get(cam.mac)
        parent = _parent_of(placed, switch_ids, hubs)
        if cam.error and not cam.mac and not cam.serial:
            known = k.by_address.get(cam.endpoint.address)
            if known is None:
                why = f"ONVIF, no identity: {cam.error}"
                said = {"error": str(cam.error)}
                address = cam.endpoint.address
                items.append(Item("new", f"onvif-{address}", address, why, why="ev_no_identity",
                                  args=said))  # fmt: skip
            else:
                seen.add(known.id)
            continue
        known = k.by_mac.get(cam.mac) or k.by_serial.get(cam.serial)
        where = f" on {parent} port {_port(placed)}" if parent and placed else ""
        notes: tuple[str, ...] = ("note_not_activated",) if cam.activated is False else ()
        if placed and placed.poe:
            notes += ("note_poe",)
        if known is None:
            ident = (cam.mac or cam.serial).replace(":", "")[-6:].lower()
            record = _fill(
                {"id": f"cam-{ident}", "name": f"{cam.vendor} {cam.model}".strip() or ident,
                 "kind": _kind(cam.model), "site": site, "address": cam.endpoint.address},
                vendor=cam.vendor, model=cam.model, serial=cam.serial, firmware=cam.firmware,
                mac=cam.mac, parents=[parent] if parent else None,
            )  # fmt: skip
            detail = f"{cam.vendor} {cam.model} {cam.serial}{where}".split()
            what = " ".join(f"{cam.vendor} {cam.model} {cam.serial}".split())
            at = {"parent": parent or "", "port": _port(placed)} if where else {}
            items.append(Item("new", str(record["id"]), cam.endpoint.address, " ".join(detail),
                              record, notes, "ev_new_camera_at" if at else "ev_new_camera",
                              {"what": what, **at}))  # fmt: skip
            continue
        seen.add(known.id)
        address = cam.endpoint.address
        missing = _gaps(known, vendor=cam.vendor, model=cam.model, serial=cam.serial, mac=cam.mac)
        if gaps and missing:
            items.append(Item("facts", known.id, address, ", ".join(missing), missing,
                              why="ev_facts", args={"fields": ", ".join(missing)}))  # fmt: skip
        if known.address != address:
            items.append(Item("address", known.id, address, f"was {known.address}",
                              {"address": address}, why="ev_address",
                              args={"old": known.address}))  # fmt: skip
        if cam.firmware and known.firmware and cam.firmware != known.firmware:
            items.append(Item("firmware", known.id, address, f"{known.firmware} -> {cam.firmware}",
                              {"firmware": cam.firmware}, why="ev_firmware",
                              args={"old": known.firmware, "new": cam.firmware}))  # fmt: skip
        before = (last or {}).get(cam.mac)
        now = (parent, _port(placed)) if parent and placed else None
        if before and now and before != now:
            items.append(Item("moved", known.id, address,
                              f"{before[0]} port {before[1]} -> {now[0]} port {now[1]}",
                              why="ev_moved", args={"old_switch": before[0], "old_port": before[1],
                                                    "switch": now[0], "port": now[1]}))  # fmt: skip
        if parent and parent not in known.parents:
            items.append(_camera_parent(known, address, parent, _port(placed), before))
    items.extend(_missing(k, seen, in_scope))
    return items


def _camera_parent(
    known: Device, address: str, parent: str, port: str, before: Position | None
) -> Item:
    """The topology puts a configured camera under another parent than configured: the
    network changed (its last recorded position was under the configured parent: parent
    changed), the configuration never said (parent found), or the configuration is wrong."""
    record: Record = {"parents": [parent]}
    if not known.parents:
        return Item("parent_found", known.id, address, f"its MAC is on {parent} port {port}",
                    record, why="ev_parent_found_port", args={"parent": parent, "port": port})  # fmt: skip
    configured = ", ".join(known.parents)
    if before is not None and before[0] in known.parents and before[0] != parent:
        return Item("parent", known.id, address,
                    f"{known.id} was on {before[0]} port {before[1]} at the last table read; "
                    f"its MAC is now on {parent} port {port}", record, why="ev_parent_changed",
                    args={"old": before[0], "old_port": before[1], "parent": parent,
                          "port": port})  # fmt: skip
    return Item("parent_wrong", known.id, address,
                f"{known.id} is configured under {configured} but its MAC is on {parent} port "
                f"{port}", record, why="ev_parent_port",
                args={"configured": configured, "parent": parent, "port": port})  # fmt: skip


def _switch_parent(known: Device, address: str, parent: str) -> Item:
    """LLDP puts a configured switch below another switch than configured (or none was)."""
    record: Record = {"parents": [parent]}
    if not known.parents:
        return Item("parent_found", known.id, address, f"LLDP puts it below {parent}", record,
                    why="ev_parent_found_lldp", args={"parent": parent})  # fmt: skip
    configured = ", ".join(known.parents)
    return Item("parent_wrong", known.id, address,
                f"{known.id} is configured under {configured} but LLDP puts it below {parent}",
                record, why="ev_parent_lldp", args={"configured": configured, "parent": parent})  # fmt: skip


def _gaps(known: Device, **facts: str) -> Record:
    """Discovered facts the configured record lacks (never one it has: people typed it)."""
    return {k: v for k, v in facts.items() if v and not getattr(known, k)}


def _port(p: Placement | None) -> str:
    return (p.port_name or str(p.port)) if p else ""


def _parent_of(
    placed: Placement | None, switch_ids: Mapping[str, str], hubs: Mapping[tuple[str, int], str]
) -> str | None:
    if placed is None:
        return None
    return hubs.get((placed.switch, placed.port)) or switch_ids.get(placed.switch)


def _switches(
    found: Found, site: str, k: _Known, items: list[Item], seen: set[str]
) -> dict[str, str]:
    """switch_key -> device id: configured (by chassis MAC, then address) or proposed."""
    ids: dict[str, str] = {}
    pending: list[tuple[SwitchTables, Record]] = []
    for s in sorted(found.switches, key=lambda s: s.address):
        known = (k.by_mac.get(s.chassis) if s.chassis else None) or k.by_address.get(s.address)
        if known is not None:
            ids[switch_key(s)] = known.id
            seen.add(known.id)
            continue
        ident = _slug(s.sys_name) or f"sw-{(s.chassis or s.address).replace(':', '')[-6:]}"
        ids[switch_key(s)] = ident
        record = _fill({"id": ident, "name": s.sys_name or ident, "kind": "switch", "site": site,
                        "address": s.address}, mac=s.chassis, vendor=_vendor(s.sys_descr))  # fmt: skip
        pending.append((s, record))
    for s, record in pending:
        up = found.topology.switch_parents.get(switch_key(s))
        if up and up in ids:
            record["parents"] = [ids[up]]
        items.append(Item("new", str(record["id"]), s.address, s.sys_descr[:80], record,
                          why="ev_new_switch", args={"descr": s.sys_descr[:80]}))  # fmt: skip
    for s in found.switches:  # configured switches the LLDP tree puts elsewhere
        up = found.topology.switch_parents.get(switch_key(s))
        known = k.by_id.get(ids[switch_key(s)])
        if known is not None and up is not None and up in ids and ids[up] not in known.parents:
            items.append(_switch_parent(known, s.address, ids[up]))
    return ids


def _hubs(
    found: Found, site: str, k: _Known, switch_ids: Mapping[str, str], items: list[Item],
    seen: set[str],
) -> dict[tuple[str, int], str]:  # fmt: skip
    out: dict[tuple[str, int], str] = {}
    address = {switch_key(s): s.address for s in found.switches}
    for (key, port), macs in found.topology.hubs().items():
        up = switch_ids.get(key)
        if up is None:
            continue
        ident = f"{up}-p{port}-hub"
        out[(key, port)] = ident
        if ident in k.by_id:
            seen.add(ident)
            continue
        name = next(iter(found.topology.placements[m].port_name for m in macs), "") or str(port)
        record: Record = {
            "id": ident, "name": f"unmanaged switch on {up} {name}", "kind": "switch",
            "site": site, "address": address[key], "parents": [up],
            "icmp": {"enabled": False}, "location": f"{up} port {name}",
        }  # fmt: skip
        detail = f"{len(macs)} camera MACs on {up} port {name}, no LLDP neighbour"
        items.append(Item("new", ident, address[key], detail, record, ("note_hub",), "ev_hub",
                          {"count": str(len(macs)), "switch": up, "port": name}))  # fmt: skip
    return out


def _missing(k: _Known, seen: set[str], in_scope: frozenset[str] | None) -> list[Item]:
    if in_scope is None:
        return []
    return [
        Item("missing", d.id, d.address, "configured, in the ranges, not seen", why="ev_missing")
        for d in k.mine
        if d.id not in seen and d.address in in_scope and d.kind.value in ("camera", "nvr")
    ]


def _vendor(descr: str) -> str:
    for name in ("Huawei", "H3C", "TP-Link", "Ruijie", "Cisco", "Hikvision"):
        if name.lower() in descr.lower():
            return name
    return ""


def _kind(model: str) -> str:
    """NVRs and DVRs by their model family (Hikvision DS-7/8/9, iDS-7/9; Dahua NVR/XVR)."""
    m = model.upper()
    recorders = ("DS-7", "DS-8", "DS-9", "IDS-7", "IDS-9", "NVR", "DHI-NVR", "XVR", "DH-XVR")
    return "nvr" if m.startswith(recorders) else "camera"


def include_yaml(items: Sequence[Item]) -> str:
    import yaml

    devices = [i.record for i in items if i.change == "new" and i.record]
    header = "# Proposed by `monitord discover`: review, then add to `include`.\n"
    return header + yaml.safe_dump({"devices": devices}, allow_unicode=True, sort_keys=False)
