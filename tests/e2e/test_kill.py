"""The kill test: SIGKILL the daemon at random moments during a storm of faults, repeatedly.

A netns lab with switches (cameras behind them), standalone NVRs and cameras on a seed 000
site. A random part of it dies at once; the daemon is killed and restarted 5-8 times while
it confirms the outages and opens tickets (half the kills at a random instant, half right
after it announces a change: on disk, its ticket not yet written); then it settles. Then a
dead switch and a dead lone device come back, with 2-3 more kills. After each phase, read
back with `monitord tickets --json` and from the store: every root fault has exactly one
active ticket (no duplicate dedup key), nothing cut off behind a dead switch has one, each
ticket names every device its fault took down, recovery is noted once on the tickets of
what came back, no ticket's event log has a gap, every device's operation record is an
unbroken chain of transitions, and the final states are what the lab did.

The seed is random per run and printed in every assertion; MONITORD_KILL_SEED replays it.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitord.store import Store
from tests.peers import netlab
from tests.support.daemon import ICMP, DaemonProcess, cli_json, seed_000_config

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]

SWITCHES, CAMERAS_PER_SWITCH, NVRS, LONE_CAMERAS = 5, 6, 4, 6
KILLS = (5, 8)  # how many times the daemon is SIGKILLed, chosen by the seed
SETTLE = 40.0  # seconds the last daemon gets to reach each final picture


def build(lab: netlab.NetLab) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The devices, and the address of each."""
    addresses = iter(lab.host_addresses)
    devices: list[dict[str, Any]] = []
    for s in range(SWITCHES):
        devices.append({"id": f"sw-{s}", "kind": "switch", "address": next(addresses)})
        devices += [
            {"id": f"sw-{s}-cam-{c}", "address": next(addresses), "parents": [f"sw-{s}"]}
            for c in range(CAMERAS_PER_SWITCH)
        ]
    devices += [{"id": f"nvr-{n}", "kind": "nvr", "address": next(addresses)} for n in range(NVRS)]
    devices += [{"id": f"cam-{n}", "address": next(addresses)} for n in range(LONE_CAMERAS)]
    return devices, {d["id"]: d["address"] for d in devices}


def children(devices: list[dict[str, Any]]) -> dict[str, list[str]]:
    below: dict[str, list[str]] = {}
    for d in devices:
        for parent in d.get("parents", ()):
            below.setdefault(parent, []).append(d["id"])
    return below


def storm(rng: random.Random, devices: list[dict[str, Any]]) -> tuple[set[str], dict[str, str]]:
    """(the devices that stop answering, the state each device must end in)."""
    below = children(devices)
    switches = sorted(below)
    dead_switches = set(rng.sample(switches, rng.randint(2, len(switches) - 1)))
    dark: set[str] = set()
    for s in dead_switches:
        dark |= {s, *below[s]}
    # Cameras behind healthy switches die on their own: a fault (and ticket) each.
    behind_healthy = [c for s in switches if s not in dead_switches for c in below[s]]
    dark |= set(rng.sample(behind_healthy, rng.randint(1, 4)))
    standalone = [d["id"] for d in devices if not d.get("parents") and d["id"] not in below]
    dark |= set(rng.sample(standalone, rng.randint(2, len(standalone) - 2)))
    expected: dict[str, str] = {}
    for d in devices:
        cut_off = any(p in dead_switches for p in d.get("parents", ()))
        expected[d["id"]] = "unreachable" if cut_off else "down" if d["id"] in dark else "up"
    return dark, expected


