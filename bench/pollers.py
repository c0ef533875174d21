"""One centre, many site pollers over the real wire (issue 14).

A real centre (`monitord run`, HTTPS API, SQLite or --database postgresql://...) in a child
process; N simulated pollers x D devices in this process. A simulated poller is the poller's
own uplink (sites/poller.Uplink over sites/link.Link and its pinned TLS, sites/journal.Journal
on disk, enrolled with sites/identity.enrol): only the probing is left out, its journal is
fed transitions at a steady rate instead. A third process probes the API (GET
/api/v1/faults, /api/v1/devices?site=, with an engineer's token) and /healthz, alternately,
so each latency is beside its reference from the same run and the same prober.

Phases, each measured from the centre's /proc (CPU: utime+stime over wall time; RSS):
1. idle: enrolled, nobody pushing (the reference);
2. steady: every poller heartbeats (5 s) and journals `--rate` transitions per device-hour;
3. drain: the pollers stop pushing until the centre marks them silent (`poller_silence`),
   each journals a 1 h backlog (`--backlog` entries per device-hour: state changes that
   all end up, and finding lines), then all resume at once. Time until every journal is
   acknowledged (target 5 min), API p99 meanwhile (target 1 s).

Run: .venv/bin/python bench/pollers.py [--pollers 200 --devices 100] [--database URL]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitord import log
from monitord.clock import SystemClock
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.identity import PINS, enrol
from monitord.sites.journal import Journal
from monitord.sites.link import Link, fingerprint
from monitord.sites.poller import Uplink
from monitord.store import Store
from monitord.store.records import OperationEvent
from tests.support.contracts import CONTRACTS
from tests.support.tlscert import self_signed

HEARTBEAT = 5.0  # the poller's default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_id(i: int) -> str:
    return f"s{i:03d}"


def device_id(i: int, j: int) -> str:
    return f"s{i:03d}-d{j:03d}"


def write_config(tmp: Path, args: argparse.Namespace, port: int, token_env: str) -> Path:
    cert, key = self_signed(tmp, "127.0.0.1")
    contracts = yaml.safe_load((CONTRACTS / "seed-000.yaml").read_text(encoding="utf-8"))
    data: dict[str, Any] = {
        "database": args.database or f"sqlite:///{tmp / 'centre.db'}",
        "state_dir": str(tmp / "centre"),
        "contracts": contracts["contracts"],
        "sites": [
            {"id": site_id(i), "name": f"Compound {i}", "contract": "seed-000",
             "poller": f"p{i:03d}"}
            for i in range(args.pollers)
        ],
        # Unique addresses: the same 192.168.1.0/24 at every site waits for (site, id)
        # identity (docs/pollers.md "Not yet"); the centre never probes them anyway.
        "devices": [
            {"id": device_id(i, j), "name": device_id(i, j), "kind": "camera",
             "address": f"10.{i // 250}.{i % 250}.{j + 1}", "site": site_id(i)}
            for i in range(args.pollers) for j in range(args.devices)
        ],
        "poller_silence": args.silence,
        "metrics": {"listen": "127.0.0.1", "port": free_port()},
        "api": {"enabled": True, "listen": "127.0.0.1", "port": port,
                "tls_cert": str(cert), "tls_key": str(key),
                "tokens": [{"name": "bench", "role": "engineer", "token": {"env": token_env}}]},
        "notify": {"channels": []},
    }  # fmt: skip
    path = tmp / "centre.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


class Usage:
    """The centre's CPU seconds and RSS, from /proc."""

    def __init__(self, pid: int) -> None:
        self._pid, self._tick = pid, os.sysconf("SC_CLK_TCK")

    def cpu(self) -> float:
        fields = Path(f"/proc/{self._pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._tick

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self._pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


class Window:
    def __init__(self, usage: Usage) -> None:
        self._usage, self._cpu, self._wall = usage, usage.cpu(), time.monotonic()
        self.rss_peak = usage.rss_mb()

    def sample(self) -> None:
        self.rss_peak = max(self.rss_peak, self._usage.rss_mb())

    def cpu_pct(self) -> float:
        return 100 * (self._usage.cpu() - self._cpu) / (time.monotonic() - self._wall)

    def cpu_s(self) -> float:
        return self._usage.cpu() - self._cpu


def prober(base: str, cert: str, token: str, site: str, stop: Any, out: Any) -> None:
    """The third process: API calls and /healthz, alternately, each with its latency."""
    got: dict[str, list[float]] = {"healthz": [], "faults": [], "devices": []}
    paths = {"healthz": "/healthz", "faults": "/api/v1/faults",
             "devices": f"/api/v1/devices?site={site}"}  # fmt: skip
    with httpx.Client(verify=cert, timeout=30, headers={"authorization": f"Bearer {token}"}) as c:
        while not stop.is_set():
            for name, path in paths.items():
                start = time.perf_counter()
                try:
                    code = c.get(base + path).status_code
                except httpx.TransportError as exc:
                    code = type(exc).__name__
                took = time.perf_counter() - start
                if code == 200:
                    got[name].append(took)
                else:
                    got.setdefault(f"{name} {code}", []).append(took)
            stop.wait(1.0)  # a person's pace: the probe must not be the load
    out.put(got)


class Probe:
    def __init__(self, base: str, cert: Path, token: str) -> None:
        self._args = (base, str(cert), token, site_id(0))
        self._proc: multiprocessing.Process | None = None

    def start(self) -> None:
        self._stop, self._out = multiprocessing.Event(), multiprocessing.Queue()
        self._proc = multiprocessing.Process(
            target=prober, args=(*self._args, self._stop, self._out), daemon=True
        )
        self._proc.start()

    def stop(self) -> dict[str, list[float]]:
        self._stop.set()
        got: dict[str, list[float]] = self._out.get(timeout=120)
        assert self._proc is not None
        self._proc.join(30)
        return got


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e3


def latency_lines(got: dict[str, list[float]]) -> list[str]:
    out = []
    for name, values in got.items():
        out.append(f"    {name:<10} n={len(values):5d}  p50 {pct(values, 0.5):8.1f} ms"
                   f"  p99 {pct(values, 0.99):8.1f} ms  max {pct(values, 1.0):8.1f} ms")  # fmt: skip
    return out


class SimPoller:
    def __init__(self, index: int, state: Path, journal: Journal, link: Link) -> None:
        self.index, self.state, self.journal, self.link = index, state, journal, link
        self.uplink = Uplink(journal, link, SystemClock(), HEARTBEAT, "")
        self.paused = False
        self.down: set[int] = set()
        self.errors = 0

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            if self.paused:
                await asyncio.sleep(0.2)
                continue
            try:
                wait = await self.uplink.step()
            except Exception:  # noqa: BLE001 - counted and printed: the bench goes on
                self.errors += 1
                wait = 1.0
            if wait:
                await asyncio.sleep(wait)

    def transition(self, j: int, at: dt.datetime) -> Transition:
        was_down = j in self.down
        (self.down.discard if was_down else self.down.add)(j)
        before, after = (State.DOWN, State.UP) if was_down else (State.UP, State.DOWN)
        reason = "ICMP: answers" if was_down else "ICMP: 3 of 3 echoes lost"
        obs = {"loss_pct": 0.0 if was_down else 100.0, "rtt_ms": {"avg": 1.2}}
        return Transition(device_id(self.index, j), at, before, after, reason, obs)

    async def traffic(self, stopping: asyncio.Event, per_second: float) -> None:
        """Steady transitions, durable each (the journal's own synchronous=FULL append)."""
        rng = random.Random(self.index)
        while not stopping.is_set():
            await asyncio.sleep(rng.expovariate(per_second))
            if self.paused or stopping.is_set():
                continue
            j = rng.randrange(len_devices)
            await asyncio.to_thread(
                self.journal.append, self.transition(j, dt.datetime.now(dt.UTC))
            )

    def backlog(self, devices: int, per_device: int, start: dt.datetime, span: float) -> int:
        """`per_device` entries per device, over `span` seconds from `start`: state changes
        in down/up pairs (every device ends as it began) and finding lines, 1:1. Written
        without fsync: their writing is not what is measured."""
        self.journal._db.execute("PRAGMA synchronous=OFF")
        n = 0
        for k in range(per_device):
            for j in range(devices):
                at = start + dt.timedelta(seconds=span * (k * devices + j) / (per_device * devices))
                if k % 2 == 0:
                    self.journal.append(self.transition(j, at))
                else:
                    status = "warning" if k % 4 == 1 else "ok"
                    self.journal.append_event(OperationEvent(
                        device_id(self.index, j), at, "finding",
                        "ok" if status == "warning" else "warning", status,
                        "port:3: CRC errors rising", {"check": "port:3", "crc": 12 * k}))  # fmt: skip
                n += 1
        for j in sorted(self.down):  # back up: the replay opens no device ticket
            self.journal.append(self.transition(j, start + dt.timedelta(seconds=span)))
            n += 1
        self.journal._db.execute("PRAGMA synchronous=FULL")
        return n


len_devices = 100


def start_centre(config: Path, log: Any, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitord", "-c", str(config), "run", "--log-format", "json"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
    )  # fmt: skip


async def wait_api(base: str, cert: Path, within: float = 120) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(verify=str(cert), timeout=5) as c:
        while time.monotonic() < deadline:
            try:
                if (await c.get(base + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("the centre did not start; see centre.log")


async def watch(window: Window, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        window.sample()
        await asyncio.sleep(1.0)


async def main_async(args: argparse.Namespace, tmp: Path) -> None:
    global len_devices
    len_devices = args.devices
    token, env = secrets.token_urlsafe(24), "MONITORD_BENCH_TOKEN"
    port = free_port()
    config = write_config(tmp, args, port, env)
    cert, base = tmp / "centre.pem", f"https://127.0.0.1:{port}"
    store = Store.open(args.database or f"sqlite:///{tmp / 'centre.db'}")
    store.upgrade()
    codes = []
    now = dt.datetime.now(dt.UTC)
    for i in range(args.pollers):
        code = new_code()
        store.pollers.add_code(f"p{i:03d}", [site_id(i)], code, now, CODE_VALID)
        codes.append(code)
    store.close()
    out = (tmp / "centre.log").open("w")
    centre = start_centre(config, out, {env: token})
    try:
        await wait_api(base, cert)
        usage = Usage(centre.pid)
        print(f"centre pid {centre.pid}, {args.pollers} pollers x {args.devices} devices,"
              f" database {'postgresql' if args.database else 'sqlite'}")  # fmt: skip
        pin = fingerprint(cert.read_text())
        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            identities = list(pool.map(
                lambda i: enrol([base], codes[i], tmp / f"p{i:03d}", pin), range(args.pollers)))  # fmt: skip
        print(f"enrolled {len(identities)} pollers in {time.monotonic() - start:.1f} s")
        sims = [
            SimPoller(i, tmp / f"p{i:03d}", Journal(tmp / f"p{i:03d}" / "journal.db"),
                      Link([base], ident.token, tmp / f"p{i:03d}" / PINS))
            for i, ident in enumerate(identities)
        ]  # fmt: skip
        probe = Probe(base, cert, token)

        idle = Window(usage)
        probe.start()
        await watch(idle, args.idle)
        idle_api = probe.stop()
        print(f"idle    {args.idle:4.0f} s: centre CPU {idle.cpu_pct():5.1f} %"
              f"  RSS {idle.rss_peak:6.0f} MB")  # fmt: skip
        print("\n".join(latency_lines(idle_api)))

        stopping = asyncio.Event()
        per_second = args.rate * args.devices / 3600
        tasks = [asyncio.create_task(s.run(stopping)) for s in sims]
        tasks += [asyncio.create_task(s.traffic(stopping, per_second)) for s in sims]
        await asyncio.sleep(HEARTBEAT * 2)  # every poller has pushed once
        steady, mine = Window(usage), Window(Usage(os.getpid()))
        probe.start()
        await watch(steady, args.steady)
        steady_api = probe.stop()
        acked = sum(s.journal.backlog() for s in sims)
        print(f"steady  {args.steady:4.0f} s: centre CPU {steady.cpu_pct():5.1f} %"
              f"  RSS {steady.rss_peak:6.0f} MB  ({args.pollers} pushes / {HEARTBEAT:.0f} s,"
              f" {per_second * args.pollers:.1f} entries/s; unacked now {acked};"
              f" simulated pollers' CPU {mine.cpu_pct():.0f} %)")  # fmt: skip
        print("\n".join(latency_lines(steady_api)))

        for s in sims:
            s.paused = True
        went = time.monotonic()
        gap_start = dt.datetime.now(dt.UTC)
        with ThreadPoolExecutor(4) as pool:
            sizes = list(pool.map(
                lambda s: s.backlog(args.devices, args.backlog, gap_start, args.silence), sims))  # fmt: skip
        total = sum(sizes)
        await asyncio.sleep(max(0.0, args.silence + 8 - (time.monotonic() - went)))
        print(f"backlog: {total} entries ({total // len(sims)} per poller), pushes paused"
              f" {time.monotonic() - went:.0f} s (poller_silence {args.silence:.0f} s)")  # fmt: skip
        drain, mine = Window(usage), Window(Usage(os.getpid()))
        probe.start()
        start = time.monotonic()
        for s in sims:
            s.paused = False
        left = total
        while time.monotonic() - start < args.limit:
            await asyncio.sleep(1.0)
            drain.sample()
            left = sum(await asyncio.gather(*(asyncio.to_thread(s.journal.backlog) for s in sims)))
            if left == 0:
                break
        took = time.monotonic() - start
        cpu = drain.cpu_s()
        drain_api = probe.stop()
        print(f"drain: {took:6.1f} s for {total - left} entries (left {left}; target 300 s);"
              f" centre CPU {drain.cpu_pct():5.1f} %  RSS peak {drain.rss_peak:6.0f} MB;"
              f" {cpu / max(1, total - left) * 1e6:.0f} us centre CPU per entry;"
              f" simulated pollers' CPU {mine.cpu_pct():.0f} %")  # fmt: skip
        print("\n".join(latency_lines(drain_api)))
        stopping.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        errors = sum(s.errors for s in sims)
        if errors:
            print(f"push errors (retried): {errors}")
        for s in sims:
            await s.link.close()
            s.journal.close()
    finally:
        centre.terminate()
        try:
            centre.wait(30)
        except subprocess.TimeoutExpired:
            centre.kill()
        out.close()
        if args.keep_log:
            print("centre log:", (tmp / "centre.log").read_text()[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pollers", type=int, default=200)
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--database", default=None, help="postgresql://... (default: SQLite)")
    parser.add_argument("--rate", type=float, default=2.0, help="transitions per device-hour")
    parser.add_argument("--backlog", type=int, default=12, help="entries per device in the 1 h")
    parser.add_argument("--silence", type=float, default=20.0, help="poller_silence, s")
    parser.add_argument("--idle", type=float, default=15.0)
    parser.add_argument("--steady", type=float, default=60.0)
    parser.add_argument("--limit", type=float, default=900.0, help="give up draining after")
    parser.add_argument("--keep-log", action="store_true")
    args = parser.parse_args()
    # The simulated pollers' own lines ("centre unreachable" at a 503...) are counted instead.
    log.configure(level="error")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main_async(args, Path(tmp)))


if __name__ == "__main__":
    main()
