"""`monitord discover` against a WS-Discovery responder and an ONVIF peer on loopback."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import yaml

from tests.peers import netlab
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_docs import DeviceInfo
from tests.peers.sadp import SadpResponder
from tests.peers.wsd import WsdResponder


def config(
    tmp_path: Path, net: str, onvif_port: int, wsd_port: int, devices: list[dict[str, object]]
) -> Path:
    doc = {
        "state_dir": str(tmp_path / "state"),
        "sites": [{"id": "s1", "name": "S1", "discovery": {
            "ranges": [f"{net}.0/29"], "rate": 2000, "listen": 0.5, "wsd_port": wsd_port,
            "sweep_ports": [onvif_port],
            "onvif": [{"username": "admin", "password": {"env": "T_DISC_PW"}}],
        }}],
        "devices": devices,
    }  # fmt: skip
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitord", "-c", str(path), *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "T_DISC_PW": "pw-1", "PYTHONPATH": str(netlab.REPO)},
    )  # fmt: skip


def test_discover_proposes_new_and_renumbered_devices_and_writes_an_include(tmp_path: Path) -> None:
    net = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"
    wsd_port = random.randint(20000, 40000)
    info = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0001", "1", "3c:ef:8c:00:00:01")
    with OnvifPeer(host=f"{net}.2", info=info, password="pw-1") as cam:
        xaddr = f"http://{net}.2:{cam.port}/onvif/device_service"
        with WsdResponder(f"{net}.2", wsd_port, xaddr=xaddr):
            path = config(tmp_path, net, cam.port, wsd_port, [])
            out = tmp_path / "devices.d" / "s1.yaml"
            out.parent.mkdir()
            first = run(path, "discover", "--site", "s1", "--json", "--write", str(out))
            assert first.returncode == 0, first.stderr
            changes = json.loads(first.stdout)["changes"]
            assert [(c["change"], c["address"]) for c in changes] == [("new", f"{net}.2")]
            proposed = yaml.safe_load(out.read_text())["devices"]
            assert proposed[0]["mac"] == "3c:ef:8c:00:00:01" and proposed[0]["serial"] == "DH-0001"
            # Accept the proposal, at an old address: the camera is known by its MAC.
            proposed[0]["address"] = f"{net}.5"
            path = config(tmp_path, net, cam.port, wsd_port, proposed)
            second = run(path, "discover", "--site", "s1", "--json")
            assert second.returncode == 0, second.stderr
            changes = json.loads(second.stdout)["changes"]
            assert [(c["change"], c["device"]) for c in changes] == [("address", proposed[0]["id"])]
            zh = run(path, "--lang", "zh", "discover", "--site", "s1")
            assert f"原地址 {net}.5" in zh.stdout, zh.stdout + zh.stderr  # the evidence in zh
            assert run(path, "check").returncode == 0  # the include's records are valid config


def test_discover_refuses_ranges_outside_the_sites_and_the_main_config(tmp_path: Path) -> None:
    path = config(tmp_path, "127.201.1", 80, 3702, [])
    outside = run(path, "discover", "--site", "s1", "--ranges", "10.0.0.0/24")
    assert (
        outside.returncode == 2 and "10.0.0.0/24" in outside.stderr and "outside" in outside.stderr
    )
    main = run(path, "discover", "--site", "s1", "--write", str(path))
    assert main.returncode == 2 and "include" in main.stderr
    assert run(path, "discover", "--site", "nope").returncode == 2
    doc = yaml.safe_load(path.read_text())
    doc["sites"][0]["poller"] = "p-north"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    remote = run(path, "--lang", "zh", "discover", "--site", "s1")
    assert remote.returncode == 2 and "p-north" in remote.stderr and "控制台" in remote.stderr


def test_a_sadp_only_device_not_yet_activated_is_proposed_with_a_note(tmp_path: Path) -> None:
    net = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"
    sadp_port = random.randint(20000, 40000)
    path = config(tmp_path, net, 1, random.randint(20000, 40000), [])
    doc = yaml.safe_load(path.read_text())
    doc["sites"][0]["discovery"]["sadp_port"] = sadp_port
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with SadpResponder(f"{net}.3", sadp_port, mac="c0:56:e3:12:34:56", activated=False):
        done = run(path, "discover", "--site", "s1", "--json")
        text = run(path, "--lang", "zh", "discover", "--site", "s1")
    assert done.returncode == 0, done.stderr
    (change,) = json.loads(done.stdout)["changes"]
    assert (change["change"], change["device"], change["address"]) == (
        "new", "cam-123456", f"{net}.3",
    )  # fmt: skip
    assert change["notes"] == ["note_not_activated"]
    assert "未激活" in text.stdout, text.stdout + text.stderr