def cli_tickets(config: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = cli_json(config, "tickets")
    return found


def settled(
    store: Store, expected: dict[str, str], roots: dict[str, set[str]], back: set[str]
) -> bool:
    """The states are final and every root's ticket names its whole impact (and recovery)."""
    states = {k: v.state for k, v in store.states.load().items()}
    if states != expected:
        return False
    active = [t for t in store.tickets.recent(None, None, 10_000) if t.status != "closed"]
    have = {t.root_device: (set(t.impacted), t.recovered) for t in active}
    return all(have.get(root) == (impact, root in back) for root, impact in roots.items())


class Killer:
    """Runs the daemon and SIGKILLs it at the seed's random moments, restarting it each time."""

    def __init__(self, config: Path, netns: str, rng: random.Random) -> None:
        self.config, self.netns, self.rng = config, netns, rng
        self.daemon = DaemonProcess(config, netns)
        self.kills: list[float] = []
        self.began = time.monotonic()

    def storm(self, kills: int, news: set[str]) -> None:
        """Kill it `kills` times; `news`: the states whose announcement may trigger a kill."""
        for _ in range(kills):
            if self.rng.random() < 0.5:
                # Right after a change is announced: it is on disk, its ticket is being
                # written (or not yet): the narrowest window there is.
                self.after_news(news, timeout=8.0)
            else:
                # Some kills land while it starts up and reconciles, some mid-confirmation.
                if self.rng.random() < 0.7:
                    self.daemon.started()
                time.sleep(self.rng.uniform(0.0, 3.0))
            self.daemon.signal(signal.SIGKILL)
            self.daemon.proc.wait(timeout=10)
            self.kills.append(round(time.monotonic() - self.began, 2))
            self.daemon = DaemonProcess(self.config, self.netns)
        self.daemon.started()

    def after_news(self, news: set[str], timeout: float) -> None:
        seen, deadline = len(self.daemon.lines), time.monotonic() + timeout
        while time.monotonic() < deadline:  # bounded: no news in time, kill anyway
            fresh, seen = self.daemon.lines[seen:], len(self.daemon.lines)
            if any(
                e.get("event") == "device state changed" and e.get("to_state") in news
                for e in fresh
            ):
                return
            time.sleep(0.002)


def test_sigkill_during_a_storm_loses_and_doubles_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("MONITORD_KILL_SEED") or random.SystemRandom().randrange(2**32))
    rng = random.Random(seed)
    hosts = SWITCHES * (1 + CAMERAS_PER_SWITCH) + NVRS + LONE_CAMERAS
    with netlab.NetLab(hosts=hosts) as lab:
        devices, address = build(lab)
        config = seed_000_config(tmp_path, devices, icmp=ICMP)
        dark, expected = storm(rng, devices)
        below = children(devices)
        roots = {
            d: {d, *(c for c in below.get(d, ()) if expected[c] == "unreachable")}
            for d, state in expected.items()
            if state == "down"
        }
        # Then some of it comes back, killed again meanwhile: a dead switch and a lone device.
        back = {
            rng.choice(sorted(r for r in roots if r in below)),
            rng.choice(sorted(r for r in roots if r not in below)),
        }
        killer = Killer(config, lab.client_ns, rng)
        store = Store.open(f"sqlite:///{tmp_path / 'state' / 'monitord.db'}")
        why = f"seed {seed} (replay: MONITORD_KILL_SEED={seed}), dark: {sorted(dark)}"
        try:
            killer.daemon.started()
            for d in devices:
                killer.daemon.wait_state(d["id"], "up", timeout=20)
            killer.began = time.monotonic()
            lab.drop(*(address[d] for d in sorted(dark)))
            killer.storm(rng.randint(*KILLS), {"down", "unreachable"})
            wait(store, expected, roots, set())
            why += f", killed at {killer.kills} s into the storm"
            check(config, store, devices, expected, roots, set(), why)

            returning = sorted(d for r in back for d in roots[r])
            lab.undrop(*(address[d] for d in returning))
            expected |= dict.fromkeys(returning, "up")
            killer.storm(rng.randint(2, 3), {"up"})
            wait(store, expected, roots, back)
            why += f" and {killer.kills[-3:]} s while {sorted(back)} came back"
            check(config, store, devices, expected, roots, back, why)
        finally:
            store.close()
            assert killer.daemon.stop() == 0, f"{why}\n{killer.daemon.tail()}"


def wait(
    store: Store, expected: dict[str, str], roots: dict[str, set[str]], back: set[str]
) -> None:
    """Until the picture is final (bounded); then a little longer: stragglers change nothing."""
    deadline = time.monotonic() + SETTLE
    while not settled(store, expected, roots, back) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)


def check(
    config: Path,
    store: Store,
    devices: list[dict[str, Any]],
    expected: dict[str, str],
    roots: dict[str, set[str]],
    back: set[str],
    why: str,
) -> None:
    # The final states are what the lab did.
    states = {k: v.state for k, v in store.states.load().items()}
    wrong = {d: (states.get(d), want) for d, want in expected.items() if states.get(d) != want}
    assert not wrong, f"{why}: device (state, expected): {wrong}"

    # Every root fault has exactly one active ticket, nothing else has one.
    active = [t for t in cli_tickets(config) if t["status"] != "closed"]
    keys = Counter((t["contract"], t["root_device"], t["fault"]) for t in active)
    doubled = {k: n for k, n in keys.items() if n > 1}
    assert not doubled, f"{why}: duplicate active tickets: {doubled}"
    by_root = {t["root_device"]: t for t in active}
    unreachable = sorted(d for d, s in expected.items() if s == "unreachable")
    assert not set(by_root) & set(unreachable), (
        f"{why}: tickets for devices cut off behind a dead switch: "
        f"{sorted(set(by_root) & set(unreachable))}"
    )
    assert set(by_root) == set(roots), (
        f"{why}: tickets for {sorted(by_root)}, root faults {sorted(roots)}"
    )
    for root, impact in roots.items():
        ticket = by_root[root]
        assert ticket["fault"] == "down", f"{why}: {ticket}"
        assert ticket["recovered"] == (root in back), f"{why}: {ticket}"
        assert set(ticket["impacted_devices"]) == impact, (
            f"{why}: ticket {ticket['id']} of {root} names {sorted(ticket['impacted_devices'])},"
            f" its fault takes down {sorted(impact)}"
        )
        assert ticket["impacted_devices"][0] == root, f"{why}: {ticket}"

    # No event lost: each ticket's log is seq 1..n, as many as its version says.
    for record in store.tickets.recent(None, None, 10_000):
        seqs = [e.seq for e in store.tickets.events(record.id)]
        assert seqs == list(range(1, record.version + 1)), (
            f"{why}: ticket {record.id} ({record.root_device}) version {record.version}, "
            f"event seqs {seqs}"
        )
        kinds = [e.kind for e in store.tickets.events(record.id)]
        assert kinds[0] == "opened", f"{why}: ticket {record.id}: {kinds}"
        recovered = 1 if record.root_device in back else 0
        assert kinds.count("recovered") == recovered, f"{why}: ticket {record.id}: {kinds}"

    # Every operation record is an unbroken chain of state changes ending in the state.
    for d in devices:
        chain = [
            e for e in reversed(store.states.operation_record(d["id"], 1000)) if e.kind == "state"
        ]
        steps = [(e.from_state, e.to_state) for e in chain]
        assert steps and steps[0][0] == "pending", f"{why}: {d['id']}: {steps}"
        assert all(a[1] == b[0] for a, b in itertools.pairwise(steps)), (
            f"{why}: {d['id']}'s operation record skips a change: {steps}"
        )
        assert steps[-1][1] == states[d["id"]], f"{why}: {d['id']}: {steps} vs {states[d['id']]}"
