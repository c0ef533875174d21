"""Store methods for what devices say about themselves (see DeviceFactRow).

A changed value is written to the device's operation record in the same transaction as the
new value, so a firmware update is recorded exactly once, also when it happened while the
daemon was stopped; a first sighting is not a change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select

from monitord.store.core import StoreCore, require_aware
from monitord.store.records import DeviceFact
from monitord.store.schema import DeviceFactRow, OperationEventRow

_MAX_VALUE = 500  # sysDescr can be a paragraph; the archive needs its first lines


class FactMethods(StoreCore):
    def learn_facts(
        self, device_id: str, source: str, facts: Mapping[str, str], at: dt.datetime
    ) -> dict[str, tuple[str, str]]:
        """Keep these facts; return the ones that changed as name -> (old, new)."""
        require_aware(at)
        changed: dict[str, tuple[str, str]] = {}
        with self._session(f"record what {device_id} says about itself", write=True) as s:
            known = {
                r.name: r
                for r in s.scalars(
                    select(DeviceFactRow).where(DeviceFactRow.device_id == device_id)
                )
            }
            for name, raw in facts.items():
                value = raw.strip()[:_MAX_VALUE]
                if not value:
                    continue
                row = known.get(name)
                if row is None:
                    s.add(DeviceFactRow(device_id=device_id, name=name, value=value,
                                        source=source, observed_at=at, changed_at=at))  # fmt: skip
                    continue
                row.observed_at = at
                if row.value == value:
                    continue
                changed[name] = (row.value, value)
                row.value, row.source, row.changed_at = value, source, at
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

    def facts(self, device_id: str) -> dict[str, DeviceFact]:
        query = select(DeviceFactRow).where(DeviceFactRow.device_id == device_id)
        with self._session(f"read what {device_id} says about itself") as s:
            return {
                r.name: DeviceFact(r.device_id, r.name, r.value, r.source, r.observed_at,
                                   r.changed_at)
                for r in s.scalars(query)
            }  # fmt: skip
