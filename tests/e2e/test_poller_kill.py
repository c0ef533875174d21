"""SIGKILL a real poller and a real centre at random moments during a journal's replay.

A `monitord run` centre (HTTPS on the namespace's loopback) and a `monitord poller run`
poller, real processes in one network namespace whose devices sit behind a veth (half of
them dropped, so they stay down). The poller's journal holds a backlog written with its own
journal code while it was away (state changes and operation-record lines, times in the
past). Then, 20 times, the poller or the centre (seeded choice) is SIGKILLed a seeded
random moment after it came up, and restarted. At the end: every journal entry is at the
centre exactly once (its (poller, seq) in the operation record, the content it had), the
centre acknowledged the journal's last sequence and the journal is empty, and each
device's fault has one ticket, opened at the fault's original time.

The seed is random per run and printed in every assertion; MONITORD_KILL_SEED replays it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.sites.journal import Journal
from monitord.store import Store
from monitord.store.records import OperationEvent
from tests.peers import netlab
from tests.support.daemon import DaemonProcess, free_port
from tests.support.pollerproc import PollerProcess, centre_file, monitord
from tests.support.ticketlab import config_data

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
DEVICES, DOWN = 10, 5  # cam0..cam4 are dropped: their seeded faults stay true
LINES = 20_000  # operation-record lines in the backlog: 40 pushes of 500
KILLS = 20
ICMP = {"interval": 0.5, "retry_interval": 0.2, "max_attempts": 2, "count": 1, "timeout": 0.3}


@pytest.fixture
def fast_dir() -> Iterator[Path]:
    """The journal and the centre's database on tmpfs: a SIGKILL keeps the page cache, and
    an fsync there costs nothing, so the seeding and the replay fit in the test's time."""
    base = "/dev/shm" if Path("/dev/shm").is_dir() else None
    made = Path(tempfile.mkdtemp(prefix="monitord-kill-", dir=base))
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


def centre_config(root: Path, addresses: list[str], port: int) -> Path:
    data: dict[str, Any] = config_data(f"sqlite:///{root / 'centre.db'}", "city")
    data["sites"][0]["poller"] = "p-s1"
    data["devices"] = [
        {"id": f"cam{i}", "name": f"cam{i}", "kind": "camera", "address": a, "site": "s1"}
        for i, a in enumerate(addresses)
    ]
    return centre_file(root, data, "127.0.0.1", port, icmp=ICMP, poller_silence=3.0)


def seed(path: Path, start: dt.datetime) -> dict[int, tuple[str, str, str | None]]:
    """The backlog, through the poller's own journal: each device up, then cam0..cam4 down,
    then the operation-record lines of a flapping port. Returns seq -> (device, at, to)."""
    journal = Journal(path)
    written: dict[int, tuple[str, str, str | None]] = {}
    at = start
    try:
        for i in range(DEVICES):
            t = Transition(f"cam{i}", at, State.UNKNOWN, State.UP, "seeded", {})
            written[journal.append(t)] = (t.device_id, at.isoformat(), "up")
            at += dt.timedelta(seconds=1)
        for i in range(DOWN):
            t = Transition(f"cam{i}", at, State.UP, State.DOWN, "seeded", {})
            written[journal.append(t)] = (t.device_id, at.isoformat(), "down")
            at += dt.timedelta(seconds=1)
        for n in range(LINES):
            device, to = f"cam{DOWN + n % (DEVICES - DOWN)}", ("critical", "ok")[n % 2]
            e = OperationEvent(device, at, "finding", "ok" if to == "critical" else "critical",
                               to, f"port:1: {to}", {"check": "port:1", "n": n})  # fmt: skip
            written[journal.append_event(e)] = (device, at.isoformat(), to)
            at += dt.timedelta(milliseconds=100)
    finally:
        journal.close()
    return written


def _one(database: Path, query: str, *args: str) -> int:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute(query, args).fetchone()
    finally:
        db.close()
    return int(row[0]) if row else 0


def acked(database: Path) -> int:
    return _one(database, "SELECT acked_seq FROM pollers WHERE id = 'p-s1'")


def count(database: Path, fault: str) -> int:
    return _one(database, "SELECT count(*) FROM tickets WHERE fault_kind = ?", fault)


