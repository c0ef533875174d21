"""A real centre and a real site poller, each a process in its own network namespace.

    centre ns  198.51.100.1 ──veth── 198.51.100.2  poller ns (NetLab client) 192.0.2.1
                                                      └──veth── devices ns 192.0.2.2, .3

The centre serves HTTPS with a certificate made here, and has no route to the devices; the
poller reaches them and dials out to the centre, its only connection. The test cuts that
link with nftables while devices go down, SIGKILLs and restarts the poller while it is cut,
and heals it: the centre records each change once, with the time the poller saw it, and
opens exactly one ticket per device, with the fault's original time.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from monitord.store import Store
from tests.peers import netlab
from tests.support.daemon import DaemonProcess, free_port
from tests.support.pollerproc import PollerProcess, centre_file, monitord
from tests.support.ticketlab import config_data

_why = netlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
CENTRE_IP, POLLER_IP = "198.51.100.1", "198.51.100.2"  # TEST-NET-2, only inside the lab
SILENCE = 3.0  # seconds without a heartbeat: the site's devices show unknown
ICMP = {"interval": 0.5, "retry_interval": 0.2, "max_attempts": 2, "count": 1, "timeout": 0.3}


def run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=30).stdout


class Uplink:
    """The centre's namespace and its veth to the poller's; `cut()` drops the poller's
    packets to the centre (nftables in the poller's namespace), `heal()` lets them pass."""

    def __init__(self, lab: netlab.NetLab) -> None:
        self.lab, self.ns = lab, f"{lab.prefix}-c"
        run("ip", "netns", "add", self.ns)
        run("ip", "-n", self.ns, "link", "set", "lo", "up")
        a, b = f"{lab.prefix[-6:]}ca", f"{lab.prefix[-6:]}cb"
        run("ip", "link", "add", a, "netns", self.ns, "type", "veth", "peer", b)
        run("ip", "link", "set", b, "netns", lab.client_ns)
        run("ip", "-n", self.ns, "addr", "add", f"{CENTRE_IP}/30", "dev", a)
        run("ip", "-n", lab.client_ns, "addr", "add", f"{POLLER_IP}/30", "dev", b)
        run("ip", "-n", self.ns, "link", "set", a, "up")
        run("ip", "-n", lab.client_ns, "link", "set", b, "up")
        rules = """
            table inet uplink {
                chain output {
                    type filter hook output priority 0; policy accept;
                }
            }
        """
        self._nft(rules)

    def _nft(self, script: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", self.lab.client_ns, "nft", "-f", "-"],
            input=script, check=True, capture_output=True, text=True, timeout=30,
        )  # fmt: skip

    def cut(self) -> None:
        self._nft(f"add rule inet uplink output ip daddr {CENTRE_IP} drop")

    def heal(self) -> None:
        self._nft("flush chain inet uplink output")

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.ns], check=False)


def metrics(ns: str, port: int) -> str:
    code = f"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{port}/metrics').read().decode())"
    return run("ip", "netns", "exec", ns, sys.executable, "-c", code)


@pytest.fixture
def lab() -> Iterator[tuple[netlab.NetLab, Uplink]]:
    with netlab.NetLab(hosts=2) as made:
        uplink = Uplink(made)
        try:
            yield made, uplink
        finally:
            uplink.close()


def centre_config(tmp_path: Path, devices: list[str], port: int) -> Path:
    data: dict[str, Any] = config_data(f"sqlite:///{tmp_path / 'centre.db'}", "city")
    data["sites"][0]["poller"] = "p-s1"
    data["devices"] = [
        {"id": f"cam{i}", "name": f"cam{i}", "kind": "camera", "address": address, "site": "s1"}
        for i, address in enumerate(devices, start=1)
    ]
    return centre_file(tmp_path, data, CENTRE_IP, port, icmp=ICMP, poller_silence=SILENCE)


