"""Issue 18 in a netns lab: cut and heal 50 hosts 20 times at random phases inside a check.

The daemon runs in the lab's client namespace with short intervals (a check of 3 echoes
every 0.6 s), mailing every notification, ungrouped, to an SMTP peer (aiosmtpd) in the
same namespace. Each round drops all 50 hosts' echoes until all are confirmed DOWN, waits
a random fraction of a check, and heals; many checks straddle the heal and lose 1 or 2 of
their echoes. After every heal: no ticket opened, no "opened" mail, no DEGRADED state. A
51st host loses 30 % of its echoes at random (nftables numgen) and gets its confirmed
DEGRADED ticket, once.

The seed is random per run and printed in every assertion; MONITORD_LAB_SEED replays it.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitord.store import Store
from tests.peers import mailfile, netlab
from tests.peers.notify import free_port
from tests.support.daemon import DaemonProcess
from tests.support.notifylab import notify_data

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
HOSTS, ROUNDS = 50, 20
INTERVAL = 0.6  # a check lasts up to 0.4 s: 3 echoes 0.1 s apart, 0.2 s for the last
ICMP = {"interval": INTERVAL, "retry_interval": 0.2, "max_attempts": 3, "count": 3,
        "echo_interval": 0.1, "timeout": 0.2}  # fmt: skip
NAMES = [f"h{i:02d}" for i in range(HOSTS)]
LOSSY = "lossy"


def config(tmp_path: Path, addresses: list[str], port: int) -> Path:
    data = notify_data(tmp_path, port)
    data["devices"] = [
        {"id": name, "name": name, "kind": "camera", "address": address, "site": "s1"}
        for name, address in zip([*NAMES, LOSSY], addresses, strict=True)
    ]
    data |= {"icmp": ICMP, "icmp_mode": "raw", "metrics": {"listen": "127.0.0.1", "port": 0}}
    # Twenty cuts in a minute are not flapping for this lab; the flapping rules have tests.
    data["flapping"] = {"high_pct": 95, "low_pct": 90}
    data["notify"]["grouping"] = {"enabled": False}  # one mail per ticket event, countable
    data["notify"]["recipients"]["*"][0]["language"] = "en"
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def changes(daemon: DaemonProcess, to_state: str, since: int) -> list[dict[str, Any]]:
    return [
        e
        for e in daemon.lines[since:]
        if e.get("event") == "device state changed" and e.get("to_state") == to_state
    ]


def wait_all(daemon: DaemonProcess, to_state: str, since: int, why: str) -> None:
    deadline = time.monotonic() + 20
    while missing := set(NAMES) - {e["device"] for e in changes(daemon, to_state, since)}:
        assert time.monotonic() < deadline, f"{why}: {sorted(missing)} not {to_state}"
        time.sleep(0.05)


def test_cut_and_heal_50_hosts_20_times_opens_nothing_after_a_heal(tmp_path: Path) -> None:
    seed = int(os.environ.get("MONITORD_LAB_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    port, mails = free_port(), tmp_path / "mails.jsonl"
    with netlab.NetLab(hosts=HOSTS + 1) as lab:
        hosts = lab.host_addresses[:HOSTS]
        # 30 %: a check loses all 3 echoes with p = 0.027, so three such checks in a row (a
        # confirmed DOWN) come about 150 x 0.027^3 = 0.3 % of runs; at 40 % that was ~4 % and
        # a lossy host DOWN now and then failed the run. 66 % of checks still lose one or more.
        lab.random_loss(lab.host_addresses[HOSTS], 3)
        peer = subprocess.Popen(
            ["ip", "netns", "exec", lab.client_ns, sys.executable, "-m", "tests.peers.mailfile",
             str(port), str(mails)],
            stdout=subprocess.PIPE, text=True, cwd=netlab.REPO,
            env={**os.environ, "PYTHONPATH": str(netlab.REPO)},
        )  # fmt: skip
        assert peer.stdout is not None and peer.stdout.readline().strip() == "ready"
        path = config(tmp_path, lab.host_addresses, port)
        daemon = DaemonProcess(path, lab.client_ns)
        heals: list[tuple[dt.datetime, dt.datetime]] = []  # (heal, next cut or end)
        try:
            daemon.started()
            wait_all(daemon, "up", 0, f"seed {seed}: start")
            for n in range(ROUNDS):
                mark = len(daemon.lines)
                lab.drop(*hosts)
                wait_all(daemon, "down", mark, f"seed {seed} round {n}: cut")
                # Tickets are written just after the state is logged; then a random phase.
                time.sleep(0.2 + rng.uniform(0, INTERVAL))
                mark = len(daemon.lines)
                lab.undrop(*hosts)
                healed = dt.datetime.now(dt.UTC)
                wait_all(daemon, "up", mark, f"seed {seed} round {n}: heal")
                time.sleep(rng.uniform(0, INTERVAL))
                heals.append((healed, dt.datetime.now(dt.UTC)))
            time.sleep(3 * INTERVAL)  # the last heal's stragglers, and the mails to go out
            heals[-1] = (heals[-1][0], dt.datetime.now(dt.UTC))
            degraded = [e["device"] for e in changes(daemon, "degraded", 0)]
        finally:
            assert daemon.stop() == 0, daemon.tail()
            peer.kill()
            peer.wait()
    store = Store.open(f"sqlite:///{tmp_path / 'monitord.db'}")
    try:
        found = store.tickets.recent(limit=1000)
        events = {t.id: [e.kind for e in store.tickets.events(t.id)] for t in found}
    finally:
        store.close()
    received = mailfile.read(mails)
    # The lossy host's ticket may be confirmed at any moment, heals included: not counted.
    after = [
        t for t in found if t.root_device != LOSSY and any(a <= t.opened_at <= b for a, b in heals)
    ]
    opened_mails = [m for m in received if " opened: " in m["subject"]]
    opened_ids = [int(re.findall(r"#(\d+) opened: ", m["subject"])[0]) for m in opened_mails]
    late = [i for i in opened_ids if i in {t.id for t in after}]
    said = f"seed {seed}: {len(found)} tickets, {len(received)} mails"
    # The figures the issue asks for (visible with -s).
    sys.stdout.write(f"after heals: {len(after)} tickets, {len(late)} 'opened' mails; {said}\n")
    assert after == [] and late == [], said
    assert not [d for d in degraded if d != LOSSY], f"{said}: {degraded}"
    by_root = {t.root_device: t for t in found}
    assert sorted(by_root) == sorted([*NAMES, LOSSY]) and len(found) == HOSTS + 1, said
    assert all(events[by_root[h].id].count("opened") == 1 for h in NAMES), said
    assert all(events[by_root[h].id].count("recovered") == 1 for h in NAMES), said
    lossy = by_root[LOSSY]
    assert lossy.rule == "degraded-link" and events[lossy.id].count("opened") == 1, said
    assert len(opened_mails) == HOSTS + 1, said  # one per ticket, none from a heal
    assert len({m["subject"] for m in opened_mails}) == HOSTS + 1, said