def test_twenty_kills_during_a_replay_lose_nothing_and_apply_nothing_twice(
    fast_dir: Path,
) -> None:
    seed_value = int(os.environ.get("MONITORD_KILL_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed_value)
    why = f"seed {seed_value} (MONITORD_KILL_SEED replays it)"
    with netlab.NetLab(hosts=DEVICES) as net:
        addresses = list(net.host_addresses)
        net.drop(*addresses[:DOWN])
        port = free_port()
        config = centre_config(fast_dir, addresses, port)
        added = monitord("-c", str(config), "--lang", "en", "pollers", "add", "s1",
                         "--name", "p-s1")  # fmt: skip
        code = added.split("one-time enrolment code: ")[1].split()[0]
        printed = added.split("centre certificate: ")[1].split()[0]
        state = fast_dir / "poller"
        procs: dict[str, DaemonProcess] = {"centre": DaemonProcess(config, netns=net.client_ns)}
        kills: list[tuple[str, float, int]] = []
        try:
            procs["centre"].started()
            monitord("poller", "enrol", "--centre", f"https://127.0.0.1:{port}", "--code",
                     code, "--fingerprint", printed, "--state-dir", str(state),
                     ns=net.client_ns)  # fmt: skip
            start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            written = seed(state / "journal.db", start)
            last = max(written)
            procs["poller"] = PollerProcess(net.client_ns, state)
            procs["poller"].started()
            for _ in range(KILLS):
                victim = rng.choice(("poller", "centre"))
                delay = rng.uniform(0.2, 1.0)
                time.sleep(delay)  # the random moment; the other may still be restarting
                procs[victim].started()  # it came up (and took part in the replay)
                kills.append((victim, round(delay, 3), acked(fast_dir / "centre.db")))
                procs[victim].signal(signal.SIGKILL)
                procs[victim].proc.wait(10)
                procs[victim] = (
                    PollerProcess(net.client_ns, state)
                    if victim == "poller"
                    else DaemonProcess(config, netns=net.client_ns)
                )
            during = sum(1 for _, _, a in kills if a < last)
            assert during >= KILLS - 2, (why, kills)  # the kills fell inside the replay
            deadline = time.monotonic() + 40
            while acked(fast_dir / "centre.db") < last and time.monotonic() < deadline:
                time.sleep(0.2)
            assert acked(fast_dir / "centre.db") == last, (why, kills)
            # The desk hears of the faults (after a silence: once the replay is drained).
            while count(fast_dir / "centre.db", "down") < DOWN and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for running in procs.values():
                running.stop()

    journal = sqlite3.connect(state / "journal.db")
    try:
        (remaining,) = journal.execute("SELECT count(*) FROM entries").fetchone()
        (top,) = journal.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'entries'"
        ).fetchone()
    finally:
        journal.close()
    assert (remaining, top) == (0, last), why  # all acknowledged, nothing written live

    store = Store.open(f"sqlite:///{fast_dir / 'centre.db'}")
    try:
        events = [e for i in range(DEVICES)
                  for e in store.states.operation_record(f"cam{i}", 10 * LINES)]  # fmt: skip
        applied = [e for e in events if "poller_seq" in e.observation]
        counts = Counter(int(e.observation["poller_seq"]) for e in applied)
        assert [s for s, n in counts.items() if n > 1] == [], (why, "applied twice")
        assert sorted(set(written) - set(counts)) == [], (why, "lost")
        got = {int(e.observation["poller_seq"]): (e.device_id, e.at.isoformat(), e.to_state)
               for e in applied}  # fmt: skip
        assert got == {s: (d, _utc(at), to) for s, (d, at, to) in written.items()}, why
        tickets = store.tickets.recent(None, None, 1000)
        faults = Counter(t.root_device for t in tickets if t.fault_kind == "down")
        assert faults == Counter(f"cam{i}" for i in range(DOWN)), (why, tickets)
        opened = {t.root_device: t.opened_at.isoformat() for t in tickets if t.fault_kind == "down"}
        assert opened == {d: _utc(at) for d, at, to in written.values() if to == "down"}, why
        links = Counter(t.dedup_key for t in tickets if not t.recovered)
        assert all(n == 1 for n in links.values()), (why, tickets)
    finally:
        store.close()


def _utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).isoformat()
