"""The site poller's journal size: bytes per device per day at ICMP 10 s + SNMP 60 s, and 7
days of a 500-device site with the centre unreachable the whole time (nothing shipped,
nothing pruned: the worst case the journal must buffer; target ≤ 200 MB).

Written by the poller's own code on a simulated clock: the results go through
`prevention.history.feed_icmp`/`feed_snmp` into a `HistoryRecorder` whose store is the
poller's `JournalHours` (flushed every 5 minutes, as `monitord poller run` does), and the
state changes and finding changes the watches would confirm through `Journal.append` and
`Journal.append_event`. `--days` simulated days are measured (default 1); 7 days are
extrapolated from them (the journal grows linearly: one rollup per series and hour, one
entry per change), and the output says so. Reference, measured in the same run: the same
results journaled raw (one entry per probe result, what a journal without rollups would
hold), on `--raw-devices` devices for one hour, scaled to the site and the week.

    .venv/bin/python bench/journal_size.py [--devices 500] [--days 1] [--ports 2]
        [--switches 25] [--changes 4] [--findings 8] [--dir DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitord.checks.icmp.evaluate import Outcome
from monitord.health.findings import Finding, Status
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.prevention.history import HistoryRecorder, feed_icmp, feed_snmp
from monitord.sites.journal import Journal
from monitord.sites.poller import JournalHours
from monitord.store.records import OperationEvent

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
ICMP_EVERY, SNMP_EVERY, FLUSH_EVERY = 10, 60, 300  # seconds
MB = 1000 * 1000


def snmp_findings(device: str, ports: int, n: int) -> list[Finding]:
    """What one SNMP poll of a device yields for the history: a volume, a sensor, ports."""
    out = [
        Finding(device, "storage:31", Status.OK, "disk", {"used_ratio": 0.5 + n * 1e-6}),
        Finding(device, "temperature:1", Status.OK, "temp", {"celsius": 40.0 + n % 7}),
    ]
    out += [Finding(device, f"port:{p}", Status.OK, "port", {"in_errors_per_s": 0.0,
                                                             "out_errors_per_s": 0.01 * (n % 3)})
            for p in range(1, ports + 1)]  # fmt: skip
    return out


def rtt_ms(n: int) -> float:
    return 1.0 + n % 13 / 10


def icmp(n: int) -> dict[str, object]:
    return {"received": 1, "loss_pct": 0.0, "rtt_ms": {"avg": rtt_ms(n)}}


def simulate(journal: Journal, args: argparse.Namespace) -> tuple[int, int]:
    """`args.days` days of the site; returns (entries, rollups) written."""
    devices = [f"d{i:04d}" for i in range(args.devices)]
    ports = {d: (24 if i < args.switches else args.ports) for i, d in enumerate(devices)}
    recorder = HistoryRecorder(JournalHours(journal, "p-bench", ["s1"]), dt.timedelta(days=35))
    seconds = args.days * 86400
    entries = 0
    # Changes spread evenly over the day: each device goes down and up (`changes` moves a
    # day) and has `findings` HARD finding changes a day (a port that flaps, a disk warning).
    change_every = 86400 / max(args.changes, 1)
    finding_every = 86400 / max(args.findings, 1)
    for t in range(0, seconds, ICMP_EVERY):
        at = T0 + dt.timedelta(seconds=t)
        n = t // ICMP_EVERY
        for d in devices:
            r = rtt_ms(n)
            feed_icmp(recorder, d, Outcome(State.UP, "", 1, 1, 0.0, r, r, r), at)
        if t % SNMP_EVERY == 0:
            for d in devices:
                feed_snmp(recorder, d, snmp_findings(d, ports[d], n), (), at)
        if args.changes and t % int(change_every) < ICMP_EVERY:
            k = int(t // change_every)
            for d in devices:
                frm, to = (State.UP, State.DOWN) if k % 2 == 0 else (State.DOWN, State.UP)
                journal.append(Transition(d, at, frm, to, f"icmp: {to.value} (bench)",
                                          {"sent": 3, "received": 0 if to == State.DOWN else 3,
                                           "loss_pct": 100.0 if to == State.DOWN else 0.0}))  # fmt: skip
                entries += 1
        if args.findings and t % int(finding_every) < ICMP_EVERY:
            k = int(t // finding_every)
            for d in devices:
                frm, to = ("ok", "critical") if k % 2 == 0 else ("critical", "ok")
                journal.append_event(OperationEvent(d, at, "finding", frm, to,
                                                    f"port:1: link {to} (bench)",
                                                    {"check": "port:1", "values": {
                                                        "oper_status": 2, "speed_mbps": 100}}))  # fmt: skip
                entries += 1
        if t % FLUSH_EVERY == FLUSH_EVERY - ICMP_EVERY:
            recorder.flush(at)
    recorder.flush(T0 + dt.timedelta(seconds=seconds))
    return entries, journal.rollups()


def raw_reference(folder: Path, args: argparse.Namespace) -> float:
    """Bytes per device per day if every probe result were a journal entry (measured on
    `raw_devices` devices for one hour)."""
    journal = Journal(folder / "raw.db")
    before = journal.used()
    for t in range(0, 3600, ICMP_EVERY):
        at = T0 + dt.timedelta(seconds=t)
        for i in range(args.raw_devices):
            d = f"d{i:04d}"
            journal.append_event(OperationEvent(d, at, "icmp", None, "up", "icmp", icmp(t)))
            if t % SNMP_EVERY == 0:
                for f in snmp_findings(d, args.ports, t):
                    journal.append_event(OperationEvent(d, at, "snmp", None, "ok", f.summary,
                                                        {"check": f.check, **f.values}))  # fmt: skip
    used = journal.used() - before
    journal.close()
    return used * 24 / args.raw_devices


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--ports", type=int, default=2, help="SNMP ports of an edge device")
    parser.add_argument("--switches", type=int, default=25, help="devices with 24 ports")
    parser.add_argument("--changes", type=int, default=4, help="state changes/device/day")
    parser.add_argument("--findings", type=int, default=8, help="finding changes/device/day")
    parser.add_argument("--raw-devices", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        journal = Journal(folder / "journal.db")
        empty = journal.used()
        started = time.perf_counter()
        entries, rollups = simulate(journal, args)
        took = time.perf_counter() - started
        used = journal.used() - empty
        on_disk = sum(p.stat().st_size for p in folder.glob("journal.db*"))
        journal.close()
        per_device_day = used / args.devices / args.days
        week_500 = per_device_day * 500 * 7
        print(f"simulated {args.days} day(s) of {args.devices} devices (ICMP {ICMP_EVERY} s, "
              f"SNMP {SNMP_EVERY} s; {args.switches} switches of 24 ports, the rest "
              f"{args.ports} ports, 1 volume, 1 sensor) in {took:.1f} s")  # fmt: skip
        print(f"journal: {entries} entries, {rollups} rollups; {used / MB:.2f} MB in use "
              f"({on_disk / MB:.2f} MB on disk with the WAL)")  # fmt: skip
        print(f"per device per day: {per_device_day / 1000:.1f} kB")
        print(f"7 days of a 500-device site: {week_500 / MB:.1f} MB "
              f"({'measured' if args.days >= 7 and args.devices == 500 else 'extrapolated'}"
              f" from the measured {args.days} day(s) of {args.devices} devices; "
              f"target ≤ 200 MB, default cap {500} MB)")  # fmt: skip
        raw = raw_reference(folder, args)
        print(f"reference, same run: every result journaled raw: {raw / 1000:.1f} kB per device "
              f"per day, {raw * 500 * 7 / MB:.0f} MB for the week "
              f"(measured on {args.raw_devices} devices for 1 h, scaled)")  # fmt: skip


if __name__ == "__main__":
    main()
