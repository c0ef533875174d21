"""Ticket metrics, read at scrape time from the desk's last clock pass (no DB per scrape)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.ticketing.desk import TicketDesk


class TicketCollector(Collector):
    def __init__(self, desk: TicketDesk[Any]) -> None:
        self._desk = desk

    def collect(self) -> Iterator[Metric]:
        board = self._desk.board
        open_ = GaugeMetricFamily(
            "monitord_tickets_open",
            "Tickets not yet closed",
            labels=["contract", "class", "status"],
        )
        counts = Counter((t.contract, t.ticket_class or "hotline", t.status) for t in board.tickets)
        for (contract, cls, status), n in sorted(counts.items()):
            open_.add_metric([contract, cls, status], n)
        nearest = GaugeMetricFamily(
            "monitord_ticket_next_deadline_seconds",
            "Seconds from the last clock pass to a ticket's nearest unmet deadline "
            "(negative: breached)",
            labels=["ticket", "contract", "class"],
        )
        for t in board.tickets:
            due = board.next_due.get(t.id)
            if due is not None:
                nearest.add_metric(
                    [str(t.id), t.contract, t.ticket_class or "hotline"],
                    (due - board.at).total_seconds(),
                )
        breaches = CounterMetricFamily(
            "monitord_sla_breaches", "SLA deadlines breached since start"
        )
        breaches.add_metric([], self._desk.breaches)
        yield from (open_, nearest, breaches)
