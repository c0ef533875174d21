"""Early warnings at fleet scale: one hourly pass over a week of rolled-up history.

Seeds a store (a SQLite file by default, `--database URL` for PostgreSQL) with 7 days of
hourly rows: ICMP loss and RTT for every camera and two disk volumes per NVR (one of them
filling), then times `EarlyWarningDesk.evaluate` (the regression sums come from one grouped
query per metric and window). Reference, measured in the same run: reading the same rows
one by one, which a pass fitting in Python would have to do. Also prints the cost of
`HistoryRecorder.add` per sample beside a bare dict update.

    .venv/bin/python bench/early_warnings.py [--cameras 5000] [--nvrs 200] [--database URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord.clock import SystemClock
from monitord.config import Config
from monitord.inventory.archive import device_record, site_records
from monitord.notify.messages import Routing
from monitord.prevention import history as H
from monitord.prevention.history import HistoryRecorder, hour_of
from monitord.prevention.warnings import EarlyWarningDesk
from monitord.store import Store
from monitord.store.records import MetricHour

DAYS = 7


def config(cameras: int, nvrs: int) -> Config:
    devices = [
        {"id": f"cam-{i}", "name": f"cam {i}", "kind": "camera", "site": "s1",
         "address": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"}
        for i in range(cameras)
    ] + [
        {"id": f"nvr-{i}", "name": f"nvr {i}", "kind": "nvr", "site": "s1",
         "address": f"11.0.{i // 256}.{i % 256}"}
        for i in range(nvrs)
    ]  # fmt: skip
    return Config.model_validate({"sites": [{"id": "s1", "name": "Site"}], "devices": devices})


def seed(store: Store, cameras: int, nvrs: int, now: dt.datetime) -> int:
    last = hour_of(now) - 1
    rows: list[MetricHour] = []
    count = 0
    for h in range(last - DAYS * 24 + 1, last + 1):
        for i in range(cameras):
            loss = (i * 7 + h) % 3
            rows.append(MetricHour(f"cam-{i}", H.LOSS, "", h, 6, 6.0 * loss, 0, loss * 2))
            rows.append(MetricHour(f"cam-{i}", H.RTT, "", h, 6, 6.0 * (20 + h % 5), 18, 30))
        for i in range(nvrs):
            filling = 0.80 + 0.02 * (h - last + DAYS * 24) / 24
            rows.append(MetricHour(f"nvr-{i}", H.DISK, "31", h, 6, 6 * filling, filling, filling))
            rows.append(MetricHour(f"nvr-{i}", H.DISK, "32", h, 6, 6 * 0.5, 0.5, 0.5))
        if len(rows) > 20_000:
            store.metric_history.add(rows)
            count += len(rows)
            rows = []
    store.metric_history.add(rows)
    return count + len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=5000)
    parser.add_argument("--nvrs", type=int, default=200)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.db"
        store = Store.open(url)
        store.upgrade()
        cfg = config(args.cameras, args.nvrs)
        now = dt.datetime.now(dt.UTC).replace(minute=30, second=0, microsecond=0)
        store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], now)
        started = time.perf_counter()
        rows = seed(store, args.cameras, args.nvrs, now)
        print(f"seeded {rows} hourly rows ({DAYS} days) in {time.perf_counter() - started:.1f} s")

        desk = EarlyWarningDesk(store, SystemClock(), cfg, messages=Routing.from_config)
        started = time.perf_counter()
        news = desk.evaluate(now)
        took = time.perf_counter() - started
        fire = sum(n.verdict == "fire" for n in news)
        print(f"evaluate: {took:.2f} s for {len(cfg.devices)} devices, {fire} firing "
              f"(expected {args.nvrs}), days_to_full series {len(desk.days_to_full)}")  # fmt: skip

        started = time.perf_counter()
        since = hour_of(now) - DAYS * 24
        with store._engine.connect() as conn:  # reference: every row, as a per-row fit reads
            read = sum(
                1
                for _ in conn.execute(
                    text(
                        "SELECT device_id, metric, subject, hour, n, total FROM metric_hours "
                        "WHERE hour >= :h"
                    ),
                    {"h": since},
                )
            )
        ref = time.perf_counter() - started
        print(f"reference: reading the {read} rows themselves: {ref:.2f} s "
              f"(evaluate / reference = {took / ref:.2f})")  # fmt: skip

        recorder = HistoryRecorder(store, dt.timedelta(days=35))
        n = 200_000
        started = time.perf_counter()
        for i in range(n):
            recorder.add(f"cam-{i % 5000}", H.RTT, "", 20.0, now)
        per_add = (time.perf_counter() - started) / n
        plain: dict[tuple[str, str, str, int], float] = {}
        started = time.perf_counter()
        for i in range(n):
            key = (f"cam-{i % 5000}", H.RTT, "", 0)
            plain[key] = plain.get(key, 0.0) + 20.0
        per_dict = (time.perf_counter() - started) / n
        print(f"HistoryRecorder.add: {per_add * 1e6:.2f} µs/sample; "
              f"reference dict update: {per_dict * 1e6:.2f} µs")  # fmt: skip
        store.close()


if __name__ == "__main__":
    main()
