"""`monitord check` on a fleet-size configuration, beside references from the same run.

Builds 40 sites x (1 switch + 1 NVR + 248 cameras) = 10 000 devices by default, written as
block YAML and as JSON-in-YAML on one line (the worst case for a YAML scanner), and prints for
each: `monitord check` wall and CPU time and peak RSS, `monitord devices --json`, `tickets` and
`ticket show ID` on a store holding the fleet and 5 000 tickets (seeded once, as the daemon
would have left it), then the references from the same run: `python -c pass`,
`monitord --version`, `yaml.load` with libyaml's C loader alone, and `json.loads` of the same
document. CPU time is printed beside wall time: on a shared machine wall time is mostly noise.
Target (issue 15): each <= 1 s at 10 000 devices / 5 000 tickets.

Run: .venv/bin/python bench/config_scale.py [--sites 40] [--tickets 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "BENCH_SNMP": "public", "BENCH_ONVIF": "secret"}
CACHE = tempfile.TemporaryDirectory()
ENV["XDG_CACHE_HOME"] = CACHE.name


def fleet(sites: int, state: Path) -> dict[str, Any]:
    site_list, devices = [], []
    for s in range(sites):
        sid = f"site-{s:02d}"
        site_list.append({"id": sid, "name": f"小区{s}", "timezone": "Asia/Shanghai",
                          "zone": "city", "contract": "seed-000"})  # fmt: skip
        snmp = {"version": "2c", "community": {"env": "BENCH_SNMP"}}
        switch = f"{sid}-sw"
        devices.append({"id": switch, "name": "交换机", "kind": "switch",
                        "address": f"10.{s}.0.1", "site": sid, "snmp": snmp})  # fmt: skip
        devices.append({"id": f"{sid}-nvr", "name": "录像机", "kind": "nvr",
                        "address": f"10.{s}.0.2", "site": sid, "parents": [switch],
                        "snmp": snmp})  # fmt: skip
        for c in range(248):
            devices.append({"id": f"{sid}-cam{c:03d}", "name": "摄像机", "kind": "camera",
                            "address": f"10.{s}.{1 + c // 200}.{1 + c % 200}", "site": sid,
                            "parents": [switch],
                            "onvif": {"username": "u", "password": {"env": "BENCH_ONVIF"}}})  # fmt: skip
    return {"state_dir": str(state), "include": ["contracts/*.yaml"],
            "sites": site_list, "devices": devices}  # fmt: skip


def median_time(argv: list[str], runs: int) -> tuple[float, int, float]:
    """Median wall seconds, peak RSS (MB) and median CPU seconds of `argv`, each run's own."""
    took, peak, cpu = [], 0, []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV
        )
        assert child.stderr is not None
        errors = child.stderr.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        took.append(time.perf_counter() - start)
        cpu.append(usage.ru_utime + usage.ru_stime)
        if child.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{errors[-2000:]}")
        peak = max(peak, usage.ru_maxrss)
    return statistics.median(took), peak // 1024, statistics.median(cpu)


def seed_store(config_file: Path, tickets: int) -> int:
    """The fleet in the store's archive and `tickets` tickets; returns one ticket's id."""
    import datetime as dt

    from monitord.config.load import load
    from monitord.inventory.archive import device_record, site_records
    from monitord.store import Store
    from monitord.store.records import TicketEventRecord, TicketRecord

    config = load(config_file)
    store = Store.open(config.database_url)
    store.upgrade()
    t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    store.devices.sync(site_records(config), [device_record(d) for d in config.devices], t0)
    cameras = [d for d in config.devices if d.kind.value == "camera"]
    last = 0
    for start in range(0, tickets, 500):
        drafts = []
        for n in range(start, min(start + 500, tickets)):
            cam = cameras[n % len(cameras)]
            at = t0 + dt.timedelta(minutes=n)
            ticket = TicketRecord(
                id=0, dedup_key=f"seed-000/{cam.id}/down/{n}", contract="seed-000",
                site_id=cam.site, root_device=cam.id, fault_kind="down", ticket_class="C",
                rule="camera-down", status="open", paused=False,
                recovered=False, title=f"{cam.id} down", impacted=(cam.id,), opened_at=at,
                updated_at=at, version=0,
            )  # fmt: skip
            first = TicketEventRecord(0, 0, at, "opened", "monitord", "camera-down -> C", {})
            drafts.append((ticket, first, ()))
        for answer in store.tickets.open_many(drafts):
            assert answer is not None
            last = answer[0].id
    store.close()
    return last


def in_process(fn: Any, runs: int) -> float:
    """Median CPU seconds of `fn`, the garbage collector paused (as monitord's load pauses it)."""
    took = []
    for _ in range(runs):
        gc.disable()
        start = time.process_time()
        fn()
        took.append(time.process_time() - start)
        gc.enable()
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="Build the files and store here and keep them.")
    args = parser.parse_args()
    monitord = [sys.executable, "-m", "monitord"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) if args.keep is None else args.keep
        shutil.rmtree(base / "contracts", ignore_errors=True)
        shutil.rmtree(base / "state", ignore_errors=True)
        shutil.copytree(ROOT / "config" / "contracts", base / "contracts")
        doc = fleet(args.sites, base / "state")
        files = {
            "block": yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
            "flow": json.dumps(doc, ensure_ascii=False) + "\n",
        }
        bare, _, bare_cpu = median_time([sys.executable, "-c", "pass"], args.runs)
        version, _, version_cpu = median_time([*monitord, "--version"], args.runs)
        print(
            f"{len(doc['devices'])} devices, {args.tickets} tickets | references:"
            f" python -c pass {bare:.2f} s ({bare_cpu:.2f} CPU),"
            f" monitord --version {version:.2f} s ({version_cpu:.2f} CPU)"
        )
        ticket_id = 0
        for style, text in files.items():
            path = base / f"{style}.yaml"
            path.write_text(text, encoding="utf-8")
            if not ticket_id:
                ticket_id = seed_store(path, args.tickets)
            figures = []
            for name, command in (
                ("check", ["check"]),
                ("devices --json", ["devices", "--json"]),
                ("tickets", ["tickets"]),
                ("ticket show", ["ticket", "show", str(ticket_id)]),
            ):
                wall, rss, cpu = median_time([*monitord, "-c", str(path), *command], args.runs)
                figures.append(f"{name} {wall:4.2f} s ({cpu:4.2f} CPU, {rss} MB)")
            libyaml = in_process(lambda t=text: yaml.load(t, Loader=yaml.CSafeLoader), args.runs)
            parsed = in_process(lambda: json.loads(json.dumps(doc)), args.runs)
            print(f"{style:<5} {len(text) / 1e6:4.1f} MB  " + "  ".join(figures))
            print(
                f"      references (CPU, in process): yaml.load(CSafeLoader) {libyaml:5.2f} s"
                f"  json round trip {parsed:5.2f} s"
            )


if __name__ == "__main__":
    main()
