"""Two `monitord run` centres on one PostgreSQL with `centre.ha`: one leads, the other waits.

A storm of 1 000 notifications is in the outbox. Each centre sends through its own SMTP
server (aiosmtpd on loopback), so every mail says which centre sent it. The leader is
SIGKILLed mid-storm: the standby takes over within 15 s and finishes, repeating only what the
kill caught claimed (same Message-ID, from the idempotency key). Then the new leader is
SIGSTOPped, a fresh centre takes over and sends a second batch; the stopped one, resumed,
sends nothing and writes nothing (it sees its lease lapsed; the fence would refuse it).
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitord.config import Config
from monitord.store import Store
from monitord.store.records import OutboxRecord
from tests.peers.notify import Mailbox, free_port, message_id, smtp_server
from tests.support.daemon import DaemonProcess
from tests.support.notifylab import notify_data

pytestmark = pytest.mark.postgres
STORM, SECOND = 1000, 50
LEASE = 4.0
LEADING = "leading the centre's singleton work"


def centre(tmp_path: Path, pg_url: str, node: str, smtp: int) -> Path:
    home = tmp_path / node
    home.mkdir()
    data: dict[str, Any] = notify_data(home, smtp)
    data["database"] = pg_url
    data["centre"] = {"ha": {"enabled": True, "lease": f"{LEASE}s", "node": node}}
    # Claims left by the kill come back after 1 round (50 rows, 50 seats) x 3 s timeout x 2
    # (dispatcher.py); 3 s is far beyond a loopback send, so no repeat comes from a timeout.
    data["notify"] |= {"concurrency": 50, "lease": "2s"}
    data["notify"]["channels"][0]["timeout"] = 3
    path = home / "monitord.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def leading(daemon: DaemonProcess, timeout: float) -> dict[str, Any]:
    return daemon.wait_for(lambda e: e.get("event") == LEADING, timeout)


def wait_leader(
    daemons: dict[str, DaemonProcess], among: tuple[str, ...], epoch: int, timeout: float
) -> str:
    """Which of `among` took the lease at `epoch` (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for n in among:
            found = [e for e in daemons[n].lines if e.get("event") == LEADING]
            if any(e.get("epoch") == epoch for e in found):
                return n
        time.sleep(0.05)
    raise AssertionError(f"no centre of {among} took epoch {epoch} in {timeout}s")


def enqueue(store: Store, prefix: str, n: int) -> None:
    store.outbox.enqueue(
        [OutboxRecord("mail", f"{prefix}{i}@example.com", f"{prefix} {i}", "b", key=f"{prefix}/{i}")
         for i in range(n)],
        dt.datetime.now(dt.UTC),
    )  # fmt: skip


def wait_all_sent(store: Store, timeout: float, leader: DaemonProcess) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if {m.state for m in store.outbox.messages(limit=10_000)} == {"sent"}:
            return
        time.sleep(0.2)
    left = Counter((m.state, m.attempts) for m in store.outbox.messages(limit=10_000))
    raise AssertionError(f"outbox not drained in {timeout}s: {left}; leader:\n{leader.tail(60)}")


def test_sigkill_the_leader_mid_storm_and_a_resumed_old_leader_writes_nothing(
    tmp_path: Path, pg_url: str
) -> None:
    ports = {n: free_port() for n in ("a", "b", "c")}
    boxes = {n: Mailbox(delay=0.01) for n in ports}
    paths = {n: centre(tmp_path, pg_url, n, p) for n, p in ports.items()}
    store = Store.open(Config.model_validate({"database": pg_url}).database_url)
    daemons: dict[str, DaemonProcess] = {}
    marks: dict[str, float] = {}
    t0 = time.monotonic()
    try:
        store.upgrade()
        enqueue(store, "storm", STORM)
        with (
            smtp_server(boxes["a"], ports["a"]),
            smtp_server(boxes["b"], ports["b"]),
            smtp_server(boxes["c"], ports["c"]),
        ):
            daemons |= {n: DaemonProcess(paths[n]) for n in paths}  # started side by side
            first = wait_leader(daemons, tuple(paths), 1, 30)  # whoever is up first leads
            for d in daemons.values():
                d.started()
            marks["started"] = time.monotonic() - t0
            deadline = time.monotonic() + 20
            while len(boxes[first].received) < 100 and time.monotonic() < deadline:
                time.sleep(0.005)
            daemons[first].signal(signal.SIGKILL)
            killed = time.monotonic()
            daemons[first].proc.wait(timeout=10)
            caught = {message_id(m.group_key or "")
                      for m in store.outbox.messages(states=["sending"], limit=10_000)}  # fmt: skip
            assert 0 < len(boxes[first].received) < STORM, "the kill missed the storm"
            standbys = tuple(n for n in paths if n != first)
            new = wait_leader(daemons, standbys, 2, 15)
            marks["takeover"] = time.monotonic() - killed
            assert marks["takeover"] < 15
            marks["killed_at_mail"] = len(boxes[first].received)
            wait_all_sent(store, 30, daemons[new])
            marks["drained"] = time.monotonic() - t0

            # The new leader paused (SIGSTOP) past its lease, resumed after a takeover.
            (other,) = (n for n in standbys if n != new)
            paused = daemons[new]
            paused.signal(signal.SIGSTOP)
            sent_before = len(boxes[new].received)
            assert wait_leader(daemons, (other,), 3, 15) == other
            enqueue(store, "second", SECOND)
            wait_all_sent(store, 20, daemons[other])
            paused.signal(signal.SIGCONT)
            paused.wait_for(lambda e: e.get("event") == "no longer leading the centre", 10)
            time.sleep(LEASE / 2)  # a resumed leader that wrote would have done so by now
            assert len(boxes[new].received) == sent_before  # nothing sent after the pause
            holder = store.leases.holder("centre")
            assert holder is not None and holder[0].startswith(f"{other}/") and holder[1] == 3
            marks["total"] = time.monotonic() - t0
            for n in standbys:
                assert daemons[n].stop() == 0, daemons[n].tail()
    finally:
        for d in daemons.values():
            d.stop()
        final = store.outbox.messages(limit=10_000)
        store.close()

    sys.stderr.write(f"\ncentre HA: { ({k: round(v, 1) for k, v in marks.items()}) }\n")
    assert len(final) == STORM + SECOND and {m.state for m in final} == {"sent"}
    received = Counter(mid for box in boxes.values() for _, _, mid in box.received)
    assert len(received) == STORM + SECOND  # none lost
    repeated = {mid for mid, n in received.items() if n > 1}
    assert repeated <= caught, f"repeated without being in flight at the kill: {repeated - caught}"
    assert max(received.values()) <= 2
    second = {mid for _, subject, mid in boxes[other].received if subject.startswith("second")}
    assert len(second) == SECOND  # the new leader sent the whole second batch
