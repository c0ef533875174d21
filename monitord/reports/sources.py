"""What the monthly report reads from the prevention side, behind small interfaces.

Maintenance windows and the inspection and follow-up records are kept by
`monitord.prevention`; the report sees them only through these Protocols, so it can be
built, and tested, against any source. A source that keeps nothing yet answers None, and the
report says "not recorded" instead of showing a zero that was never counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from monitord.store.records import DeviceRecord

Interval = tuple[dt.datetime, dt.datetime]


class Windows(Protocol):
    def excluded(
        self, device: DeviceRecord, since: dt.datetime, until: dt.datetime
    ) -> Sequence[Interval]:
        """Agreed maintenance windows covering `device` that overlap [since, until)."""


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """Inspections (or follow-up visits) of a contract's sites in a period."""

    due: int  # due within the period
    done: int  # done within the period
    overdue: int  # past due and not done at the end of the period
    mean_score: float | None = None  # follow-ups: the customers' mean satisfaction score
    scored: int = 0  # how many surveys gave a score


class Tasks(Protocol):
    def inspections(
        self, contract: str, since: dt.datetime, until: dt.datetime
    ) -> TaskCounts | None: ...

    def follow_ups(
        self, contract: str, since: dt.datetime, until: dt.datetime
    ) -> TaskCounts | None: ...


class Warranties(Protocol):
    def end(self, device: DeviceRecord) -> dt.date | None:
        """The last day the device's repairs are free; None if nothing says."""


class ArchiveWarranty:
    """The warranty end written in the equipment archive (the manufacturer's)."""

    def end(self, device: DeviceRecord) -> dt.date | None:
        return device.warranty_end


class NoWindows:
    """No maintenance windows are kept: nothing is excluded."""

    def excluded(
        self, device: DeviceRecord, since: dt.datetime, until: dt.datetime
    ) -> Sequence[Interval]:
        return ()


class NoTasks:
    """Inspections and follow-ups are not recorded (yet)."""

    def inspections(
        self, contract: str, since: dt.datetime, until: dt.datetime
    ) -> TaskCounts | None:
        return None

    def follow_ups(
        self, contract: str, since: dt.datetime, until: dt.datetime
    ) -> TaskCounts | None:
        return None
