"""The web console at fleet size: page times, first-load weight, SSE fan-out and 3G loads.

Builds a SQLite store with --sites sites x --per-site devices (500 x 20 = 10 000: a switch,
an NVR and cameras behind the switch, as bench/config_scale.py lays a site out) and --tickets
tickets (a third active, the rest closed, spread over the sites), then serves the real app
(create_app: the API and the console) under uvicorn on 127.0.0.1 in a child process, so the
CPU read from /proc is the server's own. Printed, each beside a reference from the same run:

1. p50/p99 server time (loopback round trip, one keep-alive connection) of the ticket list,
   "Mine", a ticket page, a device page and the wallboard; reference: /healthz and a static
   file. Target p99 < 200 ms.
2. first-load bytes of the JS+CSS the wallboard and the ticket page link, gzipped (what a
   proxy's gzip sends). Target <= 60 kB.
3. SSE fan-out: --streams open wallboard streams; a device goes DOWN in the store; the server's
   CPU while it is pushed to all, and each reader's count of `grid` events and whether that
   tile's new state reached it. Reference: the server's CPU over the same time with no stream.
4. first load under emulated 3G (1.6 Mbps down, 750 kbps up, 150 ms RTT; CDP
   Network.emulateNetworkConditions) in Debian's chromium: the wallboard at 1920x1080 and a
   ticket page at phone size; reference: /healthz under the same network. Target <= 2.5 s.

    .venv/bin/python bench/console.py [--sites 500] [--per-site 20] [--tickets 5000]
    BENCH_GC_THAW=1 .venv/bin/python bench/console.py   # without the daemon's gc.freeze()
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gzip
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TICKS = os.sysconf("SC_CLK_TCK")
PASSWORD = "correct horse battery"
TARGET_MS, TARGET_KB, TARGET_3G_S = 200.0, 60.0, 2.5
CLASSES = ("A", "B", "C", "D")


def bench_config(state: Path, sites: int, per_site: int) -> Any:
    from monitord.config import Config
    from tests.support.ticketlab import config_data

    data = config_data(f"sqlite:///{state / 'bench.db'}", "city")
    site_list, devices = [], []
    for s in range(sites):
        sid = f"site-{s:03d}"
        site_list.append({"id": sid, "name": f"小区{s}", "timezone": "Asia/Shanghai",
                          "zone": "city", "contract": "seed-000"})  # fmt: skip
        switch = f"{sid}-sw"
        a, b = divmod(s, 200)
        devices.append({"id": switch, "name": "交换机", "kind": "switch",
                        "address": f"10.{a}.{b}.1", "site": sid})  # fmt: skip
        devices.append({"id": f"{sid}-nvr", "name": "录像机", "kind": "nvr",
                        "address": f"10.{a}.{b}.2", "site": sid, "parents": [switch]})  # fmt: skip
        for c in range(per_site - 2):
            devices.append({"id": f"{sid}-cam{c:03d}", "name": "摄像机", "kind": "camera",
                            "address": f"10.{a}.{b}.{3 + c}", "site": sid,
                            "parents": [switch]})  # fmt: skip
    data.update(sites=site_list, devices=devices, state_dir=str(state),
                console={"enabled": True, "secure_cookies": False})  # fmt: skip
    return Config.model_validate(data)


def build(state: Path, sites: int, per_site: int, count: int) -> None:
    """The store: inventory, every device's state (a few down), users, `count` tickets."""
    from monitord.console.accounts import Accounts, Role
    from monitord.inventory.archive import device_record, site_records
    from monitord.store import Store
    from monitord.store.records import OperationEvent, SavedState, TicketEventRecord
    from monitord.store.records import TicketRecord as Row

    config = bench_config(state, sites, per_site)
    store = Store.open(config.database_url)
    store.upgrade()
    now = dt.datetime.now(dt.UTC)
    store.devices.sync(site_records(config), [device_record(d) for d in config.devices], now)
    changes = []
    for i, d in enumerate(config.devices):
        st = "down" if i % 97 == 0 else "degraded" if i % 89 == 0 else "up"
        changes.append((OperationEvent(d.id, now, "state", "pending", st, "bench"),
                        SavedState(d.id, st, now, now, "bench")))  # fmt: skip
    store.states.record_changes(changes)
    accounts = Accounts(store, config.console)
    for name, role in (("eng", Role.ENGINEER), ("disp", Role.DISPATCHER)):
        accounts.add(name, role, PASSWORD, now, f"{name} person", None)
    cams = [d for d in config.devices if d.kind == "camera"]
    drafts = []
    for i in range(count):
        device = cams[(i * 7919) % len(cams)]
        cls = CLASSES[i % 4]
        at = now - dt.timedelta(minutes=5 + (i * 37) % (60 * 24 * 20))
        row = Row(0, f"seed-000/{device.id}/{i}", "seed-000", device.site, device.id, "down",
                  cls, "camera-down", "open", False, False, f"{device.id} down", (device.id,),
                  at, at, 1)  # fmt: skip
        data = {"class": cls, "rule": "camera-down", "fault": "down", "impacted": [device.id]}
        first = TicketEventRecord(0, 1, at, "opened", "monitord", "down", data)
        drafts.append((row, first, ()))
    opened = []
    for start in range(0, len(drafts), 500):
        opened += [t for t, _ in (x for x in store.tickets.open_many(drafts[start:start + 500])
                                  if x is not None)]  # fmt: skip
    appends: list[Any] = []
    for i, t in enumerate(opened):
        later = t.opened_at + dt.timedelta(minutes=3)
        if i % 3 == 0:  # active: open, acknowledged, or assigned to the engineer
            if i % 9 == 3:
                ack = TicketEventRecord(0, 0, later, "acknowledged", "eng", "", {})
                appends.append((t.id, 1, ack, {"status": "acknowledged"}, ()))
            elif i % 9 == 6:
                to = TicketEventRecord(0, 0, later, "assigned", "disp", "", {"engineer": "eng"})
                appends.append((t.id, 1, to, {}, ()))
            continue
        done = TicketEventRecord(0, 0, later, "closed", "eng", "", {})
        appends.append((t.id, 1, done, {"status": "closed", "recovered": True}, ()))
    for start in range(0, len(appends), 500):
        store.tickets.append_many(appends[start : start + 500])


