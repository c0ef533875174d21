"""ONVIF check cost: N simulated cameras checked like the daemon does (OnvifWatch.poll:
clock, stream URI, RTSP OPTIONS+DESCRIBE, findings; identity and profiles cached after
the first round), against bench/onvif_sim.py in another process on 127.0.0.1.

Prints SOAP calls/s, CPU per camera check, RSS per camera, and the share of one core and
the memory that 5 000 cameras checked every 5 minutes would take. Beside them, measured in
the same run, a reference: the same SOAP request body POSTed with bare aiohttp (no signing,
no parsing) plus the same RTSP check, per camera.

    .venv/bin/python bench/onvif_poll.py --cameras 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord.checks.onvif import http as onvif_http
from monitord.checks.onvif import soap as onvif_soap
from monitord.checks.onvif.client import OnvifClient
from monitord.checks.onvif.service import check_stream
from monitord.checks.onvif.watch import OnvifWatch
from monitord.checks.rtsp import client as rtsp
from monitord.clock import SystemClock
from monitord.config.models import Config
from monitord.store.records import OperationEvent

TARGET_CAMERAS, TARGET_INTERVAL = 5000, 300.0


class NullStore:
    """A store whose journal entries go nowhere: `states` and `facts` are this object."""

    def __init__(self) -> None:
        self.states = self.facts = self

    def record_event(self, event: OperationEvent) -> None:
        pass

    def learn(
        self, device_id: str, source: str, facts: Mapping[str, str], at: dt.datetime
    ) -> dict[str, tuple[str, str]]:
        return {}


def rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def config(ports: list[int], cameras: int) -> Config:
    onvif = {"username": "bench", "password": {"env": "BENCH_ONVIF"}, "events": False}
    devices = [
        {"id": f"cam-{i}", "name": f"cam {i}", "kind": "camera", "site": "s1",
         "address": "127.0.0.1", "onvif": {**onvif, "port": ports[i % len(ports)]}}
        for i in range(cameras)
    ]  # fmt: skip
    return Config.model_validate({"sites": [{"id": "s1", "name": "S"}], "devices": devices})


async def rounds(
    watch: OnvifWatch, ids: list[str], n: int, calls: list[int]
) -> list[tuple[float, float, int]]:
    slots = asyncio.Semaphore(100)

    async def one(device: str) -> None:
        async with slots:
            await watch.poll(device)

    out = []
    for _ in range(n):
        before, cpu, wall = calls[0], time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(d) for d in ids))
        out.append((time.process_time() - cpu, time.perf_counter() - wall, calls[0] - before))
    return out


async def reference(ports: list[int], cameras: int) -> tuple[float, float]:
    """Bare aiohttp POST of the same GetSystemDateAndTime body, plus the same RTSP check."""
    url0 = f"http://127.0.0.1:{ports[0]}/onvif/device_service"
    req = onvif_soap.build("GetSystemDateAndTime", url0, {}, None)
    session = onvif_http.new_session()
    slots = asyncio.Semaphore(100)
    uri = ""

    async def one(i: int) -> None:
        nonlocal uri
        async with slots:
            url = f"http://127.0.0.1:{ports[i % len(ports)]}/onvif/device_service"
            async with session.post(url, data=req.body, headers=req.headers) as resp:
                await resp.read()
            await rtsp.check_stream(uri, "bench", "bench-pass", timeout=5.0)

    async with session.post(url0, data=b"GetStreamUri", headers=req.headers) as resp:
        body = await resp.read()
    uri = body.split(b"<tt:Uri>")[1].split(b"</tt:Uri>")[0].decode()
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(cameras)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await session.close()
    return cpu, wall


def main(args: argparse.Namespace) -> None:
    os.environ["BENCH_ONVIF"] = "bench-pass"
    sim = subprocess.Popen([sys.executable, str(Path(__file__).with_name("onvif_sim.py")),
                            str(args.ports)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert sim.stdout is not None
        ports = [int(p) for p in sim.stdout.readline().split()]
        asyncio.run(measure(args, ports))
    finally:
        sim.kill()
        sim.wait()


async def measure(args: argparse.Namespace, ports: list[int]) -> None:
    cfg = config(ports, args.cameras)
    ids = [d.id for d in cfg.devices]
    rss0 = rss_mb()
    calls = [0]

    def observe(_op: str, _s: float, _o: str) -> None:
        calls[0] += 1

    client = OnvifClient(observe=observe)
    watch = OnvifWatch(cfg, client, NullStore(), SystemClock(), check_stream)
    results = await rounds(watch, ids, args.rounds + 1, calls)
    rss1 = rss_mb()
    ref_cpu, ref_wall = await reference(ports, args.cameras)
    await client.close()
    bad = sum(1 for d in ids if watch.tracker.current(d)["stream"].status.value != "ok")
    n = args.cameras
    cold_cpu, cold_wall, cold_calls = results[0]
    steady = results[1:]
    cpu = sum(r[0] for r in steady) / len(steady)
    wall = sum(r[1] for r in steady) / len(steady)
    soap = sum(r[2] for r in steady) / len(steady)
    per_check = cpu / n
    per_cam_mb = (rss1 - rss0) / n
    share = per_check * TARGET_CAMERAS / TARGET_INTERVAL
    print(f"cameras: {n}, rounds: {args.rounds} (+1 cold), simulator ports: {len(ports)}, "
          f"cameras not streaming: {bad}")  # fmt: skip
    print(f"cold round (discovery, identity, profiles): {cold_calls} SOAP calls in "
          f"{cold_wall:.2f} s, {cold_cpu / n * 1000:.2f} ms CPU per camera")  # fmt: skip
    print(f"steady round: {soap / wall:,.0f} SOAP calls/s, {n / wall:,.0f} camera checks/s, "
          f"{per_check * 1000:.2f} ms CPU per camera check (clock + RTSP + findings)")  # fmt: skip
    print(f"reference (bare aiohttp POST of the same body + same RTSP check): "
          f"{ref_cpu / n * 1000:.2f} ms CPU per camera, {n / ref_wall:,.0f} cameras/s")  # fmt: skip
    print(f"RSS: {rss0:.1f} MB before devices, {rss1:.1f} MB after; "
          f"{per_cam_mb * 1000:.1f} kB per camera")  # fmt: skip
    total = rss0 + per_cam_mb * TARGET_CAMERAS
    print(f"projection, {TARGET_CAMERAS} cameras every {TARGET_INTERVAL:.0f} s: "
          f"{share * 100:.1f} % of one core (target < 25 %), ~{total:.0f} MB RSS for this "
          f"process, of which {per_cam_mb * TARGET_CAMERAS:.1f} MB for the cameras "
          "(target < 100 MB)")  # fmt: skip


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--cameras", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--ports", type=int, default=50)
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse())
