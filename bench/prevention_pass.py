"""The daemon's preventive pass on a large fleet: inspections, follow-ups, warranty.

In-process against a real store (a SQLite file by default, `--database URL` for
PostgreSQL): N sites (half seed 000, accepted 2024-02-29, half seed 004), each with a
switch, an NVR, a door controller and `--cameras` cameras. Timed: the first pass (creates
this period's tasks), a steady pass (nothing to create), and a pass after a year of
downtime (every missed period created once). Reference measured in the same run: reading
the whole equipment archive back (`store.devices.all()`), the cheapest full read there is.

    .venv/bin/python bench/prevention_pass.py [--sites 500] [--cameras 20] [--database URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord import log
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.notify.messages import Routing
from monitord.prevention.service import PreventionService
from monitord.store import Store
from tests.support.prevention import contracts, sync


def fleet(sites: int, cameras: int) -> Config:
    site_rows: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    for i in range(sites):
        sid = f"s{i}"
        seed_000 = i % 2 == 0
        site_rows.append({"id": sid, "name": sid, "contract": "seed-000" if seed_000 else "seed-004",
                          **({"acceptance_date": "2024-02-29"} if seed_000 else {})})  # fmt: skip
        kinds = ["switch", "nvr", "access_controller"] + ["camera"] * cameras
        for j, kind in enumerate(kinds):
            devices.append({"id": f"{sid}-{j}", "name": f"{kind} {j}", "kind": kind,
                            "address": f"10.{i // 250}.{i % 250}.{j + 1}", "site": sid,
                            "warranty_end": f"2026-{1 + j % 12:02d}-15"})  # fmt: skip
    return Config.model_validate({"contracts": contracts(), "sites": site_rows, "devices": devices})


def timed(what: str, action: Any) -> Any:
    started = time.perf_counter()
    result = action()
    print(f"{what:<48} {time.perf_counter() - started:8.3f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=500)
    parser.add_argument("--cameras", type=int, default=20)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    log.configure("error", False)
    config = fleet(args.sites, args.cameras)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(args.database or f"sqlite:///{tmp}/bench.db")
        store.upgrade()
        start = dt.datetime(2026, 1, 15, 4, tzinfo=dt.UTC)
        sync(store, config, start)
        print(f"{args.sites} sites, {len(config.devices)} devices, {store.url_redacted}")
        timed("reference: read the equipment archive", store.devices.all)
        service = PreventionService(store, FakeClock(start), config, messages=Routing.from_config)
        timed("first pass (this period's tasks)", lambda: service.tick(start))
        timed("steady pass (nothing to create)", lambda: service.tick(start))
        later = start + dt.timedelta(days=365)
        board = timed("pass after a year of downtime", lambda: service.tick(later))
        tasks = store.inspections.tasks(limit=10_000_000)
        once = Counter((t.contract, t.site_id, t.kind, t.period) for t in tasks)
        print(f"tasks: {len(tasks)}, each period once: {set(once.values()) == {1}}; "
              f"overdue: {sum(c.inspections_overdue for c in board.sites.values())}; "
              f"warranty tickets: {len([t for t in store.tickets.recent() if t.fault_kind == 'warranty'])}")  # fmt: skip
        store.close()


if __name__ == "__main__":
    main()
