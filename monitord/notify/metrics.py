"""Outbox metrics, read at scrape time from the dispatcher's last pass (no DB per scrape).

Labelled by channel name only: never a recipient, a URL or a message text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.notify.dispatcher import Dispatcher
from monitord.store.outbox import STATES


class OutboxCollector(Collector):
    def __init__(self, dispatcher: Dispatcher, now: Callable[[], dt.datetime]) -> None:
        self._dispatcher, self._now = dispatcher, now

    def collect(self) -> Iterator[Metric]:
        counts, oldest = self._dispatcher.summary
        messages = GaugeMetricFamily(
            "monitord_outbox_messages",
            "Messages in the outbox by channel and state (pending, sending, sent, failed)",
            labels=["channel", "state"],
        )
        channels = sorted({c for c, _ in counts} | set(self._dispatcher.channels))
        for channel in channels:
            for state in STATES:
                messages.add_metric([channel, state], counts.get((channel, state), 0))
        yield messages
        age = GaugeMetricFamily(
            "monitord_outbox_oldest_pending_seconds",
            "Age of the oldest message not yet sent (0 when none is waiting)",
        )
        waited = 0.0 if oldest is None else (self._now() - oldest).total_seconds()
        age.add_metric([], max(0.0, waited))  # only held messages: none is late yet
        yield age
        unrouted = GaugeMetricFamily(
            "monitord_notify_contract_unrouted",
            "1 for a contract whose tickets notify nobody (no recipients configured)",
            labels=["contract"],
        )
        for contract in self._dispatcher.unrouted:
            unrouted.add_metric([contract], 1)
        yield unrouted