def serve(state: Path, sites: int, per_site: int) -> None:
    """The child: the app on an ephemeral loopback port, which it prints; runs until killed."""
    import uvicorn

    from monitord.api import create_app
    from monitord.clock import SystemClock
    from monitord.config.bulk import settled
    from monitord.store import Store

    config = bench_config(state, sites, per_site)
    store = Store.open(config.database_url)
    app = create_app(store, lambda: config, SystemClock())
    if not os.environ.get("BENCH_GC_THAW"):  # as the daemon does at start-up (app.py)
        settled(collect=True)
    sock = socket.create_server(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                           lifespan="off"))  # fmt: skip
    asyncio.run(server.serve(sockets=[sock]))


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Client:
    """A session's cookies; a connection per request (on a kept-alive one, the second
    response waits ~40 ms for a delayed ACK here, which would swamp what is measured)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: str = "") -> tuple[int, bytes, dict[str, str]]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                   "Accept-Language": "zh-CN"}  # fmt: skip
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        conn.request(method, path, body=body or None, headers=headers)
        got = conn.getresponse()
        data = got.read()
        conn.close()
        for name, value in got.getheaders():
            if name.lower() == "set-cookie":
                k, _, v = value.split(";")[0].partition("=")
                self.cookies[k] = v.strip('"')
        return got.status, data, {k.lower(): v for k, v in got.getheaders()}

    def sign_in(self, name: str) -> Client:
        _, page, _ = self.get("/console/login")
        found = re.search(rb'name="csrf" value="([^"]+)"', page)
        assert found, page[:300]
        form = f"csrf={found.group(1).decode()}&name={name}&password={PASSWORD.replace(' ', '+')}"
        code, _, _ = self.request("POST", "/console/login", form)
        assert code == 303 and "monitord_session" in self.cookies, code
        return self


def times(client: Client, path: str, runs: int, budget_s: float) -> tuple[float, float, int]:
    """(p50, p99, n) in ms; fewer than `runs` when a slow page would pass `budget_s`."""
    code, _, _ = client.get(path)  # warm: templates compiled, caches filled
    assert code == 200, (path, code)
    took: list[float] = []
    ends = time.monotonic() + budget_s
    while len(took) < runs and (len(took) < 3 or time.monotonic() < ends):
        start = time.perf_counter()
        code, _, _ = client.get(path)
        took.append((time.perf_counter() - start) * 1000)
        assert code == 200, (path, code)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.99))], len(took)


def page_times(
    port: int, runs: int, ticket: int, device: str
) -> list[tuple[str, float, float, int]]:
    disp, eng, anon = Client(port).sign_in("disp"), Client(port).sign_in("eng"), Client(port)
    site = device.rsplit("-", 1)[0]
    cases = [
        ("reference /healthz", anon, "/healthz"),
        ("reference static console.css", anon, "/console/static/console.css"),
        ("ticket list (dispatcher)", disp, "/console/tickets"),
        ("Mine (engineer)", eng, "/console/mine"),
        ("ticket page", eng, f"/console/tickets/{ticket}"),
        ("device page", eng, f"/console/devices/{site}/{device}"),
        ("wallboard", disp, "/console/wallboard"),
    ]
    out = []
    for label, client, path in cases:
        p50, p99, n = times(client, path, runs, 20.0)
        out.append((label, p50, p99, n))
        print(f"  {label:<30} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  (n={n})", flush=True)
    return out


def first_load_bytes(port: int, ticket: int) -> tuple[int, int, int]:
    """(gzipped JS+CSS, raw JS+CSS, gzipped HTML of the wallboard) in bytes."""
    disp, anon = Client(port).sign_in("disp"), Client(port)
    assets: set[str] = set()
    html = b""
    for path in ("/console/wallboard", f"/console/tickets/{ticket}"):
        _, page, _ = disp.get(path)
        html = html or page
        assets |= {m.decode() for m in re.findall(rb'(?:src|href)="(/console/static/[^"]+)"', page)}
    zipped = raw = 0
    for path in sorted(assets):
        _, body, _ = anon.get(path)
        if path.endswith((".js", ".css")):
            raw += len(body)
            zipped += len(gzip.compress(body, 6))
    return zipped, raw, len(gzip.compress(html, 6))


async def _reader(port: int, cookies: str, site: str, got: dict[str, Any], idx: int,
                  stop: asyncio.Event) -> None:  # fmt: skip
    """One wallboard stream: counts `grid` events; notes when `site`'s tile shows down."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write((f"GET /console/wallboard/stream HTTP/1.1\r\nHost: bench\r\nCookie: {cookies}"
                  "\r\nAccept: text/event-stream\r\n\r\n").encode())  # fmt: skip
    await writer.drain()
    pattern = re.compile(rf'data-site="{re.escape(site)}"'.encode())
    buf = b""
    try:
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.5)
            except TimeoutError:
                continue
            if not chunk:
                break
            buf += chunk
            # Chunked transfer framing may split an event; events end with a blank line.
            while b"\n\n" in buf:
                ev, buf = buf.split(b"\n\n", 1)
                if b"event: grid" in ev:
                    got["grids"][idx] += 1
                    tile = pattern.search(ev)
                    if tile and b"st-down" in ev[max(0, tile.start() - 60) : tile.start()]:
                        got["seen"].setdefault(idx, time.monotonic())
                        if len(got["seen"]) == len(got["grids"]):
                            got["all"].set()
    finally:
        writer.close()


