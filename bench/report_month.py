"""The monthly report over a large fleet: how long it takes, and what it weighs as a PDF.

A SQLite file holds a month of history for `--devices` devices over sites of 1 switch,
1 NVR and 248 cameras (40 sites at 10 000 devices, as in issue 15): each device goes down
and up `--flaps` times, and `--tickets` tickets are opened, acknowledged and resolved.

Two figures, each beside a reference measured in the same run:
  * the figures (read + compute), beside reading the same rows without computing anything;
  * the PDF (document, HTML, headless Chromium): pages, bytes and seconds, beside the same
    figures for another tree's code (`--reference-tree DIR`, e.g. main exported with
    `git archive main | tar -x -C DIR`) run on the same database in a subprocess.

    .venv/bin/python bench/report_month.py [--devices 10000] [--flaps 4] [--tickets 500]
        [--reference-tree /tmp/main]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__" and "--render-only" not in sys.argv:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord import log
from monitord.config import Config
from monitord.config.contracts import Contract
from monitord.inventory.archive import device_record, site_records
from monitord.reports import chromium, html, monthly, monthly_view, period
from monitord.reports.sources import NoTasks, NoWindows
from monitord.store import Store
from monitord.store.records import OperationEvent, SavedState
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind

M0 = dt.datetime(2026, 5, 31, 16, tzinfo=dt.UTC)
PER_SITE = 250  # 1 switch, 1 NVR, 248 cameras


def fleet(n: int, contracts: Path) -> Config:
    import yaml

    contract = yaml.safe_load((contracts / "seed-000.yaml").read_text(encoding="utf-8"))
    n_sites = max(1, -(-n // PER_SITE))
    sites = [{"id": f"s{i:02d}", "name": f"site {i}", "contract": "seed-000"}
             for i in range(n_sites)]  # fmt: skip
    kinds = {0: "switch", 1: "nvr"}
    devices = [
        {"id": f"d{i:05d}", "name": f"{kinds.get(i % PER_SITE, 'camera')} {i}",
         "kind": kinds.get(i % PER_SITE, "camera"), "site": f"s{i // PER_SITE:02d}",
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
        device = config.devices[i % len(config.devices)]
        t = tickets.open_hotline(store, contract, device.site, f"desk-{i}", f"call {i}", opened,
                                 device.id)  # fmt: skip
        tickets.append(store, t.id, EventKind.ACKNOWLEDGED, "li", opened + dt.timedelta(minutes=20))
        tickets.append(store, t.id, EventKind.RESOLVED, "li", opened + dt.timedelta(hours=30))


def _change(device: str, at: dt.datetime, old: str, new: str) -> tuple[OperationEvent, SavedState]:
    return OperationEvent(device, at, "state", old, new, "bench"), SavedState(
        device, new, at, at, "bench"
    )


def render_pdf(url: str, devices: int, contracts: Path, out: Path) -> dict[str, float]:
    """The month as a PDF (and its appendix, where the code has one) with the code importable
    here; the figures as a dict. Uses only calls main's code has too."""
    store = Store.open(url)
    config = fleet(devices, contracts)
    span = period.month("2026-06", "Asia/Shanghai", M0 + dt.timedelta(days=40))
    began = time.perf_counter()
    report = monthly.build(store, config.contracts[0], span, "zh", NoWindows(), NoTasks())
    store.close()
    computed = time.perf_counter() - began
    try:  # this tree's code; main's has no appendix and takes (report, generated) only
        from monitord.reports import appendix
    except ImportError:
        doc = monthly_view.document(report, span.end)
        name = None
    else:
        name = appendix.file_name(out)
        doc = monthly_view.document(report, span.end, name)  # type: ignore[call-arg,unused-ignore]
    chromium.render(html.render(doc), out, "pdf")
    extra = 0
    if name:
        (out.parent / name).write_text(appendix.to_csv(report), encoding="utf-8")
        extra = (out.parent / name).stat().st_size
    seconds = time.perf_counter() - began
    data = out.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page\b", data))
    return {"pages": pages, "bytes": len(data), "seconds": seconds, "figures": computed,
            "appendix_bytes": extra}  # fmt: skip


def _reference(tree: Path, url: str, devices: int, contracts: Path, out: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, __file__, "--render-only", url, "--devices", str(devices),
            "--contracts", str(contracts), "--out", str(out)]  # fmt: skip
    done = subprocess.run(argv, env=env, cwd=tree, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--flaps", type=int, default=4)
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--reference-tree", type=Path, default=None)
    parser.add_argument("--keep", type=Path, default=None, help="Copy the PDFs here.")
    parser.add_argument("--render-only", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--contracts", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    log.configure("warning", json=True)
    if args.render_only:
        print(json.dumps(render_pdf(args.render_only, args.devices, args.contracts, args.out)))
        return
    contracts = Path(__file__).resolve().parent.parent / "config" / "contracts"
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store.open(url)
        store.upgrade()
        config = fleet(args.devices, contracts)
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
        store.close()
        print(f"reference: reading the rows the report needs   {reference:6.2f} s")
        print(f"report figures (read + compute)                 {figures:6.2f} s "
              f"({figures / reference:.1f}x the reference)")  # fmt: skip
        print(f"tickets {report.tickets.total}, availability {report.overall.availability:.4%}")
        if chromium.find() is None:
            print("no headless Chromium here: PDF figures skipped")
            return
        out = Path(tmp) / "this.pdf"
        this = render_pdf(url, args.devices, contracts, out)
        rows = [("this tree", this)]
        if args.reference_tree:
            ref_out = Path(tmp) / "reference.pdf"
            rows.append(("reference tree", _reference(
                args.reference_tree, url, args.devices, contracts, ref_out)))  # fmt: skip
        print(f"{'monthly PDF':16} {'pages':>6} {'PDF MB':>8} {'seconds':>8} {'of which figures':>17}"
              f" {'appendix MB':>12}")  # fmt: skip
        for label, f in rows:
            print(f"{label:16} {f['pages']:6.0f} {f['bytes'] / 1e6:8.2f} {f['seconds']:8.1f} "
                  f"{f['figures']:17.1f} {f['appendix_bytes'] / 1e6:12.2f}")  # fmt: skip
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for pdf in Path(tmp).glob("*.pdf"):
                (args.keep / pdf.name).write_bytes(pdf.read_bytes())


if __name__ == "__main__":
    main()
