"""Windows started by hand ("I'm working on this switch for 30 min"): checks and views
shared by the CLI and the API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from monitord.config.durations import format_duration
from monitord.config.maintenance import MaintenanceWindow
from monitord.config.models import Config, DeviceKind
from monitord.prevention.windows import next_cover
from monitord.store.records import WindowRecord

MAX_LENGTH = dt.timedelta(days=31)


class WindowAdder(Protocol):
    def add(self, w: WindowRecord) -> WindowRecord: ...


class WindowStore(Protocol):
    """A store, as far as starting a window needs one: `store.windows`."""

    @property
    def windows(self) -> WindowAdder: ...


class BadWindow(ValueError):
    """The request names something unknown or impossible; the message says which field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def start_window(
    config: Config,
    store: WindowStore,
    *,
    device: str | None,
    site: str | None,
    kind: str | None,
    start: dt.datetime,
    length: dt.timedelta,
    reason: str,
    by: str,
    now: dt.datetime,
) -> WindowRecord:
    check_scope(config, device, site, kind)
    if not dt.timedelta(0) < length <= MAX_LENGTH:
        raise BadWindow("for", f"must be more than 0 and at most {format_duration(MAX_LENGTH)}")
    if start.tzinfo is None:
        raise BadWindow("start", "needs a UTC offset")
    if not 1970 <= start.year < 9000:  # start + length must stay within datetime's range
        raise BadWindow("start", "the year must be 1970..8999")
    return store.windows.add(
        WindowRecord(0, site, device, kind, start, start + length, reason, by, now)
    )


def check_scope(config: Config, device: str | None, site: str | None, kind: str | None) -> None:
    if device is None and site is None and kind is None:
        raise BadWindow("device", "name a device, a site or a kind")
    devices = {d.id: d for d in config.devices}
    if device is not None and device not in devices:
        raise BadWindow("device", f"unknown device {device!r}")
    if site is not None and site not in {s.id for s in config.sites}:
        raise BadWindow("site", f"unknown site {site!r}")
    if kind is not None and kind not in {k.value for k in DeviceKind}:
        raise BadWindow("kind", f"unknown kind {kind!r} ({', '.join(k.value for k in DeviceKind)})")
    if device is not None and site is not None and devices[device].site != site:
        raise BadWindow("site", f"device {device!r} is not at site {site!r}")


def zone_of(config: Config, device: str | None, site: str | None) -> str:
    """The time zone to show a window in: its device's or site's, else UTC."""
    sites = {s.id: s.timezone for s in config.sites}
    if device is not None:
        site = next((d.site for d in config.devices if d.id == device), site)
    return sites.get(site or "", "UTC")


def local(at: dt.datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def stored_json(config: Config, w: WindowRecord, now: dt.datetime) -> dict[str, Any]:
    zone = zone_of(config, w.device_id, w.site_id)
    return {
        "id": w.id, "source": "stored", "device": w.device_id, "site": w.site_id,
        "kind": w.kind, "starts_at": w.starts_at.isoformat(), "ends_at": w.ends_at.isoformat(),
        "starts_local": local(w.starts_at, zone), "ends_local": local(w.ends_at, zone),
        "timezone": zone, "active": w.starts_at <= now < w.ends_at, "reason": w.reason,
        "created_by": w.created_by, "ended_early_at":
            w.ended_early_at.isoformat() if w.ended_early_at else None,
    }  # fmt: skip


def configured_json(config: Config, w: MaintenanceWindow, now: dt.datetime) -> dict[str, Any]:
    """A configured window, with its current or next occurrence where its zone is one."""
    zone = zone_of(config, w.device, w.site) if (w.device or w.site) else None
    upcoming = next_cover(w, zone, now) if zone else None
    return {
        "next_start_local": local(upcoming[0], zone) if upcoming and zone else None,
        "next_end_local": local(upcoming[1], zone) if upcoming and zone else None,
        "timezone": zone,
        "id": f"config:{w.id}", "source": "config", "device": w.device, "site": w.site,
        "kind": w.kind, "cron": w.cron, "start": w.start.isoformat() if w.start else None,
        "end": w.end.isoformat() if w.end else None,
        "duration": format_duration(w.duration) if w.duration else None, "reason": w.reason,
    }  # fmt: skip
