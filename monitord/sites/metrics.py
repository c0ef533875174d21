"""Per-poller metrics, read at scrape time from the silence watch's last pass (which reads
the pollers every few seconds anyway: no database query per scrape).

One series per enrolled, unrevoked poller and metric: the label set is bounded by the
pollers an operator enrolled, never by devices or entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.sites.wire import Dropped
from monitord.store.pollers import PollerRecord


class PollerCollector(Collector):
    def __init__(
        self,
        pollers: Callable[[], Sequence[PollerRecord]],
        dropped: Callable[[], Mapping[str, Dropped]] = dict,
    ) -> None:
        self._pollers, self._dropped = pollers, dropped

    def collect(self) -> Iterator[Metric]:
        seen = GaugeMetricFamily(
            "monitord_poller_last_seen_seconds",
            "Unix time of the site poller's last push (alert on time() minus this)",
            labels=["poller"],
        )
        backlog = GaugeMetricFamily(
            "monitord_poller_backlog",
            "Journal entries the site poller reported as not yet acknowledged",
            labels=["poller"],
        )
        offset = GaugeMetricFamily(
            "monitord_poller_clock_offset_seconds",
            "The centre's clock minus the site poller's, measured at its last push",
            labels=["poller"],
        )
        silent = GaugeMetricFamily(
            "monitord_poller_silent",
            "1 while the site poller is silent (its devices show unknown)",
            labels=["poller"],
        )
        lost = CounterMetricFamily(
            "monitord_poller_rollups_dropped",
            "Hourly rollups the site poller's journal dropped at its cap (as it last reported)",
            labels=["poller"],
        )
        dropped = self._dropped()
        for p in self._pollers():
            if not p.active:
                continue
            lost.add_metric([p.id], dropped[p.id].rollups if p.id in dropped else 0)
            if p.last_seen is not None:
                seen.add_metric([p.id], p.last_seen.timestamp())
            if p.backlog is not None:
                backlog.add_metric([p.id], p.backlog)
            if p.clock_offset is not None:
                offset.add_metric([p.id], p.clock_offset)
            silent.add_metric([p.id], 1 if p.silent else 0)
        yield from (seen, backlog, offset, silent, lost)
