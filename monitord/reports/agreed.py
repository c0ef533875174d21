"""The report's sources backed by the prevention side: agreed maintenance windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from monitord.config.models import Config
from monitord.prevention.windows import WindowBook, WindowSource
from monitord.reports.sources import Interval
from monitord.store.records import DeviceRecord


class AgreedWindows:
    """Configured windows (one-off and cron, in the site's zone) and those started by hand."""

    def __init__(self, config: Config, store: WindowSource | None) -> None:
        # Monotonic time only paces re-reading stored windows; a report reads them once.
        self._book = WindowBook(config, store, lambda: 0.0)

    def excluded(
        self, device: DeviceRecord, since: dt.datetime, until: dt.datetime
    ) -> Sequence[Interval]:
        return self._book.overlapping(device.id, since, until)
