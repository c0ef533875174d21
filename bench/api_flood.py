"""RSS growth and /healthz latency while unauthenticated clients POST huge bodies.

The API (the real ApiServer under uvicorn, on a SQLite store) runs in a child process so its
RSS is its own. N clients each POST a SIZE-byte JSON body without a token, streaming it in
1 MiB pieces, again and again for --seconds; meanwhile a thread GETs /healthz every 20 ms. Printed: the server's RSS before
and at its peak, and /healthz p50/p99/max. The same flood (smaller by default: it costs
gigabytes, and once) runs against the same app with the guard removed (api/guard.py), as the
reference from the same run. Targets (issue 13): RSS +20 MB at most, /healthz p99 < 100 ms.

    .venv/bin/python bench/api_flood.py      # idle; 10 x 200 MB guarded; 3 x 200 MB unguarded
    .venv/bin/python bench/api_flood.py --baseline-posts 0   # guarded only
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MIB = 1024 * 1024


def serve(guarded: bool, state: Path) -> None:
    """The child: the API on an ephemeral port, which it prints; runs until killed."""
    from monitord.api import ApiServer
    from monitord.api.guard import Guard
    from monitord.clock import SystemClock
    from monitord.store import Store
    from tests.support.apilab import CLIENTS, api_config

    for i in range(len(CLIENTS)):
        os.environ[f"MONITORD_TEST_TOKEN_{i}"] = f"bench-token-{i}-" + "x" * 32
    config = api_config(f"sqlite:///{state / 'bench.db'}", "city", state_dir=state)
    store = Store.open(config.database_url)
    store.upgrade()

    async def run() -> None:
        server = ApiServer(store, lambda: config, SystemClock())
        if not guarded:  # the reference: the same app as it was before the guard
            server.app.user_middleware = [
                m for m in server.app.user_middleware if m.cls is not Guard
            ]
        await server.start()
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def post_huge(port: int, size: int) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /api/v1/tickets/1/events HTTP/1.1\r\nHost: api\r\n"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    prefix = b'{"kind": "comment", "by": "x", "text": "'
    chunk = b"a" * MIB
    try:
        writer.write(head + prefix)
        sent = len(prefix)
        while sent < size - 2:
            piece = chunk[: min(MIB, size - 2 - sent)]
            writer.write(piece)
            sent += len(piece)
            await writer.drain()
        writer.write(b'"}')
        await writer.drain()
        await asyncio.sleep(0.5)  # let the server finish parsing what it was sent
    except (ConnectionError, OSError):
        pass  # refused and closed: the point
    finally:
        writer.close()


def flood(label: str, guarded: bool, posts: int, size: int, seconds: float) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", "guarded" if guarded else "unguarded", tmp],
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )
        try:
            assert child.stdout is not None
            line = child.stdout.readline()
            while not line.startswith("PORT "):  # the child's logs come first
                line = child.stdout.readline()
            port = int(line.split()[1])
            # Drain the child's logs, or a full pipe would stall the server being measured.
            threading.Thread(target=child.stdout.read, daemon=True).start()
            return _measure(label, child.pid, port, posts, size, seconds)
        finally:
            child.kill()
            child.wait()


def _flood(port: int, posts: int, size: int, seconds: float) -> None:
    async def client(until: float) -> None:
        await post_huge(port, size)
        while time.monotonic() < until:  # a refused POST is quick: keep the flood going
            await post_huge(port, size)

    async def all_posts() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(asyncio.sleep(seconds), *(client(until) for _ in range(posts)))

    asyncio.run(all_posts())


def _measure(label: str, pid: int, port: int, posts: int, size: int, seconds: float) -> str:
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    warm.request("GET", "/healthz")  # the first request pays for imports; not the flood's
    warm.getresponse().read()
    warm.close()
    before = rss_kib(pid)
    peak = before
    latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        nonlocal peak
        while not done.is_set():
            started = time.monotonic()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            latencies.append(time.monotonic() - started)
            peak = max(peak, rss_kib(pid))
            done.wait(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    # The flood runs in its own process: sharing this one's GIL with the prober would count
    # the flood client's own work as server latency.
    flooder = multiprocessing.Process(target=_flood, args=(port, posts, size, seconds))
    started = time.monotonic()
    flooder.start()
    flooder.join()
    took = time.monotonic() - started
    done.set()
    prober.join()
    peak = max(peak, rss_kib(pid))
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"{label:<10} {posts:>2} x {size // MIB} MB  RSS {before / 1024:7.1f} -> "
        f"{peak / 1024:7.1f} MB (+{(peak - before) / 1024:6.1f})  /healthz p50 "
        f"{statistics.median(ms):6.1f} ms  p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms  "
        f"({len(ms)} probes, {took:.1f} s, load {os.getloadavg()[0]:.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--baseline-posts", type=int, default=3,
                        help="the unguarded reference; each costs ~500 MB of RAM")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0, help="keep the flood up this long")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0] == "guarded", Path(args.serve[1]))
        return
    size = args.size_mb * MIB
    # No flood: what /healthz takes on this machine right now (others share its cores).
    print(flood("idle", True, 0, size, args.seconds), flush=True)
    print(flood("guarded", True, args.posts, size, args.seconds), flush=True)
    if args.baseline_posts:
        print(flood("unguarded", False, args.baseline_posts, size, 0), flush=True)
    print("targets: RSS +20 MB at most, /healthz p99 < 100 ms (guarded)")


if __name__ == "__main__":
    main()
