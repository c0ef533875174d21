"""ICMP sweep benchmark: our Pinger against fping and icmplib, on loopback addresses.

    sudo .venv/bin/python bench/icmp_sweep.py --devices 1000 10000 --rounds 3

Targets are 127.1.x.y (every 127/8 address answers on Linux), so no packet leaves the
machine. On loopback the RTT is ~0: the figures measure the CPU cost per check, not the
network. Every measurement runs in a fresh child process, so each peak RSS is its own.

sweep: all N devices checked once per round, as fast as possible (--concurrency 0 puts
       every ping in flight at once).
paced: what the daemon does: N devices spread evenly over --interval seconds, for
       --rounds intervals; reports the share of one core used and the peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord.checks.icmp.client import Pinger

MAX_DEVICES = 250 * 250
TARGET_CORE_PCT, TARGET_RSS_MB = 25.0, 150.0


def targets(n: int) -> list[str]:
    return [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(n)]


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


# -- measurements, each run in its own child process ------------------------------------


async def sweep_ours(p: dict[str, Any]) -> dict[str, Any]:
    addresses, rounds = targets(p["devices"]), []
    limit = asyncio.Semaphore(p["concurrency"] or len(addresses))
    async with await Pinger.open() as pinger:

        async def one(address: str) -> bool:
            async with limit:
                result = await pinger.ping(address, p["count"], p["echo_interval"], p["timeout"])
            return result.alive

        for _ in range(p["rounds"]):
            wall, cpu = time.perf_counter(), time.process_time()
            alive = sum(await asyncio.gather(*(one(a) for a in addresses)))
            rounds.append((time.perf_counter() - wall, time.process_time() - cpu, alive))
    return {"rounds": rounds, "rss_mb": peak_rss_mb(), "mode": pinger.mode.value}


async def sweep_icmplib(p: dict[str, Any]) -> dict[str, Any]:
    import icmplib

    addresses, rounds = targets(p["devices"]), []
    for _ in range(p["rounds"]):
        wall, cpu = time.perf_counter(), time.process_time()
        hosts = await icmplib.async_multiping(
            addresses,
            count=p["count"],
            interval=p["echo_interval"],
            timeout=p["timeout"],
            concurrent_tasks=p["icmplib_concurrency"],
            privileged=True,
        )
        alive = sum(h.is_alive for h in hosts)
        rounds.append((time.perf_counter() - wall, time.process_time() - cpu, alive))
    return {"rounds": rounds, "rss_mb": peak_rss_mb()}


def sweep_fping(p: dict[str, Any]) -> dict[str, Any]:
    # ru_maxrss of a child counts the memory of the Python that forked it, so fping's own
    # peak comes from GNU time when it is installed.
    gnu_time = Path("/usr/bin/time").exists()
    rounds, rss_mb = [], None
    with tempfile.TemporaryDirectory() as tmp:
        target_file, rss_file = Path(tmp, "targets.txt"), Path(tmp, "rss")
        target_file.write_text("\n".join(targets(p["devices"])) + "\n")
        command = ["fping", "-i", "0", "-c", str(p["count"]), "-q"]
        command += ["-t", str(round(p["timeout"] * 1000)), "-f", str(target_file)]
        if p["count"] > 1:
            command += ["-p", str(round(p["echo_interval"] * 1000))]
        if gnu_time:
            command = ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *command]
        for _ in range(p["rounds"]):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            wall = time.perf_counter() - wall
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            received = re.findall(r"xmt/rcv/%loss = \d+/(\d+)/", done.stderr)
            rounds.append((wall, cpu, sum(int(r) > 0 for r in received)))
            if gnu_time:
                rss_mb = max(rss_mb or 0.0, int(rss_file.read_text().split()[-1]) / 1024)
    return {"rounds": rounds, "rss_mb": rss_mb}


async def paced(p: dict[str, Any]) -> dict[str, Any]:
    """N devices due evenly over the interval, started by a 10 ms tick, as the daemon would."""
    addresses, interval = targets(p["devices"]), p["interval"]
    baseline_mb = peak_rss_mb()
    checks = alive = 0
    worst_lag = 0.0
    tasks: set[asyncio.Task[None]] = set()
    async with await Pinger.open() as pinger:

        async def one(address: str) -> None:
            nonlocal checks, alive
            result = await pinger.ping(address, p["count"], p["echo_interval"], p["timeout"])
            checks, alive = checks + 1, alive + result.alive

        # What the 10 ms tick costs with nothing to do (wake-ups are dear in some VMs).
        idle = time.process_time()
        for _ in range(100):
            await asyncio.sleep(0.01)
        idle_pct = (time.process_time() - idle) / 1.0 * 100

        loop = asyncio.get_running_loop()
        total = len(addresses) * p["rounds"]
        start, cpu, launched = loop.time(), time.process_time(), 0
        while launched < total:
            now = loop.time()
            due = min(total, int((now - start) / interval * len(addresses)) + 1)
            if launched < due:
                worst_lag = max(worst_lag, now - start - launched * interval / len(addresses))
            for k in range(launched, due):
                task = asyncio.create_task(one(addresses[k % len(addresses)]))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            launched = due
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        wall, cpu = loop.time() - start, time.process_time() - cpu
    return {
        "wall": wall,
        "cpu": cpu,
        "checks": checks,
        "alive": alive,
        "lag": worst_lag,
        "rss_mb": peak_rss_mb(),
        "baseline_mb": baseline_mb,
        "idle_pct": idle_pct,
    }


def child(kind: str, params: dict[str, Any]) -> None:
    if kind == "fping":
        out = sweep_fping(params)
    else:
        run = {"ours": sweep_ours, "icmplib": sweep_icmplib, "paced": paced}[kind]
        out = asyncio.run(run(params))
    print(json.dumps(out))


# -- the parent: runs the children and prints ---------------------------------------


def run_child(kind: str, params: dict[str, Any]) -> dict[str, Any] | str:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(params)],
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if done.returncode:
        return (done.stderr.strip().splitlines() or ["failed"])[-1]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def print_sweep(label: str, n: int, out: dict[str, Any] | str) -> None:
    if isinstance(out, str):
        print(f"  {label:<26} skipped: {out}")
        return
    rounds = out["rounds"]
    wall = statistics.median(r[0] for r in rounds)
    cpu_per_k = statistics.median(r[1] / n * 1000 for r in rounds)
    alive = min(r[2] for r in rounds)
    walls = "/".join(f"{r[0]:.2f}" for r in rounds)
    rss = "   n/a   " if out["rss_mb"] is None else f"{out['rss_mb']:>6.1f} MB"
    print(
        f"  {label:<26} {n / wall:>9,.0f} checks/s  {cpu_per_k:>7.3f} CPU s/1000 checks"
        f"  wall {walls} s  peak RSS {rss}  alive {alive}/{n}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--interval", type=float, default=10.0, help="paced: check period, s")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=1, help="echoes per check")
    parser.add_argument("--echo-interval", type=float, default=0.2)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=0, help="ours; 0 = all at once")
    parser.add_argument("--icmplib-concurrency", type=int, default=50)
    parser.add_argument("--no-paced", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    if os.geteuid() != 0:
        parser.error("needs root (raw ICMP sockets, fping -i 0)")
    if not all(1 <= n <= MAX_DEVICES for n in args.devices) or not 1 <= args.rounds <= 100:
        parser.error(f"--devices must be 1..{MAX_DEVICES}, --rounds 1..100")

    fping = shutil.which("fping")
    print(
        f"{platform.node()}: {os.cpu_count()} CPUs, Linux {platform.release()}, "
        f"Python {platform.python_version()}, fping {'yes' if fping else 'missing'}"
    )
    print(
        f"count={args.count} echo_interval={args.echo_interval}s timeout={args.timeout}s "
        f"rounds={args.rounds} concurrency(ours)={args.concurrency or 'all'} "
        f"concurrency(icmplib)={args.icmplib_concurrency}"
    )
    common = {
        "count": args.count,
        "echo_interval": args.echo_interval,
        "timeout": args.timeout,
        "rounds": args.rounds,
        "concurrency": args.concurrency,
        "icmplib_concurrency": args.icmplib_concurrency,
        "interval": args.interval,
    }
    for n in args.devices:
        params = {**common, "devices": n}
        print(f"\nsweep, {n} devices (median of {args.rounds} rounds):")
        ours = run_child("ours", params)
        mode = ours["mode"] if isinstance(ours, dict) else "?"
        print_sweep(f"monitord Pinger ({mode})", n, ours)
        fping_out = run_child("fping", params) if fping else "fping not installed"
        print_sweep("fping -i 0 (child CPU)", n, fping_out)
        print_sweep("icmplib async_multiping", n, run_child("icmplib", params))
    if args.no_paced:
        return
    for n in args.devices:
        params = {**common, "devices": n}
        print(f"\npaced, {n} devices every {args.interval:g} s for {args.rounds} intervals:")
        out = run_child("paced", params)
        if isinstance(out, str):
            print(f"  failed: {out}")
            continue
        core = out["cpu"] / out["wall"] * 100
        verdict = "meets" if core < TARGET_CORE_PCT and out["rss_mb"] < TARGET_RSS_MB else "MISSES"
        print(
            f"  {out['checks']} checks in {out['wall']:.1f} s, {out['alive']} alive;"
            f" {core:.1f} % of one core ({out['cpu'] / out['checks'] * 1e6:.0f} µs CPU/check);"
            f" peak RSS {out['rss_mb']:.1f} MB (interpreter + imports {out['baseline_mb']:.1f} MB);"
            f" worst start lag {out['lag'] * 1000:.0f} ms"
        )
        print(f"  (the idle 10 ms tick alone used {out['idle_pct']:.1f} % of one core)")
        print(
            f"  budget (set for 10000 devices / 10 s): < {TARGET_CORE_PCT:g} % of one core"
            f" and < {TARGET_RSS_MB:g} MB: {verdict}"
        )


if __name__ == "__main__":
    main()
