"""Maintenance windows (P5): which devices are under planned work, and when.

Configured windows (one-off or cron, in each covered device's site time zone) and windows
started by hand (stored) answer the same questions: does a window cover this device now
(`covers`), when does that cover end (`cover_ends`), and which agreed periods overlap a
span (`overlapping`, for availability reports).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import croniter

from monitord.config.maintenance import MaintenanceWindow
from monitord.config.models import Config, Device
from monitord.store.records import WindowRecord

_MAX_OCCURRENCES = 10_000  # per window and query: bounds a "* * * * *" over a year


class StoredWindows(Protocol):
    """What the book reads of `store.windows`."""

    def ending_after(self, at: dt.datetime) -> list[WindowRecord]: ...

    def between(self, start: dt.datetime, end: dt.datetime | None) -> list[WindowRecord]: ...


class WindowSource(Protocol):
    """A store, as far as the book needs one: its windows started by hand."""

    @property
    def windows(self) -> StoredWindows: ...


@dataclass(frozen=True, slots=True)
class Cover:
    """One window's occurrence: [start, end), named "config:ID" or "#ID" (started by hand)."""

    source: str
    start: dt.datetime
    end: dt.datetime
    reason: str


class WindowBook:
    def __init__(
        self,
        config: Config,
        store: WindowSource | None,
        monotonic: Callable[[], float],
        refresh_every: float = 2.0,
    ) -> None:
        # Stored windows are re-read at most every `refresh_every` s: a storm asks for
        # hundreds of devices at once; a window started from the CLI is seen within that.
        self._store, self._monotonic, self._refresh_every = store, monotonic, refresh_every
        self._lock = threading.Lock()
        self._stored: tuple[WindowRecord, ...] = ()
        self._read_at: float | None = None
        self.apply(config)

    def apply(self, config: Config) -> None:
        self._windows = config.maintenance
        self._devices = config.by_id()
        self._zones = {s.id: s.timezone for s in config.sites}

    def invalidate(self) -> None:
        """Re-read stored windows at the next question (one was just started or ended)."""
        self._read_at = None

    def covering(self, device_id: str, at: dt.datetime) -> list[Cover]:
        device = self._devices.get(device_id)
        if device is None:
            return []
        zone = ZoneInfo(self._zones.get(device.site, "UTC"))
        out = [
            c
            for w in self._windows
            if _in_scope(w.site, w.device, w.kind, device)
            for c in _occurrences(w, zone, at, at + dt.timedelta(microseconds=1))
        ]
        out += [
            _stored_cover(r)
            for r in self._current_stored(at)
            if r.starts_at <= at < r.ends_at and _in_scope(r.site_id, r.device_id, r.kind, device)
        ]
        return out

    def covers(self, device_id: str, at: dt.datetime) -> bool:
        return bool(self.covering(device_id, at))

    def cover_ends(self, device_id: str, at: dt.datetime) -> dt.datetime | None:
        """When the cover of this device ends (None: not covered), chained windows joined."""
        end: dt.datetime | None = None
        probe = at
        for _ in range(100):  # back-to-back windows: follow the chain, boundedly
            covers = self.covering(device_id, probe)
            if not covers:
                return end
            end = probe = max(c.end for c in covers)
        return end

    def overlapping(
        self, device_id: str, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """Agreed windows of the device clipped to [start, end), merged, in order (UTC)."""
        device = self._devices.get(device_id)
        if device is None or end <= start:
            return []
        zone = ZoneInfo(self._zones.get(device.site, "UTC"))
        spans = [
            (c.start, c.end)
            for w in self._windows
            if _in_scope(w.site, w.device, w.kind, device)
            for c in _occurrences(w, zone, start, end)
        ]
        stored = self._store.windows.between(start, end) if self._store else []
        spans += [
            (r.starts_at, r.ends_at)
            for r in stored
            if _in_scope(r.site_id, r.device_id, r.kind, device)
        ]
        return _merge([(max(s, start), min(e, end)) for s, e in spans if s < end and e > start])

    def _current_stored(self, at: dt.datetime) -> tuple[WindowRecord, ...]:
        if self._store is None:
            return ()
        with self._lock:
            now = self._monotonic()
            if self._read_at is None or now - self._read_at >= self._refresh_every:
                # Every window not over by the earliest instant anyone asks about soon.
                since = at - dt.timedelta(hours=1)
                self._stored = tuple(self._store.windows.ending_after(since))
                self._read_at = now
            return self._stored


def windows_overlapping(
    config: Config,
    store: WindowSource | None,
    device_id: str,
    start: dt.datetime,
    end: dt.datetime,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The agreed maintenance periods of a device within [start, end), merged (UTC)."""
    return WindowBook(config, store, lambda: 0.0).overlapping(device_id, start, end)


def next_cover(
    w: MaintenanceWindow, zone: str, after: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """The occurrence of `w` (in `zone`) running at `after` or the next one, within a year."""
    found = next(_occurrences(w, ZoneInfo(zone), after, after + dt.timedelta(days=366)), None)
    return None if found is None else (found.start, found.end)


def _in_scope(site: str | None, device_id: str | None, kind: str | None, device: Device) -> bool:
    return (
        (site is None or site == device.site)
        and (device_id is None or device_id == device.id)
        and (kind is None or kind == device.kind.value)
    )


def _occurrences(
    w: MaintenanceWindow, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> Iterator[Cover]:
    """Occurrences of `w` overlapping [start, end), in UTC."""
    source = f"config:{w.id}"
    if w.start is not None:
        begin = _aware(w.start, zone)
        finish = (
            _aware(w.end, zone) if w.end is not None else begin + (w.duration or dt.timedelta())
        )
        if begin < end and finish > start:
            yield Cover(source, begin.astimezone(dt.UTC), finish.astimezone(dt.UTC), w.reason)
        return
    assert w.cron is not None and w.duration is not None
    # The first start strictly after (start - duration) is the first that can still cover.
    it = croniter(w.cron, (start - w.duration).astimezone(zone))
    for _ in range(_MAX_OCCURRENCES):
        begin = it.get_next(dt.datetime)
        if begin >= end:
            return
        yield Cover(
            source, begin.astimezone(dt.UTC), (begin + w.duration).astimezone(dt.UTC), w.reason
        )


def _aware(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _stored_cover(r: WindowRecord) -> Cover:
    return Cover(f"#{r.id}", r.starts_at, r.ends_at, r.reason)


def _merge(spans: list[tuple[dt.datetime, dt.datetime]]) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out
