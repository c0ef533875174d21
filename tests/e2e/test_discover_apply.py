"""Issue 17's "done when", end to end: a newcomer runs `monitord discover --site lab` on a lab
of two switches (snmpsim, one agent per switch address, LLDP between them) and five cameras
(WS-Discovery + ONVIF peers), reviews the change set it prints, applies that kept run
(`discover --apply --run ID`, no probing again) into devices.d/lab.yaml, starts the daemon,
and cutting the edge switch opens one ticket naming every camera behind it."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.peers import netlab
from tests.peers.snmp import Snmpsim, free_udp_port, snmpsim_missing
from tests.support import topolab
from tests.support.contracts import CONTRACTS
from tests.support.daemon import ICMP, DaemonProcess, wait_tickets, write_config
from tests.support.disclab import PASSWORD, USER, Camera

_why = netlab.available() or snmpsim_missing()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
EDGE_PORTS, CORE_PORTS = (3, 4, 5), (6, 7)


def lab_tables(addresses: list[str]) -> tuple[topolab.Lab, list[Camera]]:
    """sw0 (core) at addresses[0]; sw1 (edge) on its port 2; three cameras on the edge
    switch, two on the core one: their MACs learned where they are plugged in."""
    lab = topolab.Lab(parent={0: None, 1: 0}, down={0: {1: 2}}, lldp={1})
    cams = []
    for n, (s, port) in enumerate([(1, p) for p in EDGE_PORTS] + [(0, p) for p in CORE_PORTS]):
        mac = f"c0:56:e3:77:00:{n:02x}"
        lab.cameras[mac] = (s, port)
        cams.append(Camera(addresses[2 + n], mac, f"DS2347-7{n:04d}", name=f"cam{n}"))
    return lab, cams


def test_discover_apply_and_a_cut_switch_is_one_ticket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCLAB_PASSWORD", PASSWORD)
    with netlab.NetLab(hosts=7) as net:
        a = net.host_addresses
        lab, cams = lab_tables(a)
        port = free_udp_port()
        logins = []
        for s in (0, 1):
            (tmp_path / f"sw{s}").write_text(f"sw{s}\n", encoding="utf-8")
            logins.append({"community": {"file": str(tmp_path / f"sw{s}")}, "port": port,
                           "timeout": 0.5, "retries": 0})  # fmt: skip
        discovery = {
            "ranges": ["192.0.2.0/28"], "rate": 500, "listen": 1.0, "sweep_ports": [8000],
            "onvif": [{"username": USER, "password": {"env": "DISCLAB_PASSWORD"}}],
            "snmp": logins,
        }  # fmt: skip
        included = tmp_path / "devices.d"
        included.mkdir()
        (included / "lab.yaml").write_text("devices: []\n", encoding="utf-8")  # none yet
        site = {"id": "lab", "contract": "seed-000", "discovery": discovery}
        includes = [str(CONTRACTS / "*.yaml"), str(included / "*.yaml")]
        config = write_config(tmp_path, [], icmp=ICMP, site=site, include=includes)
        tables = lab.tables(flood=False)
        data = {s: tmp_path / f"data{s}" for s in (0, 1)}
        for s in (0, 1):
            topolab.write(data[s], [tables[s]])
        peers = subprocess.Popen(
            ["ip", "netns", "exec", net.host_ns, sys.executable, "-m", "tests.support.disclab",
             "serve", json.dumps([dataclasses.asdict(c) for c in cams])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=netlab.REPO,
            env={**os.environ, "PYTHONPATH": str(netlab.REPO)},
        )  # fmt: skip
        sims = [
            Snmpsim(
                tmp_path / f"sim{s}", data[s], f"sw{s}", host=a[s], port=port, netns=net.host_ns
            )
            for s in (0, 1)
        ]
        for s in (0, 1):
            (tmp_path / f"sim{s}").mkdir()
        try:
            assert peers.stdout is not None and peers.stdout.readline().strip() == "ready"
            with sims[0], sims[1]:
                shown = net.exec([sys.executable, "-m", "monitord", "-c", str(config),
                                  "discover", "--site", "lab", "--json"], check=False)  # fmt: skip
        finally:
            assert peers.stdin is not None
            peers.stdin.close()
            peers.wait(10)
        # Reviewed: the change set printed, the run kept; applied as reviewed (no probing).
        assert shown.returncode == 0, shown.stderr
        review = json.loads(shown.stdout)
        assert [c["change"] for c in review["changes"]] == ["new"] * 7, review
        applied = subprocess.run(
            [sys.executable, "-m", "monitord", "-c", str(config), "discover", "--site", "lab",
             "--apply", "--run", review["run"]], capture_output=True, text=True, timeout=60,
            check=False,
        )  # fmt: skip
        assert applied.returncode == 0, applied.stderr
        records = yaml.safe_load((included / "lab.yaml").read_text(encoding="utf-8"))["devices"]
        by_mac = {r.get("mac"): r for r in records}
        edge, core = by_mac[topolab.Lab.chassis(1)], by_mac[topolab.Lab.chassis(0)]
        assert (core["id"], core["address"], core.get("parents")) == ("sw0", a[0], None), shown
        assert (edge["id"], edge["address"], edge["parents"]) == ("sw1", a[1], ["sw0"])
        behind = {by_mac[c.mac]["id"] for c in cams[:3]}
        for c in cams:
            r = by_mac[c.mac]
            assert (r["address"], r["parents"]) == (
                c.address,
                ["sw1" if r["id"] in behind else "sw0"],
            )
        assert len(records) == 7  # two switches, five cameras, nothing twice
        check = net.exec(
            [sys.executable, "-m", "monitord", "-c", str(config), "check"], check=False
        )
        assert check.returncode == 0, check.stdout + check.stderr

        daemon = DaemonProcess(config, net.client_ns)
        try:
            daemon.started()
            for r in records:
                daemon.wait_state(r["id"], "up")
            net.drop(a[1], *(c.address for c in cams[:3]))  # the edge switch loses power
            daemon.wait_state("sw1", "down", timeout=15)
            for camera in behind:
                daemon.wait_state(camera, "unreachable", timeout=20)
            found = wait_tickets(
                config, lambda t: any(len(x["impacted_devices"]) == 4 for x in t), timeout=20
            )
            assert [t["root_device"] for t in found] == ["sw1"], found
            assert set(found[0]["impacted_devices"]) == {"sw1", *behind}
            others = {r["id"] for r in records} - behind - {"sw1"}
            assert not any(
                e.get("event") == "device state changed" and e.get("device") in others
                and e.get("to_state") != "up" for e in daemon.lines
            )  # fmt: skip
        finally:
            assert daemon.stop() == 0, daemon.tail()
