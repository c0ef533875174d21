"""Per-poller metrics, read at scrape time from the silence watch's last pass (which reads
the pollers every few seconds anyway: no database query per scrape).

One series per enrolled, unrevoked poller and metric: the label set is bounded by the
pollers an operator enrolled, never by devices or entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.sites.commands import Commands
from monitord.sites.wire import Dropped
from monitord.store.pollers import PollerRecord

OUTCOMES = ("delivered", "failed", "not_delivered", "timeout")  # of a command (commands.py)


class PollerCollector(Collector):
    def __init__(
        self,
        pollers: Callable[[], Sequence[PollerRecord]],
        dropped: Callable[[], Mapping[str, Dropped]] = dict,
        oldest: Callable[[], Mapping[str, dt.datetime | None]] = dict,
        commands: Commands | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        # `oldest`: per poller, the time of its oldest entry not yet acknowledged as its
        # last push showed (None: drained), kept by sites/centre.py in memory.
        self._pollers, self._dropped = pollers, dropped
        self._oldest, self._commands, self._now = oldest, commands, now

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
        oldest = GaugeMetricFamily(
            "monitord_poller_oldest_unacked_seconds",
            "Age of the site poller's oldest journal entry not yet acknowledged (0: drained)",
            labels=["poller"],
        )
        pending = GaugeMetricFamily(
            "monitord_poller_commands_pending",
            "Commands (probe, discover) given to the site poller and not finished yet",
            labels=["poller"],
        )
        outcomes = CounterMetricFamily(
            "monitord_poller_commands",
            "Commands to the site poller by outcome: delivered (accepted), failed (it said "
            "so), not_delivered (not accepted in time), timeout (no result in time)",
            labels=["poller", "outcome"],
        )
        ages, now = self._oldest(), self._now()
        waiting = self._commands.pending() if self._commands else None
        counts = self._commands.counts if self._commands else None
        for p in self._pollers():
            if not p.active:
                continue
            if p.id in ages:
                at = ages[p.id]
                oldest.add_metric(
                    [p.id], 0.0 if at is None else max(0.0, (now - at).total_seconds())
                )
            if waiting is not None and counts is not None:
                pending.add_metric([p.id], waiting.get(p.id, 0))
                for outcome in OUTCOMES:
                    outcomes.add_metric([p.id, outcome], counts.get((p.id, outcome), 0))
            if p.last_seen is not None:
                seen.add_metric([p.id], p.last_seen.timestamp())
            if p.backlog is not None:
                backlog.add_metric([p.id], p.backlog)
            if p.clock_offset is not None:
                offset.add_metric([p.id], p.clock_offset)
            silent.add_metric([p.id], 1 if p.silent else 0)
        yield from (seen, backlog, offset, silent, lost, oldest)
        if self._commands is not None:
            yield from (pending, outcomes)
