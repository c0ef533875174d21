"""ONVIF metrics, read from the live findings at scrape time, and the call histogram.

Series are bounded: per device one per check (events and NVR channels capped in the
watch), labelled by device id, site and kind, and an NVR channel by its recording token
(never an address, a URI or a credential).
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from monitord.checks.onvif.watch import OnvifWatch
from monitord.metrics.exposition import gauge
from monitord.metrics.findings import BASE, finding_rows, status_family


class OnvifCollector(Collector):
    def __init__(self, watch: OnvifWatch) -> None:
        self._watch = watch

    def collect(self) -> Iterator[Metric]:
        # ~90 000 series at 10 000 cameras.
        w = self._watch
        rows = finding_rows(w.devices, w.tracker)

        def values(check: str, key: str) -> Iterator[tuple[list[str], float]]:
            for base, found in rows:
                for name, f in found:
                    if name == check and key in f.values:
                        yield base, float(f.values[key])

        def recordings() -> Iterator[tuple[list[str], float]]:
            for base, found in rows:
                for name, f in found:
                    if name.startswith("recording:") and "recording" in f.values:
                        yield [*base, name[10:]], float(f.values["recording"])

        yield status_family(
            "monitord_onvif_finding_status",
            "Latest result of each ONVIF check: 0 ok, 1 warning, 2 critical, 3 unknown",
            rows,
        )
        yield gauge(
            "monitord_camera_stream_up",
            "1 if the camera's RTSP server described its first profile's stream, else 0",
            BASE,
            values("stream", "up"),
        )
        yield gauge(
            "monitord_onvif_clock_drift_seconds",
            "Device clock minus monitord's clock at the last check (positive: ahead)",
            BASE,
            values("clock", "drift_s"),
        )
        yield gauge(
            "monitord_nvr_channel_recording",
            "1 if the NVR channel records as configured (or is not meant to), 0 if not",
            [*BASE, "channel"],
            recordings(),
        )
        yield gauge(
            "monitord_onvif_auth_failures",
            "Consecutive checks whose credentials were rejected (each backs off further)",
            BASE,
            ((base, w.auth_failures.get(base[0], 0)) for base, _ in rows),
        )


def call_histogram(registry: CollectorRegistry) -> Histogram:
    """ONVIF call durations by operation (a closed set: the calls monitord makes) and
    outcome ("ok" or a failure reason)."""
    return Histogram(
        "monitord_onvif_call_duration_seconds",
        "Duration of ONVIF calls, by operation and outcome",
        ["operation", "outcome"],
        buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        registry=registry,
    )
