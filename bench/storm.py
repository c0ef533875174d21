"""A storm of faults: 200 switches die at once, each taking ~24 cameras with it.

In-process, not the daemon: the real ticket path without the pings. A HealthTracker holds
5 000 devices (200 switches x 24 cameras, spread over 20 sites with the seed 000 contract);
the storm sets the switches HARD DOWN and their cameras UNREACHABLE, and every transition
goes through what `Fleet.check` does after a ping: `Recorder.record` (the state change,
one transaction) then `TicketDesk.on_transition`, all of them concurrently as the scheduler
would run them, against a real store (a SQLite file by default, `--database URL` for
PostgreSQL). The clock starts at the last HARD state and stops when the last ticket
transaction has committed; then the store is read back: one active ticket per switch, each
with its 25 devices, and no duplicate dedup key.

    .venv/bin/python bench/storm.py [--switches 200] [--cameras 24] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord import log
from monitord.clock import SystemClock
from monitord.config import Config
from monitord.config.load import load
from monitord.health.recorder import Recorder
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.store import Store
from monitord.ticketing.desk import TicketDesk

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0  # issue 15: a storm of 200 roots, last ticket within a second
SITES = 20


def write_config(directory: Path, switches: int, cameras: int, database: str) -> Path:
    sites = [{"id": f"s{n:02d}", "name": f"Site {n}", "contract": "seed-000"} for n in range(SITES)]
    devices: list[dict[str, Any]] = []
    for s in range(switches):
        switch = f"sw-{s:03d}"
        site = f"s{s % SITES:02d}"
        devices.append(
            {"id": switch, "name": switch, "kind": "switch", "site": site,
             "address": f"127.1.{s // 250}.{s % 250 + 1}"}
        )  # fmt: skip
        for c in range(cameras):
            n = s * cameras + c
            devices.append(
                {"id": f"{switch}-cam-{c:02d}", "name": f"cam {n}", "kind": "camera",
                 "site": site, "address": f"127.2.{n // 250}.{n % 250 + 1}",
                 "parents": [switch]}
            )  # fmt: skip
    config = {
        "state_dir": str(directory / "state"),
        "database": database,
        "include": [str(REPO / "config" / "contracts" / "*.yaml")],
        "sites": sites,
        "devices": devices,
    }
    path = directory / "monitord.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def storm(config: Config, store: Store) -> dict[str, float]:
    clock = SystemClock()
    store.upgrade()
    store.devices.sync(
        site_records(config), [device_record(d) for d in config.devices], clock.now()
    )
    settings = {d.id: config.icmp_for(d) for d in config.devices}
    tracker = HealthTracker(settings, topology(config), config.flapping)
    before = clock.now() - dt.timedelta(minutes=5)
    for device in config.devices:
        tracker.restore(device.id, State.UP, before)
    recorder = Recorder(store, clock)
    desk = TicketDesk(store, clock, config, messages=Routing.from_config)
    gate = asyncio.Semaphore(config.max_in_flight)  # the scheduler's bound on checks

    async def after_ping(t: Transition) -> None:  # what Fleet.check does with news
        async with gate:
            await recorder.record(t)
            await desk.on_transition(t, tracker)

    def go(device: str, state: State, reason: str) -> asyncio.Task[None]:
        health = tracker.devices[device]
        at = clock.now()
        t = Transition(device, at, health.state, state, reason, {"check": "down"})
        health.state, health.since = state, at
        return asyncio.create_task(after_ping(t))

    switches = [d.id for d in config.devices if d.kind.value == "switch"]
    tasks = [go(s, State.DOWN, "ICMP: no reply") for s in switches]
    # Cameras are confirmed UNREACHABLE while the desk is busy with the switches.
    for s in switches:
        for camera in tracker.topology.children.get(s, ()):
            tasks.append(go(camera, State.UNREACHABLE, f"all parents down: {s}"))
            await asyncio.sleep(0)
    last_hard = time.perf_counter()
    await asyncio.gather(*tasks)
    done = time.perf_counter()
    return {"seconds": done - last_hard, "transitions": len(tasks)}


def check(store: Store, switches: int, cameras: int) -> tuple[int, int, int]:
    """(active tickets, duplicate dedup keys, tickets whose impact is incomplete)."""
    active = [t for t in store.tickets.recent(None, None, 100_000) if t.status != "closed"]
    keys = Counter(t.dedup_key for t in active)
    duplicates = sum(n - 1 for n in keys.values())
    incomplete = sum(1 for t in active if len(t.impacted) != cameras + 1)
    roots = {t.root_device for t in active}
    if len(roots) != switches:
        incomplete += switches - len(roots & {f"sw-{s:03d}" for s in range(switches)})
    return len(active), duplicates, incomplete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=200, help="roots failing at once")
    parser.add_argument("--cameras", type=int, default=24, help="cameras behind each switch")
    parser.add_argument("--database", default=None, help="URL; default a fresh SQLite file")
    args = parser.parse_args()
    log.configure("error", stream=sys.stderr)  # the storm's own warnings would swamp it
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{tmp}/storm.db"
        config = load(write_config(Path(tmp), args.switches, args.cameras, url))
        store = Store.open(url)
        try:
            figures = asyncio.run(storm(config, store))
            active, duplicates, incomplete = check(store, args.switches, args.cameras)
        finally:
            store.close()
    seconds = figures["seconds"]
    print(
        "storm (in-process: HealthTracker states set by the bench, then Recorder.record + "
        "TicketDesk.on_transition per transition, as Fleet.check does; no pings)"
    )
    print(
        f"devices: {len(config.devices)}  roots failing at once: {args.switches}  "
        f"transitions: {figures['transitions']:.0f}  store: {store.url_redacted}"
    )
    print(
        f"last HARD state -> last ticket committed: {seconds:.2f}s  "
        f"(target <= {TARGET_SECONDS:g}s)  tickets/s: {active / seconds:.0f}"
    )
    print(
        f"active tickets: {active}  duplicates: {duplicates} (target 0)  "
        f"incomplete impact: {incomplete} (target 0)"
    )
    if duplicates or incomplete or active != args.switches:
        sys.exit(1)


if __name__ == "__main__":
    main()
