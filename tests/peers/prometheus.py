"""A real Prometheus (Debian's /usr/bin/prometheus) on 127.0.0.1 for tests.

It gets a temporary configuration and storage directory, scrapes one target every second,
evaluates the given rule files every second, and is stopped (then killed if it lingers)
by the context manager.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tests.support.daemon import free_port

T = TypeVar("T")
PROMETHEUS = shutil.which("prometheus")


@dataclass(frozen=True)
class Prometheus:
    url: str
    log: Path

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=10) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result


def wait_until(what: str, probe: Callable[[], T | None], timeout: float, log: Path) -> T:
    """Poll `probe` until it returns something truthy; fail with Prometheus' log after."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = probe()
        except OSError as exc:  # not listening yet, or a query failed on the way
            last, found = exc, None
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout}s (last error {last!r})\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


@contextmanager
def running_prometheus(
    workdir: Path, target: str, rule_files: Sequence[Path] = ()
) -> Iterator[Prometheus]:
    assert PROMETHEUS is not None, "prometheus is not installed (Debian package prometheus)"
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in rule_files],
        "scrape_configs": [
            {"job_name": "monitord", "static_configs": [{"targets": [target]}]},
        ],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = workdir / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                PROMETHEUS,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    prometheus = Prometheus(f"http://127.0.0.1:{port}", log)
    try:
        wait_until("Prometheus ready", lambda: _ready(prometheus.url, proc, log), 60, log)
        yield prometheus
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> bool:
    if proc.poll() is not None:
        raise AssertionError(f"prometheus exited with {proc.returncode}:\n{_tail(log)}")
    with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:
        return bool(r.status == 200)
