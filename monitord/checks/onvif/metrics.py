"""ONVIF metrics, read from the live findings at scrape time, and the call histogram.

Series are bounded: per device one per check (events and NVR channels capped in the
watch), labelled by device id, site and kind, and an NVR channel by its recording token
(never an address, a URI or a credential).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.checks.onvif.watch import OnvifWatch
from monitord.health.findings import Status

_STATUS: Final = {Status.OK: 0, Status.WARNING: 1, Status.CRITICAL: 2, Status.UNKNOWN: 3}
_BASE: Final = ["device", "site", "kind"]


class OnvifCollector(Collector):
    def __init__(self, watch: OnvifWatch) -> None:
        self._watch = watch

    def collect(self) -> Iterator[Metric]:
        status = GaugeMetricFamily(
            "monitord_onvif_finding_status",
            "Latest result of each ONVIF check: 0 ok, 1 warning, 2 critical, 3 unknown",
            labels=[*_BASE, "check"],
        )
        stream = GaugeMetricFamily(
            "monitord_camera_stream_up",
            "1 if the camera's RTSP server described its first profile's stream, else 0",
            labels=_BASE,
        )
        drift = GaugeMetricFamily(
            "monitord_onvif_clock_drift_seconds",
            "Device clock minus monitord's clock at the last check (positive: ahead)",
            labels=_BASE,
        )
        recording = GaugeMetricFamily(
            "monitord_nvr_channel_recording",
            "1 if the NVR channel records as configured (or is not meant to), 0 if not",
            labels=[*_BASE, "channel"],
        )
        auth = GaugeMetricFamily(
            "monitord_onvif_auth_failures",
            "Consecutive checks whose credentials were rejected (each backs off further)",
            labels=_BASE,
        )
        w = self._watch
        for device_id, device in list(w.devices.items()):
            base = [device_id, device.site, device.kind.value]
            for check, f in w.tracker.current(device_id).items():
                status.add_metric([*base, check], _STATUS[f.status])
                if check == "stream" and "up" in f.values:
                    stream.add_metric(base, float(f.values["up"]))
                elif check == "clock" and "drift_s" in f.values:
                    drift.add_metric(base, float(f.values["drift_s"]))
                elif check.startswith("recording:") and "recording" in f.values:
                    recording.add_metric([*base, check[10:]], float(f.values["recording"]))
            auth.add_metric(base, w.auth_failures.get(device_id, 0))
        yield from (status, stream, drift, recording, auth)


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
