"""Inspection, follow-up and warranty metrics per site, read at scrape time from the last
preventive pass (no DB per scrape)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.prevention.service import PreventionService

_GAUGES = (
    ("inspections_due", "Inspection tasks open and not yet past due"),
    ("inspections_overdue", "Inspection tasks past due and not completed"),
    ("followups_due", "Follow-up windows running without their visit yet"),
    ("followups_overdue", "Follow-up windows that ended without a visit"),
    ("warranty_expiring", "Devices whose warranty ends within the configured horizon"),
)


class TaskCollector(Collector):
    def __init__(self, service: PreventionService) -> None:
        self._service = service

    def collect(self) -> Iterator[Metric]:
        board = self._service.board
        for attr, help_text in _GAUGES:
            family = GaugeMetricFamily(f"monitord_{attr}", help_text, labels=["contract", "site"])
            for (contract, site), counts in sorted(board.sites.items()):
                family.add_metric([contract, site], getattr(counts, attr))
            yield family
        failed = CounterMetricFamily(
            "monitord_prevention_passes_failed", "Preventive passes that failed (store errors)"
        )
        failed.add_metric([], self._service.passes_failed)
        yield failed
