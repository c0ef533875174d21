"""The daemon runs the preventive pass: stopped in January, started again in April, it creates
each missed inspection period once and shows the backlog in /metrics."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import urllib.request
from collections import Counter
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from monitord.app import Daemon
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.store import Store
from tests.support.prevention import config_data


def _scrape(daemon: Daemon) -> dict[tuple[str, str], float]:
    url = f"http://127.0.0.1:{daemon.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    return {
        (s.name, s.labels.get("site", "")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith(("monitord_inspections", "monitord_followups"))
    }


async def _run_until(config: Config, at: dt.datetime, want: tuple[str, str], value: float) -> None:
    daemon = Daemon(Path("unused.yaml"), config, clock=FakeClock(at))
    ready = asyncio.Event()
    running = asyncio.create_task(daemon.run(ready.set))
    try:
        await asyncio.wait_for(ready.wait(), 20)
        deadline = time.monotonic() + 15
        while _scrape(daemon).get(want) != value:
            assert time.monotonic() < deadline, _scrape(daemon)
            await asyncio.sleep(0.05)
    finally:
        daemon.stop()
        await asyncio.wait_for(running, 10)


async def test_downtime_is_caught_up_once_by_the_daemon(tmp_path: Path) -> None:
    data = config_data(database=f"sqlite:///{tmp_path / 'm.db'}", state_dir=str(tmp_path),
                       metrics={"port": 0}, icmp={"enabled": False})  # fmt: skip
    config = Config.model_validate(data)
    january = dt.datetime(2026, 1, 15, 4, 0, tzinfo=dt.UTC)
    await _run_until(config, january, ("monitord_inspections_due", "b"), 2)
    april = dt.datetime(2026, 4, 10, 4, 0, tzinfo=dt.UTC)
    await _run_until(config, april, ("monitord_inspections_overdue", "b"), 4)
    await _run_until(config, april, ("monitord_inspections_overdue", "b"), 4)  # restart
    store = Store.open(config.database_url)
    try:
        found = Counter((t.site_id, t.kind, t.period) for t in store.inspections.tasks())
    finally:
        store.close()
    assert set(found.values()) == {1}
    nvr = sorted(p for s, k, p in found if (s, k) == ("b", "nvr"))
    assert nvr == ["2026-01", "2026-02", "2026-03", "2026-04"]
