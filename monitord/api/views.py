"""JSON shapes of the API: the CLI's ticket JSON (`ticket_dict`) plus the site's local times.

UTC ISO-8601 stays the canonical value; `*_local` fields repeat the instant with the site's
offset (e.g. 2026-06-01T10:00:00+08:00), since contracts count hours on the site's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from monitord.config import Config
from monitord.present import tickets as ticket_views
from monitord.prevention.warranty import repair_terms
from monitord.store.records import DeviceRecord, SavedState, TicketEventRecord, TicketRecord


def _local(iso: str | None, zone: ZoneInfo) -> str | None:
    return dt.datetime.fromisoformat(iso).astimezone(zone).isoformat() if iso else None


def ticket_json(
    config: Config,
    ticket: TicketRecord,
    events: Sequence[TicketEventRecord],
    now: dt.datetime,
    with_events: bool = True,
) -> dict[str, Any]:
    contract = next((c for c in config.contracts if c.id == ticket.contract), None)
    site = next((s for s in config.sites if s.id == ticket.site_id), None)
    zone, tz = (site.zone.value, site.timezone) if site else ("city", "UTC")
    data = ticket_views.ticket_dict(ticket, events, contract, zone, now)
    info = ZoneInfo(tz)
    data["zone"], data["timezone"] = zone, tz
    data["opened_at_local"] = _local(data["opened_at"], info)
    data["updated_at_local"] = _local(data["updated_at"], info)
    for d in data["deadlines"]:
        d["due_local"] = _local(d["due"], info)
        d["met_at_local"] = _local(d["met_at"], info)
    if with_events:
        for e in data["events"]:
            e["at_local"] = _local(e["at"], info)
    else:
        del data["events"]  # a list stays small; GET /tickets/{id} has the log
    if ticket.root_device:  # P3: free under warranty, at cost after (as of the fault)
        data["repair"] = repair_terms(config, ticket.root_device, ticket.opened_at)
    if config.api.base_url:
        data["url"] = f"{config.api.base_url.rstrip('/')}/api/v1/tickets/{ticket.id}"
    return data


def device_json(
    device: DeviceRecord, state: SavedState | None, timezone: str | None
) -> dict[str, Any]:
    since = state.since.isoformat() if state else None
    return {
        "id": device.id,
        "name": device.name,
        "kind": device.kind,
        "site": device.site_id,
        "address": device.address,
        "parents": list(device.parents),
        "criticality": device.criticality,
        # No stored HARD state yet: the daemon has not confirmed anything about it.
        "state": state.state if state else "pending",
        "since": since,
        "since_local": _local(since, ZoneInfo(timezone)) if since and timezone else None,
        "last_check": state.last_check.isoformat() if state and state.last_check else None,
        "reason": state.reason if state else None,
    }
