"""The history behind early warnings: probe results rolled up per device, metric and hour.

Probes hand their results to a `SampleSink`; `HistoryRecorder` keeps only the running
count/sum/min/max of the current hours in memory and merges them into the store every few
minutes, which prunes hours older than the retention. Memory and rows are bounded: one
entry per device, metric, subject (volume, port, sensor: at most 32-64 per device, see
checks/snmp/evaluate.py) and hour. Another probe (ONVIF clock drift) plugs in by calling
`add(device, CLOCK_DRIFT, "", abs(offset_seconds), at)`: the size of the offset, which the
early warnings expect to stay small.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final, Protocol

from monitord import log
from monitord.checks.icmp.evaluate import Outcome
from monitord.checks.snmp.evaluate import DeviceEvent
from monitord.clock import Clock
from monitord.health.findings import Finding
from monitord.store import StoreError
from monitord.store.records import MetricHour
from monitord.supervise import repeat

_log = log.get("monitord.history")

LOSS: Final = "icmp_loss_pct"
RTT: Final = "icmp_rtt_ms"
DISK: Final = "disk_used_ratio"
IF_ERRORS: Final = "if_errors_per_s"
REBOOTS: Final = "reboots"
TEMPERATURE: Final = "temperature_c"
CLOCK_DRIFT: Final = "clock_drift_s"
# Counts of events: a window's planned work (a firmware upgrade's reboots) is not counted.
_EVENTS: Final = frozenset({REBOOTS})


class SampleSink(Protocol):
    def add(self, device_id: str, metric: str, subject: str, value: float, at: dt.datetime) -> None:
        """One sample of one metric; `subject` names the volume, port or sensor ("" if none)."""


class HourStore(Protocol):
    """What the recorder writes to: `store.metric_history`."""

    def add(self, rows: Sequence[MetricHour]) -> None: ...

    def prune(self, before_hour: int) -> int: ...


class HistoryStore(Protocol):
    @property
    def metric_history(self) -> HourStore: ...


def hour_of(at: dt.datetime) -> int:
    return int(at.timestamp() // 3600)


def feed_icmp(sink: SampleSink, device_id: str, outcome: Outcome, at: dt.datetime) -> None:
    """Loss and RTT of a check that got replies; an outage is a fault, not a trend."""
    if not outcome.received:
        return
    sink.add(device_id, LOSS, "", outcome.loss_pct, at)
    if outcome.rtt_avg_ms is not None:
        sink.add(device_id, RTT, "", outcome.rtt_avg_ms, at)


def feed_snmp(
    sink: SampleSink,
    device_id: str,
    findings: Iterable[Finding],
    events: Iterable[DeviceEvent],
    at: dt.datetime,
) -> None:
    for f in findings:
        kind, _, subject = f.check.partition(":")
        v = f.values
        if kind == "storage" and isinstance(v.get("used_ratio"), int | float):
            sink.add(device_id, DISK, subject, float(v["used_ratio"]), at)
        elif kind == "temperature" and isinstance(v.get("celsius"), int | float):
            sink.add(device_id, TEMPERATURE, subject, float(v["celsius"]), at)
        elif kind == "port":
            rates = [v.get("in_errors_per_s"), v.get("out_errors_per_s")]
            numbers = [float(r) for r in rates if isinstance(r, int | float)]
            if numbers:
                sink.add(device_id, IF_ERRORS, subject, sum(numbers), at)
    for event in events:
        if event.kind == "reboot":
            sink.add(device_id, REBOOTS, "", 1.0, at)


@dataclass(slots=True)
class _Acc:
    n: int
    total: float
    low: float
    high: float


class HistoryRecorder:
    def __init__(
        self,
        store: HistoryStore,
        retention: dt.timedelta,
        quiet: Callable[[str, dt.datetime], bool] = lambda _device, _at: False,
    ) -> None:
        self._store, self._retention, self._quiet = store, retention, quiet
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, str, str, int], _Acc] = {}

    def add(self, device_id: str, metric: str, subject: str, value: float, at: dt.datetime) -> None:
        if not math.isfinite(value) or (metric in _EVENTS and self._quiet(device_id, at)):
            return
        key = (device_id, metric, subject, hour_of(at))
        with self._lock:
            acc = self._pending.get(key)
            if acc is None:
                self._pending[key] = _Acc(1, value, value, value)
            else:
                acc.n += 1
                acc.total += value
                acc.low = min(acc.low, value)
                acc.high = max(acc.high, value)

    def flush(self, now: dt.datetime) -> int:
        """Merge what was gathered into the store and prune; returns the rows written.

        If the store fails, the samples stay and are merged with the next flush.
        """
        with self._lock:
            pending, self._pending = self._pending, {}
        rows = [MetricHour(d, m, s, h, a.n, a.total, a.low, a.high)
                for (d, m, s, h), a in pending.items()]  # fmt: skip
        try:
            self._store.metric_history.add(rows)
        except StoreError:
            with self._lock:
                for key, acc in pending.items():
                    self._merge_back(key, acc)
            raise
        self._store.metric_history.prune(hour_of(now - self._retention))
        return len(rows)

    def _merge_back(self, key: tuple[str, str, str, int], acc: _Acc) -> None:
        mine = self._pending.get(key)
        if mine is None:
            self._pending[key] = acc
        else:
            mine.n, mine.total = mine.n + acc.n, mine.total + acc.total
            mine.low, mine.high = min(mine.low, acc.low), max(mine.high, acc.high)

    async def run(self, clock: Clock, every: float) -> None:
        await repeat(partial(self.step, clock, every), clock, first_after=every)

    async def step(self, clock: Clock, every: float) -> float:
        """Write the finished hours; returns the seconds until the next pass."""
        try:
            await asyncio.to_thread(self.flush, clock.now())
        except StoreError as exc:
            _log.error("cannot record the metric history; keeping it for later", error=str(exc))
        return every
