"""What a run proposes against the configured devices: new, changed address, parent.

Devices match by MAC, then serial, never by address alone: a camera that DHCP renumbered
is the same camera at a new address. Nothing is changed; `include_yaml` renders the new
devices as an include file for a person to review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from monitord.config.models import Device
from monitord.discovery.run import Found
from monitord.discovery.topology import switch_key


@dataclass(frozen=True, slots=True)
class Item:
    change: str  # "new", "address", "parent"
    device: str  # configured id, or the proposed one
    address: str
    detail: str
    record: dict[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # i18n keys, e.g. "note_not_activated"


def propose(found: Found, site: str, devices: Sequence[Device]) -> list[Item]:
    mine = [d for d in devices if d.site == site]
    by_mac = {d.mac: d for d in mine if d.mac}
    by_serial = {d.serial: d for d in mine if d.serial}
    by_address = {d.address: d for d in mine}
    switch_ids = {
        switch_key(s): by_address[s.address].id for s in found.switches if s.address in by_address
    }
    items: list[Item] = []
    for cam in found.cameras:
        if cam.error and not cam.mac and not cam.serial:
            known = by_address.get(cam.endpoint.address)
            if known is None:
                items.append(
                    Item(
                        "new",
                        f"onvif-{cam.endpoint.address}",
                        cam.endpoint.address,
                        f"ONVIF, no identity: {cam.error}",
                    )
                )
            continue
        known = by_mac.get(cam.mac) or by_serial.get(cam.serial)
        placed = found.topology.placements.get(cam.mac)
        parent = switch_ids.get(placed.switch) if placed else None
        if known is None:
            ident = (cam.mac or cam.serial).replace(":", "")[-6:]
            record: dict[str, object] = {
                "id": f"cam-{ident}", "name": f"{cam.vendor} {cam.model}".strip() or ident,
                "kind": kind_of(cam.model), "site": site, "address": cam.endpoint.address,
            }  # fmt: skip
            for key, value in (("vendor", cam.vendor), ("model", cam.model), ("serial", cam.serial),
                               ("firmware", cam.firmware), ("mac", cam.mac)):  # fmt: skip
                if value:
                    record[key] = value
            if parent:
                record["parents"] = [parent]
            where = (
                f" on {parent} port {placed.port_name or placed.port}" if parent and placed else ""
            )
            items.append(
                Item(
                    "new",
                    str(record["id"]),
                    cam.endpoint.address,
                    f"{cam.vendor} {cam.model} {cam.serial}{where}".strip(),
                    record,
                    ("note_not_activated",) if cam.activated is False else (),
                )
            )
            continue
        if known.address != cam.endpoint.address:
            items.append(Item("address", known.id, cam.endpoint.address, f"was {known.address}"))
        if parent and parent not in known.parents:
            items.append(
                Item(
                    "parent",
                    known.id,
                    cam.endpoint.address,
                    f"configured under {', '.join(known.parents) or '(none)'}, its MAC is on {parent} port {placed.port_name or placed.port}"
                    if placed
                    else "",
                )
            )
    return items


def kind_of(model: str) -> str:
    """NVRs and DVRs by their model family (Hikvision DS-7/8/9, iDS-7/9; Dahua NVR/XVR)."""
    m = model.upper()
    recorders = ("DS-7", "DS-8", "DS-9", "IDS-7", "IDS-9", "NVR", "DHI-NVR", "XVR", "DH-XVR")
    return "nvr" if m.startswith(recorders) else "camera"


def include_yaml(items: Sequence[Item]) -> str:
    devices = [i.record for i in items if i.change == "new" and i.record]
    header = "# Proposed by `monitord discover`: review, then add to `include`.\n"
    return header + yaml.safe_dump({"devices": devices}, allow_unicode=True, sort_keys=False)
