"""/metrics is written as it is made (monitord/metrics/exposition.py): over a real socket, the same
bytes prometheus_client's own encoders write for the whole registry, in the format the
scraper asks for, gzipped when asked; a scrape that fails midway is a broken answer."""

from __future__ import annotations

import gzip
import http.client
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import Collector
from structlog.testing import capture_logs

from monitord.metrics.exposition import gauge, serve

DEVICES = 4500  # more than two slices of one family


class Devices(Collector):
    def collect(self) -> Iterator[Metric]:
        yield gauge(
            "lab_device_up",
            "1 if up",
            ["device", "site"],
            (([f"cam{i}", f"site{i % 7}"], float(i % 2)) for i in range(DEVICES)),
        )
        yield gauge("lab_empty", "no series yet", ["device"], iter(()))


def registry() -> CollectorRegistry:
    reg = CollectorRegistry()
    reg.register(Devices())
    Counter("lab_checks", "checks made", ["kind"], registry=reg).labels("icmp").inc(3)
    Histogram("lab_lag_seconds", "lag", buckets=(0.1, 1), registry=reg).observe(0.5)
    return reg


def fetch(port: int, path: str = "/metrics", **headers: str) -> tuple[str, str, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return (
            answer.headers["Content-Type"],
            answer.headers.get("Content-Encoding", ""),
            answer.read(),
        )


SERVED = registry()  # one registry: its counters' `_created` times are the same in both


@pytest.fixture
def port() -> Iterator[int]:
    server, thread = serve("127.0.0.1", 0, SERVED)
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(timeout=2)


def test_the_text_format_is_what_prometheus_client_writes(port: int) -> None:
    content_type, encoding, body = fetch(port)
    assert content_type.startswith("text/plain; version=0.0.4")
    assert encoding == ""
    assert body == generate_latest(SERVED)
    assert body.count(b"# TYPE lab_device_up gauge") == 1  # one header for all slices
    assert body.count(b"lab_device_up{") == DEVICES


def test_openmetrics_when_asked_with_one_eof(port: int) -> None:
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    content_type, _, body = fetch(port, Accept=accept)
    assert content_type.startswith("application/openmetrics-text")
    assert body == openmetrics_latest(SERVED)
    assert body.count(b"# EOF") == 1 and body.endswith(b"# EOF\n")


def test_gzipped_when_asked(port: int) -> None:
    _, encoding, body = fetch(port, **{"Accept-Encoding": "gzip"})
    assert encoding == "gzip"
    assert gzip.decompress(body) == generate_latest(SERVED)


def test_other_paths_are_not_found(port: int) -> None:
    with pytest.raises(urllib.error.HTTPError) as missing:
        fetch(port, "/secrets")
    assert missing.value.code == 404
    assert fetch(port, "/")[2] == generate_latest(SERVED)


class Failing(Collector):
    def collect(self) -> Iterator[Metric]:
        def values() -> Iterator[tuple[list[str], float]]:
            for i in range(3000):
                if i == 2500:
                    raise RuntimeError("a collector's bug")
                yield [f"cam{i}"], 1.0

        yield gauge("lab_failing", "fails midway", ["device"], values())


def test_a_scrape_that_fails_midway_is_a_broken_answer_not_a_short_one() -> None:
    reg = CollectorRegistry()
    reg.register(Failing())
    server, thread = serve("127.0.0.1", 0, reg)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/metrics")
        with (
            capture_logs() as logs,
            urllib.request.urlopen(request, timeout=10) as answer,
            pytest.raises(http.client.IncompleteRead),
        ):
            answer.read()
        assert [e["event"] for e in logs] == ["metrics scrape failed"]
        assert "a collector's bug" in logs[0]["error"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


def test_an_ipv6_listener() -> None:
    server, thread = serve("::1", 0, SERVED)
    try:
        request = urllib.request.Request(f"http://[::1]:{server.server_port}/metrics")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read() == generate_latest(SERVED)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)


class Watched(Collector):
    """Many series; says when the scrape has stopped reading them."""

    def __init__(self) -> None:
        self.done = threading.Event()

    def collect(self) -> Iterator[Metric]:
        def values() -> Iterator[tuple[list[str], float]]:
            try:
                for i in range(200_000):
                    yield [f"cam{i}"], 1.0
            finally:
                self.done.set()

        yield gauge("lab_many", "many series", ["device"], values())


def test_a_scraper_that_hangs_up_midway_is_not_an_error() -> None:
    reg, watched = CollectorRegistry(), Watched()
    reg.register(watched)
    server, thread = serve("127.0.0.1", 0, reg)
    try:
        with capture_logs() as logs:
            with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as s:
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: lab\r\n\r\n")
                assert s.recv(4096).startswith(b"HTTP/1.1 200")
            assert watched.done.wait(10), "the scrape went on after the scraper left"
        assert not [e for e in logs if e["log_level"] == "error"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2)
