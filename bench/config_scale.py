"""`monitord check` on a fleet-size configuration, beside references from the same run.

Builds 40 sites x (1 switch + 1 NVR + 248 cameras) = 10 000 devices by default, written as
block YAML and as JSON-in-YAML on one line (the worst case for a YAML scanner), and prints for
each: `monitord check` wall time and peak RSS, `monitord devices --json` and `tickets` (from
the validated snapshot check leaves, config/snapshot.py), then the references: `monitord --version`,
`yaml.load` with libyaml's C loader alone, and `json.loads` of the same document.
Target (issue 15): check <= 1 s at 10 000 devices.

Run: .venv/bin/python bench/config_scale.py [--sites 40] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def median_time(argv: list[str], runs: int) -> tuple[float, int]:
    took, peak = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, check=False, capture_output=True, text=True, env=ENV)
        took.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return statistics.median(took), peak // 1024


def in_process(fn: Any, runs: int) -> float:
    took = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    monitord = [sys.executable, "-m", "monitord"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        shutil.copytree(ROOT / "config" / "contracts", base / "contracts")
        doc = fleet(args.sites, base / "state")
        files = {
            "block": yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
            "flow": json.dumps(doc, ensure_ascii=False) + "\n",
        }
        version, _ = median_time([*monitord, "--version"], args.runs)
        print(f"{len(doc['devices'])} devices; monitord --version {version:.2f} s (reference)")
        for style, text in files.items():
            path = base / f"{style}.yaml"
            path.write_text(text, encoding="utf-8")
            check, rss = median_time([*monitord, "-c", str(path), "check"], args.runs)
            listed, _ = median_time([*monitord, "-c", str(path), "devices", "--json"], args.runs)
            tickets, _ = median_time([*monitord, "-c", str(path), "tickets"], args.runs)
            libyaml = in_process(lambda t=text: yaml.load(t, Loader=yaml.CSafeLoader), args.runs)
            parsed = in_process(lambda: json.loads(json.dumps(doc)), args.runs)
            print(
                f"{style:<5} {len(text) / 1e6:4.1f} MB  check {check:5.2f} s  peak RSS {rss} MB"
                f"  devices --json {listed:4.2f} s  tickets {tickets:4.2f} s"
                f" | yaml.load(CSafeLoader) {libyaml:5.2f} s  json round trip {parsed:5.2f} s"
            )


if __name__ == "__main__":
    main()
