"""The poller link's costs, each beside a reference from the same run (issue 14).

1. The site's journal: one durable append per HARD transition (WAL, synchronous=FULL, one
   commit each), against the same rows in one transaction; bytes per entry on disk.
2. The centre applying a replayed backlog over the HTTP route (in-process ASGI, batches of
   500, SQLite), against the store writing the same changes directly.
3. A configuration change reaching a long-polling poller (wire 1.1, `GET /config?wait=`,
   in-process ASGI): from `config_changed()` to the new configuration in the poller's hands,
   against a plain `GET /config` round trip. Target (issue 14): within 10 s.
4. A command reaching a connected poller (wire 1.2, sites/commands.py): from `submit()` to
   the order in the held long poll's answer, and to the poller's "accepted" at the centre.
   Target: within 2 s.

Run: .venv/bin/python bench/poller_link.py [--entries N] [--changes N]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from monitord.api import create_app
from monitord.clock import SystemClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.sites.centre import PollerCentre, _change
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.journal import Journal
from monitord.sites.routes import poller_router
from monitord.sites.wire import MAX_BATCH, PREFIX, WIRE, PushIn
from monitord.store import Store

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
DEVICES = 100


def transitions(n: int) -> list[Transition]:
    out = []
    for i in range(n):
        down = i % 2 == 0
        out.append(
            Transition(
                f"cam{i % DEVICES}",
                T0 + dt.timedelta(seconds=i),
                State.UP if down else State.DOWN,
                State.DOWN if down else State.UP,
                "ICMP: 3 of 3 echoes lost" if down else "ICMP: answers",
                {"loss_pct": 100.0 if down else 0.0, "rtt_ms": {"avg": 1.2}},
            )
        )
    return out


def journal(directory: Path, items: list[Transition]) -> None:
    j = Journal(directory / "journal.db")
    start = time.perf_counter()
    for t in items:
        j.append(t)
    took = time.perf_counter() - start
    j.close()
    size = sum(p.stat().st_size for p in directory.glob("journal.db*"))
    ref = sqlite3.connect(directory / "ref.db", isolation_level=None)
    ref.execute("PRAGMA journal_mode=WAL")
    ref.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, body TEXT)")
    start = time.perf_counter()
    ref.execute("BEGIN")
    ref.executemany("INSERT INTO entries (body) VALUES (?)", [(repr(t),) for t in items])
    ref.execute("COMMIT")
    floor = time.perf_counter() - start
    n = len(items)
    print(f"journal append, durable each   {took / n * 1e3:8.3f} ms/entry  {n / took:9.0f}/s")
    print(f"  reference: one transaction   {floor / n * 1e3:8.3f} ms/entry  {n / floor:9.0f}/s")
    print(f"  on disk                      {size / n:8.0f} bytes/entry (WAL included)")


def config() -> Config:
    return Config.model_validate(
        {
            "sites": [{"id": "north", "name": "North", "poller": "p"}],
            "devices": [
                {"id": f"cam{i}", "name": f"cam{i}", "kind": "camera",
                 "address": f"192.168.1.{i + 1}", "site": "north"}
                for i in range(DEVICES)
            ],
        }
    )  # fmt: skip


def fresh_store(directory: Path, name: str, cfg: Config) -> Store:
    store = Store.open(f"sqlite:///{directory / name}")
    store.upgrade()
    store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], T0)
    return store


async def centre(directory: Path, items: list[Transition]) -> None:
    cfg, clock = config(), SystemClock()
    store = fresh_store(directory, "centre.db", cfg)
    tracker = HealthTracker({d.id: cfg.icmp_for(d) for d in cfg.devices}, topology(cfg))
    link = PollerCentre(store, clock, lambda: cfg, tracker, None)
    app = create_app(store, lambda: cfg, clock, [poller_router(store, clock, link)])
    code = new_code()
    store.pollers.add_code("p", ["north"], code, clock.now(), CODE_VALID)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://c" + PREFIX
    ) as http:
        token = (await http.post("/enrol", json={"code": code})).json()["token"]
        j = Journal(directory / "replay.db")
        for t in items:
            j.append(t)
        entries = j.pending(len(items))
        start = time.perf_counter()
        for i in range(0, len(entries), MAX_BATCH):
            body = PushIn(
                sent_at=clock.now(), version="bench", entries=tuple(entries[i : i + MAX_BATCH])
            )
            r = await http.post("/push", content=body.model_dump_json(),
                                headers={"authorization": f"Bearer {token}"})  # fmt: skip
            assert r.status_code == 200, r.text
        took = time.perf_counter() - start
        assert r.json()["acked"] == len(entries)
    direct = fresh_store(directory, "direct.db", cfg)
    changes = [_change(e) for e in entries]
    start = time.perf_counter()
    for i in range(0, len(changes), MAX_BATCH):
        direct.states.record_changes(changes[i : i + MAX_BATCH])
    floor = time.perf_counter() - start
    n = len(entries)
    print(f"centre applies a backlog (HTTP){took / n * 1e3:8.3f} ms/entry  {n / took:9.0f}/s")
    print(f"  reference: store directly    {floor / n * 1e3:8.3f} ms/entry  {n / floor:9.0f}/s")


async def long_poll(directory: Path, changes: int) -> None:
    cfg, clock = config(), SystemClock()
    store = fresh_store(directory, "longpoll.db", cfg)
    tracker = HealthTracker({d.id: cfg.icmp_for(d) for d in cfg.devices}, topology(cfg))
    link = PollerCentre(store, clock, lambda: cfg, tracker, None)
    app = create_app(store, lambda: cfg, clock, [poller_router(store, clock, link)])
    code = new_code()
    store.pollers.add_code("p", ["north"], code, clock.now(), CODE_VALID)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://c" + PREFIX
    ) as http:
        token = (await http.post("/enrol", json={"code": code})).json()["token"]
        headers = {"authorization": f"Bearer {token}", WIRE: "1"}
        plain, delivered = [], []
        for i in range(changes):
            start = time.perf_counter()
            known = (await http.get("/config", headers=headers)).json()["revision"]
            plain.append(time.perf_counter() - start)
            waiting = asyncio.create_task(
                http.get("/config", params={"wait": known}, headers=headers)
            )
            for _ in range(10_000):  # until the centre holds it (bounded: 10 s)
                if link.waiting:
                    break
                await asyncio.sleep(0.001)
            renamed = cfg.devices[0].model_copy(update={"name": f"cam0 #{i}"})
            cfg = cfg.model_copy(update={"devices": (renamed, *cfg.devices[1:])})
            start = time.perf_counter()
            link.config_changed()
            r = await waiting
            delivered.append(time.perf_counter() - start)
            assert r.status_code == 200 and r.json()["revision"] != known
    delivered.sort()
    p50, top = statistics.median(delivered) * 1e3, delivered[-1] * 1e3
    print(f"change reaches a long poll       p50 {p50:7.2f} ms  max {top:7.2f} ms"
          f"  ({changes} changes; target 10 s)")  # fmt: skip
    print(f"  reference: plain GET /config   p50 {statistics.median(plain) * 1e3:7.2f} ms")


async def commands(directory: Path, orders: int) -> None:
    cfg, clock = config(), SystemClock()
    store = fresh_store(directory, "commands.db", cfg)
    tracker = HealthTracker({d.id: cfg.icmp_for(d) for d in cfg.devices}, topology(cfg))
    link = PollerCentre(store, clock, lambda: cfg, tracker, None)
    app = create_app(store, lambda: cfg, clock, [poller_router(store, clock, link)])
    code = new_code()
    store.pollers.add_code("p", ["north"], code, clock.now(), CODE_VALID)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://c" + PREFIX
    ) as http:
        token = (await http.post("/enrol", json={"code": code})).json()["token"]
        headers = {"authorization": f"Bearer {token}", WIRE: "2"}
        beat = PushIn(sent_at=clock.now(), version="bench").model_dump_json()
        assert (await http.post("/push", content=beat, headers=headers)).status_code == 200
        known = (await http.get("/config", headers=headers)).json()["revision"]
        handed, accepted = [], []
        for _ in range(orders):
            waiting = asyncio.create_task(
                http.get("/config", params={"wait": known}, headers=headers)
            )
            for _ in range(10_000):  # until the centre holds it (bounded: 10 s)
                if link.waiting:
                    break
                await asyncio.sleep(0.001)
            start = time.perf_counter()
            command = await link.commands.submit("p", "probe", {"device": "cam0"})
            got = (await waiting).json()
            handed.append(time.perf_counter() - start)
            assert [c["id"] for c in got["commands"]] == [command]
            r = await http.post(f"/commands/{command}", json={"v": 1, "kind": "accepted"},
                                headers=headers)  # fmt: skip
            accepted.append(time.perf_counter() - start)
            assert r.status_code == 200
            done = {"v": 1, "kind": "failed", "data": {"error": "bench"}}
            await http.post(f"/commands/{command}", json=done, headers=headers)
    handed.sort()
    accepted.sort()
    print(f"command in the long poll answer  p50 {statistics.median(handed) * 1e3:7.2f} ms"
          f"  max {handed[-1] * 1e3:7.2f} ms  ({orders} orders; target 2 s)")  # fmt: skip
    print(f"  ...and accepted at the centre  p50 {statistics.median(accepted) * 1e3:7.2f} ms"
          f"  max {accepted[-1] * 1e3:7.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=3000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    items = transitions(args.entries)
    with tempfile.TemporaryDirectory() as tmp:
        journal(Path(tmp), items)
        asyncio.run(centre(Path(tmp), items))
        asyncio.run(long_poll(Path(tmp), args.changes))
        asyncio.run(commands(Path(tmp), args.changes))


if __name__ == "__main__":
    main()
