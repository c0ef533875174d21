"""/metrics, written as it is made: a family at a time, large families in slices.

prometheus_client's server builds the whole answer before the first byte: every sample of
every family as an object, then every line, then one string. At 10 000 devices that is
~190 000 samples, and one scrape took ~60 MB of small objects at once; their arenas stayed
resident afterwards (bench/fleet.py: RSS 188 -> 242 MB at the first scrape, for good). Here
each family is formatted by prometheus_client's own encoders (the format the scraper asked
for, OpenMetrics or text) `_SLICE` samples at a time and sent as an HTTP/1.1 chunk, gzipped
when asked. The collectors of per-device series hand their samples over lazily (`gauge`),
so a scrape holds one slice, not the fleet.

A collector that fails mid-answer ends the connection without the closing chunk (and,
for OpenMetrics, without `# EOF`): the scraper sees a broken answer, never a partial one.
"""

from __future__ import annotations

import socket
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from typing import Final
from urllib.parse import urlsplit

from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from monitord import log

_log = log.get("monitord.metrics")
_SLICE: Final = 2000
_EOF: Final = b"# EOF\n"  # OpenMetrics' last line, written once after every family
_OPENMETRICS: Final = "application/openmetrics-text"


def gauge(
    name: str,
    documentation: str,
    labels: Sequence[str],
    values: Iterable[tuple[Sequence[str], float]],
) -> Metric:
    """A gauge family whose samples are made while they are written: `values` (label
    values, value) is read once, by the scrape."""
    metric = Metric(name, documentation, "gauge")
    # prometheus_client reads `samples` only by iterating it, once per collect().
    metric.samples = (Sample(name, dict(zip(labels, v, strict=True)), x) for v, x in values)  # type: ignore[assignment]
    return metric


class _One(Collector):
    def __init__(self, metric: Metric) -> None:
        self._metric = metric

    def collect(self) -> Iterator[Metric]:
        yield self._metric


def chunks(registry: Collector, accept: str) -> tuple[str, Iterator[bytes]]:
    """The content type for this Accept header, and the answer in pieces."""
    encoder, content_type = choose_encoder(accept)
    openmetrics = content_type.startswith(_OPENMETRICS)

    def pieces() -> Iterator[bytes]:
        for metric in registry.collect():
            # Only a gauge is sliced: a counter's or histogram's `_created` and `_gsum`
            # lines are gathered at the end of what one encoder call writes.
            parts = _slices(metric.samples) if metric.type == "gauge" else [list(metric.samples)]
            for n, part in enumerate(parts):
                piece = Metric(metric.name, metric.documentation, metric.type, metric.unit)
                piece.samples = part
                text = encoder(_One(piece))
                if openmetrics and text.endswith(_EOF):
                    text = text[: -len(_EOF)]
                yield _without_header(text) if n else text
        if openmetrics:
            yield _EOF

    return content_type, pieces()


def _slices(samples: Iterable[Sample]) -> Iterator[list[Sample]]:
    """`_SLICE` samples at a time; at least one slice, so an empty family keeps its header."""
    rest = iter(samples)
    part = list(islice(rest, _SLICE))
    yield part
    while part := list(islice(rest, _SLICE)):
        yield part


def _without_header(text: bytes) -> bytes:
    """A slice after the first: its family's `# HELP`/`# TYPE`/`# UNIT` lines are sent."""
    start = 0
    while text.startswith(b"# ", start):
        start = text.index(b"\n", start) + 1
    return text[start:]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # chunked: a broken answer is told from a whole one
    server: _Server

    def do_GET(self) -> None:
        if urlsplit(self.path).path not in ("/", "/metrics"):
            self.send_error(404)
            return
        content_type, body = chunks(self.server.registry, self.headers.get("Accept", ""))
        zipped = "gzip" in self.headers.get("Accept-Encoding", "")
        pack = zlib.compressobj(6, zlib.DEFLATED, 31) if zipped else None  # 31: gzip
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        if pack is not None:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        try:
            for data in body:
                self._chunk(pack.compress(data) if pack is not None else data)
            if pack is not None:
                self._chunk(pack.flush())
        except ConnectionError:  # the scraper gave up (its timeout): nothing to tell
            self.close_connection = True
            return
        except Exception as exc:  # noqa: BLE001 - a collector's bug: this scrape fails
            _log.error("metrics scrape failed", error=repr(exc))
            self.close_connection = True
            return
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%X\r\n%b\r\n" % (len(data), data))

    def log_message(self, format: str, *args: object) -> None:
        pass  # a scrape every 15 s is not news


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, listen: str, port: int, registry: Collector) -> None:
        family, _, _, _, address = socket.getaddrinfo(
            listen, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        self.address_family = family
        self.registry = registry
        super().__init__((str(address[0]), port), _Handler)


def serve(
    listen: str, port: int, registry: Collector
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve /metrics on `listen`:`port` (0: any free port) from a thread."""
    server = _Server(listen, port, registry)
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()
    return server, thread
