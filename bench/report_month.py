"""The monthly report over a large fleet: how long `report monthly` takes to compute.

A SQLite file (or `--database URL`) holds a month of history for 5 000 devices over 20
sites: each device goes down and up `--flaps` times (two operation-record entries each),
and `--tickets` tickets are opened by hand, acknowledged and resolved. The report is built
(figures only, then also rendered to HTML) and timed beside a reference measured in the
same run: reading the same rows the report needs (the month's state changes, the tickets
and their logs) without computing anything. The difference is the report's own work.

    .venv/bin/python bench/report_month.py [--devices 5000] [--flaps 4] [--tickets 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord import log
from monitord.config import Config
from monitord.config.contracts import Contract
from monitord.inventory.archive import device_record, site_records
from monitord.reports import html, monthly, monthly_view, period
from monitord.reports.sources import NoTasks, NoWindows
from monitord.store import Store
from monitord.store.records import OperationEvent, SavedState
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.support.contracts import CONTRACTS

M0 = dt.datetime(2026, 5, 31, 16, tzinfo=dt.UTC)


def fleet(n: int) -> Config:
    import yaml

    contract = yaml.safe_load((CONTRACTS / "seed-000.yaml").read_text(encoding="utf-8"))
    sites = [{"id": f"s{i:02d}", "name": f"site {i}", "contract": "seed-000"} for i in range(20)]
    devices = [
        {"id": f"d{i:05d}", "name": f"cam {i}", "kind": "camera", "site": f"s{i % 20:02d}",
         "address": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"}
        for i in range(n)
    ]  # fmt: skip
    return Config.model_validate(
        {"contracts": contract["contracts"], "sites": sites, "devices": devices}
    )


def seed(store: Store, config: Config, flaps: int, n_tickets: int) -> None:
    rng = random.Random(7)
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], M0 - dt.timedelta(1)
    )
    changes = []
    for d in config.devices:
        start = M0 - dt.timedelta(days=1)
        changes.append(_change(d.id, start, "pending", "up"))
        for _ in range(flaps):
            down = M0 + dt.timedelta(minutes=rng.randrange(0, 29 * 24 * 60))
            changes.append(_change(d.id, down, "up", "down"))
            changes.append(_change(d.id, down + dt.timedelta(minutes=rng.randrange(5, 600)),
                                   "down", "up"))  # fmt: skip
    changes.sort(key=lambda c: c[0].at)
    for i in range(0, len(changes), 5000):
        store.states.record_changes(changes[i : i + 5000])
    contract: Contract = config.contracts[0]
    for i in range(n_tickets):
        opened = M0 + dt.timedelta(minutes=rng.randrange(0, 29 * 24 * 60))
        t = tickets.open_hotline(store, contract, f"s{i % 20:02d}", f"desk-{i}", f"call {i}", opened,
                                 config.devices[i].id)  # fmt: skip
        tickets.append(store, t.id, EventKind.ACKNOWLEDGED, "li", opened + dt.timedelta(minutes=20))
        tickets.append(store, t.id, EventKind.RESOLVED, "li", opened + dt.timedelta(hours=30))


def _change(device: str, at: dt.datetime, old: str, new: str) -> tuple[OperationEvent, SavedState]:
    return OperationEvent(device, at, "state", old, new, "bench"), SavedState(
        device, new, at, at, "bench"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--flaps", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    log.configure("warning", json=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.open(url)
        store.upgrade()
        config = fleet(args.devices)
        began = time.perf_counter()
        seed(store, config, args.flaps, args.tickets)
        print(f"seeded {args.devices} devices, {args.devices * args.flaps * 2} state changes, "
              f"{args.tickets} tickets in {time.perf_counter() - began:.1f} s")  # fmt: skip
        span = period.month("2026-06", "Asia/Shanghai", M0 + dt.timedelta(days=40))
        ids = [d.id for d in config.devices]

        began = time.perf_counter()
        store.history.states_before(ids, span.start)
        store.history.operation_events(ids, span.start, span.end, ("state",))
        opened = store.history.tickets_opened(span.start, span.end, "seed-000")
        store.history.ticket_logs([t.id for t in opened])
        store.devices.all()
        reference = time.perf_counter() - began

        began = time.perf_counter()
        report = monthly.build(store, config.contracts[0], span, "zh", NoWindows(), NoTasks())
        figures = time.perf_counter() - began
        began = time.perf_counter()
        page = html.render(monthly_view.document(report, span.end))
        rendering = time.perf_counter() - began
        store.close()
    print(f"reference: reading the rows the report needs   {reference:6.2f} s")
    print(f"report figures (read + compute)                 {figures:6.2f} s "
          f"({figures / reference:.1f}x the reference)")  # fmt: skip
    print(f"HTML rendering ({len(page) / 1e6:.1f} MB)                    {rendering:6.2f} s")
    print(f"tickets {report.tickets.total}, availability {report.overall.availability:.4%}")


if __name__ == "__main__":
    main()
