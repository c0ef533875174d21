"""What devices say about themselves (see DeviceFactRow): the repository `store.facts`.

Each probe keeps its own facts: SNMP's firmware parsed from sysDescr and ONVIF's firmware
string differ in wording, and must not flip one another. A changed value is written to the
device's operation record in the same transaction as the new value, so a firmware update is
recorded exactly once, also when it happened while the daemon was stopped; a first sighting
is not a change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitord.store.core import Repository, require_aware
from monitord.store.records import DeviceFact, DeviceRecord
from monitord.store.schema import DeviceFactRow, OperationEventRow

_MAX_VALUE: Final = 500  # sysDescr can be a paragraph; the archive needs its first lines
# Where two probes speak, the one that asks the device by name wins (GetDeviceInformation
# over a version parsed out of sysDescr).
SOURCES: Final = ("onvif", "snmp")


class Facts(Repository):
    def learn(
        self, device_id: str, source: str, facts: Mapping[str, str], at: dt.datetime
    ) -> dict[str, tuple[str, str]]:
        """Keep these facts; return the ones that changed as name -> (old, new)."""
        require_aware(at)
        with self._session(f"record what {device_id} says about itself", write=True) as s:
            return learn_in(s, device_id, source, facts, at)

    def of(self, device_id: str) -> dict[str, DeviceFact]:
        """Each fact once, from the most trusted source that reported it."""
        query = select(DeviceFactRow).where(DeviceFactRow.device_id == device_id)
        with self._session(f"read what {device_id} says about itself") as s:
            return _preferred(_fact(r) for r in s.scalars(query))


def learn_in(
    s: Session, device_id: str, source: str, facts: Mapping[str, str], at: dt.datetime
) -> dict[str, tuple[str, str]]:
    """`Facts.learn` inside a caller's transaction (a site poller's batch is one)."""
    changed: dict[str, tuple[str, str]] = {}
    query = select(DeviceFactRow).where(
        DeviceFactRow.device_id == device_id, DeviceFactRow.source == source
    )
    known = {r.name: r for r in s.scalars(query)}
    for name, raw in facts.items():
        value = raw.strip()[:_MAX_VALUE]
        if not value:
            continue
        row = known.get(name)
        if row is None:
            s.add(DeviceFactRow(device_id=device_id, source=source, name=name,
                                value=value, observed_at=at, changed_at=at))  # fmt: skip
            continue
        row.observed_at = at
        if row.value != value:
            changed[name] = (row.value, value)
            row.value, row.changed_at = value, at
    for name, (old, new) in changed.items():
        s.add(
            OperationEventRow(
                device_id=device_id,
                at=at,
                kind="firmware" if name == "firmware" else "archive",
                from_state=None,
                to_state=None,
                reason=f"{name} changed ({source}): {old[:120]} -> {new[:120]}",
                observation={"fact": name, "from": old, "to": new, "source": source},
            )
        )
    return changed


def with_facts(record: DeviceRecord, facts: Mapping[str, DeviceFact]) -> DeviceRecord:
    def pick(configured: str | None, name: str) -> str | None:
        return configured or (facts[name].value if name in facts else None)

    return dataclasses.replace(
        record,
        vendor=pick(record.vendor, "vendor"),
        model=pick(record.model, "model"),
        serial=pick(record.serial, "serial"),
        firmware=pick(record.firmware, "firmware"),
    )


def _preferred(facts: Iterable[DeviceFact]) -> dict[str, DeviceFact]:
    rank = {source: i for i, source in enumerate(SOURCES)}
    best: dict[str, DeviceFact] = {}
    for f in facts:
        held = best.get(f.name)
        if held is None or rank.get(f.source, len(rank)) < rank.get(held.source, len(rank)):
            best[f.name] = f
    return best


def _fact(r: DeviceFactRow) -> DeviceFact:
    return DeviceFact(r.device_id, r.name, r.value, r.source, r.observed_at, r.changed_at)
