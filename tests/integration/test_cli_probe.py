"""`monitord probe DEVICE` against snmpd: what it prints (en, zh, JSON) and its exit code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.peers import netlab
from tests.peers.snmp import COMMUNITY, Snmpd, free_udp_port

_root = None if os.geteuid() == 0 else "needs root: raw ICMP sockets"
# An ifIndex no host has: every network namespace a test makes moves the host's counter on.
NO_IF = 2_000_000_000


def write(tmp_path: Path, address: str, snmp_port: int, tcp: tuple[int, ...] = (1,)) -> Path:
    config = {
        "state_dir": str(tmp_path / "state"),
        "icmp_mode": "raw",
        "sites": [{"id": "s1", "name": "S1"}],
        "devices": [
            {
                "id": "agent",
                "name": "Agent",
                "kind": "switch",
                "site": "s1",
                "address": address,
                "icmp": {"count": 1, "timeout": 0.5},
                "snmp": {"port": snmp_port, "community": {"env": "T_PROBE_C"},
                         "timeout": 0.5, "retries": 0, "ports": [1, NO_IF]},
            },
            {"id": "plain", "name": "Plain", "kind": "access_controller", "site": "s1",
             "address": "127.0.0.9", "tcp": {"ports": list(tcp), "timeout": 0.5}},
        ],
    }  # fmt: skip
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def run(config: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-m", "monitord", "-c", str(config), *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "T_PROBE_C": COMMUNITY, "PYTHONPATH": str(netlab.REPO)},
    )  # fmt: skip


@pytest.mark.root
@pytest.mark.skipif(_root is not None, reason=_root or "")
def test_probe_prints_icmp_and_snmp(tmp_path: Path, snmpd: Snmpd) -> None:
    with socket.socket() as door:  # the controller's own protocol port; 1 stays closed
        door.bind(("127.0.0.9", 0))
        door.listen(4)
        door_port = door.getsockname()[1]
        config = write(tmp_path, "127.0.0.1", snmpd.port, (door_port, 1))
        plain = run(config, "--lang", "en", "probe", "plain")
        tcp = json.loads(run(config, "probe", "plain", "--json").stdout)["tcp"]
    assert plain.returncode == 0 and "SNMP: not configured" in plain.stdout
    assert f"[ok] tcp:{door_port}: TCP port {door_port} open" in plain.stdout
    assert "[critical] tcp:1: TCP port 1: connection refused" in plain.stdout
    assert [(f["check"], f["status"]) for f in tcp] == [
        (f"tcp:{door_port}", "ok"),
        ("tcp:1", "critical"),
    ]
    en = run(config, "--lang", "en", "probe", "agent")
    assert en.returncode == 0, en.stderr
    assert "ICMP: up" in en.stdout
    assert "System name: testagent" in en.stdout
    assert "[ok] snmp: SNMP: agent testagent answers" in en.stdout
    assert f"[unknown] port:{NO_IF}: port {NO_IF}: no such interface" in en.stdout
    zh = run(config, "--lang", "zh", "probe", "agent")
    assert "设备可达" in zh.stdout and "系统名称: testagent" in zh.stdout
    data = json.loads(run(config, "probe", "agent", "--json").stdout)
    assert data["reachable"] is True
    assert {f["check"]: f["status"] for f in data["snmp"]["findings"]}["port:1"] == "ok"
    for out in (en, zh):
        assert COMMUNITY not in out.stdout + out.stderr
    assert run(config, "probe", "nope").returncode == 2


@pytest.mark.root
@pytest.mark.skipif(_root is not None, reason=_root or "")
def test_icmp_up_but_snmp_silent_is_reachable_with_an_unknown_finding(tmp_path: Path) -> None:
    config = write(tmp_path, "127.0.0.1", free_udp_port())  # nobody listens there
    out = run(config, "--lang", "en", "probe", "agent")
    assert out.returncode == 0
    assert "[unknown] snmp: SNMP: no answer: 127.0.0.1:" in out.stdout
    assert COMMUNITY not in out.stdout


_lab = netlab.available()


@pytest.mark.root
@pytest.mark.skipif(_lab is not None, reason=_lab or "")
def test_unreachable_device_exits_1(tmp_path: Path) -> None:
    with netlab.NetLab(hosts=1) as lab:
        config = write(tmp_path, lab.unassigned_address, 161)
        out = run(config, "--lang", "en", "probe", "agent",
                  prefix=("ip", "netns", "exec", lab.client_ns))  # fmt: skip
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Device NOT reachable" in out.stdout