def fan_out(pid: int, port: int, streams: int, site: str, device: str, state: Path,
            sites: int, per_site: int, seconds: float) -> str:  # fmt: skip
    from monitord.store import Store
    from monitord.store.records import OperationEvent, SavedState

    disp = Client(port).sign_in("disp")
    cookies = "; ".join(f"{k}={v}" for k, v in disp.cookies.items())
    store = Store.open(bench_config(state, sites, per_site).database_url)
    got: dict[str, Any] = {"grids": [0] * streams, "seen": {}}

    async def run() -> tuple[float, float, float, float]:
        got["all"] = asyncio.Event()
        idle0, t0 = cpu_s(pid), time.monotonic()
        await asyncio.sleep(seconds)  # the reference: the server with no stream
        idle = (cpu_s(pid) - idle0) / (time.monotonic() - t0)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(_reader(port, cookies, site, got, i, stop))
                 for i in range(streams)]  # fmt: skip
        await asyncio.sleep(3.0)  # every stream open and past its first grid
        base0, t1 = cpu_s(pid), time.monotonic()
        await asyncio.sleep(seconds)
        steady = (cpu_s(pid) - base0) / (time.monotonic() - t1)
        got["grids"] = [0] * streams
        now = dt.datetime.now(dt.UTC)
        c0, changed = cpu_s(pid), time.monotonic()
        await asyncio.to_thread(store.states.record_change,
                                OperationEvent(device, now, "state", "up", "down", "bench"),
                                SavedState(device, "down", now, now, "bench"))  # fmt: skip
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(got["all"].wait(), 30)
        pushed = time.monotonic() - changed
        await asyncio.sleep(max(0.0, seconds - pushed))
        during = (cpu_s(pid) - c0) / (time.monotonic() - changed)
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return idle, steady, during, pushed

    idle, steady, during, pushed = asyncio.run(run())
    seen = len(got["seen"])
    grids = got["grids"]
    return (
        f"  {streams} streams: server CPU idle without streams {idle * 100:5.1f} %  with streams"
        f" open {steady * 100:5.1f} %  while the change is pushed {during * 100:5.1f} %\n"
        f"  change reached {seen}/{streams} streams, the last {pushed:.2f} s after the write;"
        f" grid events per stream over {seconds:.0f} s: min {min(grids)} max {max(grids)}"
    )