def test_cut_kill_heal_loses_nothing_and_opens_one_ticket_per_fault(
    lab: tuple[netlab.NetLab, Uplink], tmp_path: Path
) -> None:
    net, uplink = lab
    cam1, cam2 = net.host_addresses
    port = free_port()
    config = centre_config(tmp_path, [cam1, cam2], port)
    added = monitord("-c", str(config), "--lang", "en", "pollers", "add", "s1", "--name", "p-s1")
    code = added.split("one-time enrolment code: ")[1].split()[0]
    printed = added.split("centre certificate: ")[1].split()[0]
    centre = DaemonProcess(config, netns=uplink.ns)
    poller: PollerProcess | None = None
    try:
        started = centre.started()
        url = f"https://{CENTRE_IP}:{port}"
        state = tmp_path / "poller"
        out = monitord("poller", "enrol", "--centre", url, "--code", code, "--fingerprint",
                       printed, "--state-dir", str(state), ns=net.client_ns)  # fmt: skip
        assert "p-s1" in out
        assert (state / "credential.json").stat().st_mode & 0o777 == 0o600
        # The code was spent: a second enrolment with it is refused.
        again = subprocess.run(
            ["ip", "netns", "exec", net.client_ns, sys.executable, "-m", "monitord", "poller",
             "enrol", "--centre", url, "--code", code, "--state-dir", str(tmp_path / "p2")],
            check=False, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert again.returncode == 1 and "already used" in again.stderr

        poller = PollerProcess(net.client_ns, state)
        for cam in ("cam1", "cam2"):
            centre.wait_state(cam, "up", timeout=30)  # via the poller: the centre cannot ping

        uplink.cut()
        net.drop(cam1)
        down1 = poller.journaled("cam1", "down")
        poller.signal(signal.SIGKILL)  # with the link still cut
        poller.proc.wait(10)
        poller = PollerProcess(net.client_ns, state)
        poller.wait_for(lambda e: e.get("event") == "poller started", 30)
        net.drop(cam2)
        down2 = poller.journaled("cam2", "down")
        lost = centre.wait_for(lambda e: e.get("event") == "site link lost", SILENCE + 10)
        assert lost["opened"] is True
        assert not any(e.get("to_state") == "down" for e in centre.lines)
        # Never a stale green: the centre's live view says unknown (its /metrics, in its ns).
        scraped = metrics(uplink.ns, started["metrics_port"])
        for cam in ("cam1", "cam2"):
            assert f'device="{cam}",kind="camera",site="s1",state="unknown"}} 1.0' in scraped

        uplink.heal()
        got1 = centre.wait_state("cam1", "down", timeout=30)
        got2 = centre.wait_state("cam2", "down", timeout=30)
        assert (got1["at"], got2["at"]) == (down1["at"], down2["at"])
        time.sleep(2.0)  # more heartbeats, and whatever a duplicate would do
    finally:
        if poller is not None:
            poller.stop()
        centre.stop()

    store = Store.open(f"sqlite:///{tmp_path / 'centre.db'}")
    try:
        start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
        events = store.history.operation_events(
            ["cam1", "cam2"], start, start + dt.timedelta(hours=2)
        )
        downs = [(e.device_id, e.at.isoformat()) for e in events if e.to_state == "down"]
        assert sorted(downs) == sorted(
            [("cam1", _utc(down1["at"])), ("cam2", _utc(down2["at"]))]
        ), downs
        tickets = store.tickets.recent(None, None, 100)
        # One "site link lost" ticket (recovered), one per device fault, nothing else.
        assert sorted((t.fault_kind, t.root_device or "") for t in tickets) == [
            ("down", "cam1"),
            ("down", "cam2"),
            ("site_link_lost", ""),
        ]
        [link] = [t for t in tickets if t.fault_kind == "site_link_lost"]
        assert link.recovered
        opened = {t.root_device: t.opened_at.isoformat() for t in tickets if t.root_device}
        assert opened == {"cam1": _utc(down1["at"]), "cam2": _utc(down2["at"])}
        # Every journaled change once (the unknown lines are the centre's, not the poller's).
        replayed = [e for e in events if e.kind == "state" and "unknown" not in
                    (e.from_state, e.to_state)]  # fmt: skip
        assert store.pollers.get("p-s1").acked_seq == len(replayed)  # type: ignore[union-attr]
    finally:
        store.close()


def _utc(text: str) -> str:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC).isoformat()
