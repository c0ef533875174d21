"""One /metrics scrape at fleet size: time and the memory it takes at once, streamed
(monitord/metrics/exposition.py, the daemon's server) beside prometheus_client's own server, for the
same series, in the same run.

The fleet's per-device series come from the daemon's FleetCollector over --devices devices
(10 per device: up, 6 states, RTT, loss, last check), plus --findings per device of an
ONVIF-like status family (the camera findings). The reference serves the same samples built
eagerly in GaugeMetricFamily (how the collectors built them before) through
prometheus_client's start_http_server. Each side is scraped over loopback --rounds times;
printed: bytes, median scrape time, and the peak of traced Python memory during one scrape
above what was traced before it (the server's thread and this client's copy of the answer,
the same on both sides; tracemalloc, so times under it are not compared).

    .venv/bin/python bench/metrics_scrape.py [--devices 10000] [--findings 6] [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitord.checks.icmp.evaluate import Outcome
from monitord.checks.icmp.metrics import DeviceLabels, FleetCollector
from monitord.health.states import State
from monitord.health.tracker import DeviceHealth
from monitord.metrics.exposition import gauge, serve

CHECKS = ("onvif", "onvif_auth", "addresses", "clock", "stream", "archive", "recording")


class Fleet:
    def __init__(self, n: int) -> None:
        at = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
        seen = Outcome(State.UP, "", 3, 3, 0.0, 0.3, 0.4, 0.5)
        self.rows = [
            (
                DeviceLabels(f"s{i // 250}-cam{i}", f"s{i // 250}", "camera"),
                DeviceHealth(State.UP, since=at, last_check=at, last=seen),
            )
            for i in range(n)
        ]

    def device_rows(self) -> Iterable[tuple[DeviceLabels, DeviceHealth]]:
        return self.rows

    def remote_sites(self) -> frozenset[str]:
        return frozenset()


def findings(fleet: Fleet, per: int) -> Iterator[tuple[list[str], float]]:
    for row, _ in fleet.rows:
        for check in CHECKS[:per]:
            yield [row.device, row.site, row.kind, check], 0.0


NAME, HELP, LABELS = (
    "monitord_onvif_finding_status",
    "Latest result",
    ["device", "site", "kind", "check"],
)


class Streamed(Collector):
    def __init__(self, fleet: Fleet, per: int) -> None:
        self._icmp, self._fleet, self._per = FleetCollector(fleet, lambda: 0), fleet, per

    def collect(self) -> Iterator[Metric]:
        yield from self._icmp.collect()
        yield gauge(NAME, HELP, LABELS, findings(self._fleet, self._per))


class Eager(Collector):
    """The same samples, each family whole before the first is written."""

    def __init__(self, fleet: Fleet, per: int) -> None:
        self._streamed = Streamed(fleet, per)

    def collect(self) -> Iterator[Metric]:
        built = []
        for metric in self._streamed.collect():
            whole = GaugeMetricFamily(metric.name, metric.documentation, labels=[])
            whole.samples = list(metric.samples)
            built.append(whole)
        yield from built


def scrape(port: int) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    with urllib.request.urlopen(request, timeout=60) as answer:
        data: bytes = answer.read()
    return data


def measure(name: str, port: int, rounds: int) -> bytes:
    times, body = [], b""
    for _ in range(rounds):
        started = time.perf_counter()
        body = scrape(port)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    scrape(port)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    lines = body.count(b"\n")
    print(f"{name}: {len(body) / 1e6:.1f} MB, {lines} lines; scrape median "
          f"{statistics.median(times):.2f} s (min {min(times):.2f}); peak traced during one "
          f"scrape {peak / 1e6:.1f} MB", flush=True)  # fmt: skip
    return body


def run(make: Callable[[CollectorRegistry], tuple[int, Callable[[], None]]], name: str,
        collector: Collector, rounds: int) -> bytes:  # fmt: skip
    registry = CollectorRegistry()
    registry.register(collector)
    port, stop = make(registry)
    try:
        return measure(name, port, rounds)
    finally:
        stop()


def streamed_server(registry: CollectorRegistry) -> tuple[int, Callable[[], None]]:
    server, thread = serve("127.0.0.1", 0, registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)

    return server.server_port, stop


def library_server(registry: CollectorRegistry) -> tuple[int, Callable[[], None]]:
    server, thread = start_http_server(0, "127.0.0.1", registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)

    return server.server_port, stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--findings", type=int, default=6, choices=range(len(CHECKS) + 1))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    fleet = Fleet(args.devices)
    print(f"metrics scrape: {args.devices} devices, 10 ICMP + {args.findings} finding series "
          f"each; {args.rounds} rounds per side, alternated", flush=True)  # fmt: skip
    for _ in range(2):
        ours = run(streamed_server, "streamed (metrics/exposition.py)", Streamed(fleet, args.findings),
                   args.rounds)  # fmt: skip
        theirs = run(library_server, "reference: prometheus_client's server, eager families",
                     Eager(fleet, args.findings), args.rounds)  # fmt: skip
        print(f"same bytes: {ours == theirs}", flush=True)


if __name__ == "__main__":
    main()