def three_g(port: int, ticket: int) -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    out = []
    disp, eng = Client(port).sign_in("disp"), Client(port).sign_in("eng")
    base = f"http://127.0.0.1:{port}"
    cases = [
        ("reference /healthz (TV)", None, "/healthz", {"width": 1920, "height": 1080}, False),
        ("wallboard 1920x1080", disp, "/console/wallboard", {"width": 1920, "height": 1080}, False),
        ("reference /healthz (phone)", None, "/healthz", {"width": 412, "height": 839}, True),
        ("ticket page on a phone", eng, f"/console/tickets/{ticket}",
         {"width": 412, "height": 839}, True),
    ]  # fmt: skip
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for label, who, path, viewport, phone in cases:
            context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
            if who is not None:
                context.add_cookies([{"name": k, "value": v, "url": base}
                                     for k, v in who.cookies.items()])  # fmt: skip
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 150,
                "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8,
            })  # fmt: skip
            start = time.perf_counter()
            page.goto(base + path, wait_until="load", timeout=60_000)
            took = time.perf_counter() - start
            out.append((label, took))
            print(f"  {label:<30} load {took:5.2f} s", flush=True)
            context.close()
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=500)
    parser.add_argument("--per-site", type=int, default=20)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="each CPU window")
    parser.add_argument("--skip", default="", help="comma list of: pages,bytes,sse,3g")
    parser.add_argument("--store", help="a directory to build the store in once and reuse")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), args.sites, args.per_site)
        return
    skip = set(args.skip.split(","))
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.store or scratch
        state = Path(tmp)
        started = time.monotonic()
        if not (state / "bench.db").exists():
            build(state, args.sites, args.per_site, args.tickets)
        print(f"store: {args.sites} sites, {args.sites * args.per_site} devices,"
              f" {args.tickets} tickets, ready in {time.monotonic() - started:.1f} s")  # fmt: skip
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", tmp, "--sites", str(args.sites),
             "--per-site", str(args.per_site)],
            stdout=subprocess.PIPE, cwd=ROOT, text=True,
        )  # fmt: skip
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            while not line.startswith("PORT "):
                line = child.stdout.readline()
            port = int(line.split()[1])
            threading.Thread(target=child.stdout.read, daemon=True).start()
            _run(args, skip, child.pid, port, state)
        finally:
            child.kill()
            child.wait()


def _run(args: argparse.Namespace, skip: set[str], pid: int, port: int, state: Path) -> None:
    from monitord.store import Store

    store = Store.open(bench_config(state, args.sites, args.per_site).database_url)
    active = store.tickets.recent(["open", "acknowledged"], None, 1)
    ticket = active[0].id
    device = active[0].root_device or ""
    states = store.states.load()
    troubled = {d.rsplit("-", 1)[0] for d, s in states.items() if s.state != "up"}
    quiet = next(d for d in sorted(states) if d.rsplit("-", 1)[0] not in troubled)
    if "pages" not in skip:
        print(f"server time (target p99 < {TARGET_MS:.0f} ms):")
        page_times(port, args.runs, ticket, device)
    if "bytes" not in skip:
        zipped, raw, html = first_load_bytes(port, ticket)
        print(f"first load JS+CSS: {zipped / 1000:.1f} kB gzipped ({raw / 1000:.1f} kB raw;"
              f" target <= {TARGET_KB:.0f} kB); reference: the wallboard's HTML"
              f" {html / 1000:.1f} kB gzipped")  # fmt: skip
    if "sse" not in skip:
        print("SSE fan-out:")
        site = quiet.rsplit("-", 1)[0]
        print(fan_out(pid, port, args.streams, site, quiet, state, args.sites, args.per_site,
                      args.seconds))  # fmt: skip
    if "3g" not in skip:
        print(f"first load under 3G, 1.6 Mbps / 150 ms RTT (target <= {TARGET_3G_S} s):")
        three_g(port, ticket)
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
