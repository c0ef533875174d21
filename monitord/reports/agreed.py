"""The report's sources backed by the prevention side: agreed maintenance windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from monitord.config.models import Config
from monitord.prevention.windows import StoredWindows, WindowBook, WindowSource
from monitord.reports.sources import Interval
from monitord.store.records import DeviceRecord, WindowRecord


class AgreedWindows:
    """Configured windows (one-off and cron, in the site's zone) and those started by hand."""

    def __init__(self, config: Config, store: WindowSource | None) -> None:
        # Monotonic time only paces re-reading stored windows; a report reads them once.
        source = _ReadOnce(store) if store is not None else None
        self._book = WindowBook(config, source, lambda: 0.0)

    def excluded(
        self, device: DeviceRecord, since: dt.datetime, until: dt.datetime
    ) -> Sequence[Interval]:
        return self._book.overlapping(device.id, since, until)


class _ReadOnce:
    """The book asks the store once per device; a report asks the same span for all of them."""

    def __init__(self, store: WindowSource) -> None:
        self.windows = _Cached(store.windows)


class _Cached:
    def __init__(self, windows: StoredWindows) -> None:
        self._windows = windows
        self._between: dict[tuple[dt.datetime, dt.datetime | None], list[WindowRecord]] = {}

    def ending_after(self, at: dt.datetime) -> list[WindowRecord]:
        return self._windows.ending_after(at)

    def between(self, start: dt.datetime, end: dt.datetime | None) -> list[WindowRecord]:
        key = (start, end)
        if key not in self._between:
            self._between[key] = self._windows.between(start, end)
        return self._between[key]
