"""`monitord discover --apply` and Ctrl-C, as a user runs them (real subprocesses, ONVIF and
WS-Discovery peers on loopback, a real daemon): the site file is written whole or not at
all, typed fields survive, a second run proposes nothing, the daemon reloads it."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from tests.peers import netlab
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_docs import DeviceInfo
from tests.peers.wsd import WsdResponder
from tests.support.daemon import DaemonProcess
from tests.support.terminal import on_terminal

TYPED = {
    "id": "gate-1", "name": "North gate", "kind": "camera", "site": "s1",
    "location": "pole 3", "install_date": "2024-05-01", "mac": "3c:ef:8c:00:00:01",
}  # fmt: skip


def lab_config(
    tmp_path: Path, net: str, ports: list[int], site_devices: list[dict[str, Any]],
    wsd_port: int | None = None, listen: float = 0.5,
) -> Path:  # fmt: skip
    doc = {
        "state_dir": str(tmp_path / "state"), "icmp_mode": "raw",
        "metrics": {"listen": "127.0.0.1", "port": 0},
        "include": ["devices.d/*.yaml"],
        "sites": [{"id": "s1", "name": "S1", "discovery": {
            "ranges": [f"{net}.0/29"], "rate": 2000, "listen": listen,
            "wsd_port": wsd_port or random.randint(20000, 40000),
            "sadp_port": random.randint(20000, 40000), "sweep_ports": ports,
            "onvif": [{"username": "admin", "password": {"env": "T_DISC_PW"}}],
        }}],
    }  # fmt: skip
    path = tmp_path / "monitord.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    (tmp_path / "devices.d").mkdir(exist_ok=True)
    site = tmp_path / "devices.d" / "s1.yaml"
    site.write_text(yaml.safe_dump({"devices": site_devices}), encoding="utf-8")
    return path


ENV = {**os.environ, "T_DISC_PW": "pw-1", "PYTHONPATH": str(netlab.REPO)}


def run(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitord", "-c", str(path), *args],
        capture_output=True, text=True, timeout=60, check=False, env=ENV,
    )  # fmt: skip


def a_net() -> str:
    return f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"


def test_apply_keeps_what_people_typed_fills_gaps_and_a_second_run_is_empty(
    tmp_path: Path,
) -> None:
    net = a_net()
    known = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0001", "1", "3c:ef:8c:00:00:01")
    new = DeviceInfo("Hikvision", "DS-2CD2043", "V5.7", "HK-0002", "1", "c0:56:e3:00:00:02")
    with (
        OnvifPeer(host=f"{net}.2", info=known, password="pw-1") as a,
        OnvifPeer(host=f"{net}.3", info=new, password="pw-1") as b,
    ):
        typed = {**TYPED, "address": f"{net}.6"}  # renumbered since: DHCP
        path = lab_config(tmp_path, net, [a.port, b.port], [typed])
        site = tmp_path / "devices.d" / "s1.yaml"
        first = run(path, "discover", "--site", "s1", "--apply", "--json")
        assert first.returncode == 0, first.stderr
        kinds = sorted((c["change"], c["device"]) for c in json.loads(first.stdout)["changes"])
        assert kinds == [("address", "gate-1"), ("facts", "gate-1"), ("new", "cam-000002")]
        devices = {d["id"]: d for d in yaml.safe_load(site.read_text())["devices"]}
        gate = devices["gate-1"]
        assert (gate["name"], gate["location"], str(gate["install_date"])) == (
            "North gate", "pole 3", "2024-05-01",
        )  # fmt: skip
        assert gate["address"] == f"{net}.2"  # the reviewed change
        assert (gate["serial"], gate["vendor"], gate["model"]) == (
            "DH-0001", "Dahua", "IPC-HFW2431",
        )  # fmt: skip
        assert devices["cam-000002"]["address"] == f"{net}.3"
        assert [p.name for p in site.parent.iterdir()] == ["s1.yaml"]  # no temp file left
        assert run(path, "check").returncode == 0
        before = site.read_bytes()
        second = run(path, "discover", "--site", "s1", "--apply", "--json")
        assert second.returncode == 0, second.stderr
        assert json.loads(second.stdout)["changes"] == []
        assert site.read_bytes() == before


def test_apply_refuses_a_site_file_the_configuration_does_not_include(tmp_path: Path) -> None:
    path = lab_config(tmp_path, a_net(), [1], [])
    doc = yaml.safe_load(path.read_text())
    doc["include"] = ["other/*.yaml"]
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.yaml").write_text("devices: []\n")
    path.write_text(yaml.safe_dump(doc))
    done = run(path, "discover", "--site", "s1", "--apply")
    assert done.returncode == 1 and "include" in done.stderr, done.stderr


def test_the_running_daemon_reloads_what_apply_wrote(tmp_path: Path) -> None:
    net = a_net()
    info = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0007", "1", "3c:ef:8c:00:00:07")
    with OnvifPeer(host=f"{net}.2", info=info, password="pw-1") as cam:
        path = lab_config(tmp_path, net, [cam.port], [])
        daemon = DaemonProcess(path)
        try:
            daemon.started()
            done = run(path, "discover", "--site", "s1", "--apply")
            assert done.returncode == 0, done.stderr
            assert "SIGHUP" in done.stderr, done.stderr
            entry = daemon.wait_for(lambda e: e.get("event") == "equipment archive updated")
            assert entry["added"] == ["cam-000007"]
        finally:
            daemon.stop()


def test_ctrl_c_stops_the_run_with_nothing_written_and_exit_130(tmp_path: Path) -> None:
    net, wsd_port = a_net(), random.randint(20000, 40000)
    path = lab_config(tmp_path, net, [1], [{**TYPED, "address": f"{net}.6"}], wsd_port, 20.0)
    site = tmp_path / "devices.d" / "s1.yaml"
    before = site.read_bytes()
    with WsdResponder(f"{net}.2", wsd_port, xaddr=f"http://{net}.2:1/onvif/device_service") as r:
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitord", "-c", str(path), "discover", "--site", "s1",
             "--apply"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        )  # fmt: skip
        for _ in range(300):  # the run is under way once the responder heard its probe
            if r.probes or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert r.probes, "the run never probed"
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    assert time.monotonic() - started < 5  # not the 20 s listen: it stopped at once
    assert "interrupted" in err and "Traceback" not in err, err
    assert out == ""
    assert site.read_bytes() == before
    assert [p.name for p in site.parent.iterdir()] == ["s1.yaml"]


def test_progress_is_drawn_on_a_terminal_and_quiet_without_one(tmp_path: Path) -> None:
    net, wsd_port = a_net(), random.randint(20000, 40000)
    path = lab_config(tmp_path, net, [1], [], wsd_port, 1.0)
    with WsdResponder(f"{net}.2", wsd_port, xaddr=f"http://{net}.2:1/onvif/device_service"):
        argv = [sys.executable, "-m", "monitord", "-c", str(path), "discover", "--site", "s1"]
        code, _, text = on_terminal(argv, env=ENV)
        piped = run(path, "discover", "--site", "s1")
    assert code == 0
    for label in ("ranges", "probes sent", "devices found", "switches walked", f"{net}.0/29"):
        assert label in text, text
    assert piped.returncode == 0 and piped.stderr == "", piped.stderr


def test_a_stale_pid_file_naming_another_process_is_never_signalled(tmp_path: Path) -> None:
    net = a_net()
    info = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0008", "1", "3c:ef:8c:00:00:08")
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with OnvifPeer(host=f"{net}.2", info=info, password="pw-1") as cam:
            path = lab_config(tmp_path, net, [cam.port], [])
            (tmp_path / "state").mkdir(exist_ok=True)
            (tmp_path / "state" / "monitord.pid").write_text(f"{bystander.pid}\n")
            done = run(path, "discover", "--site", "s1", "--apply")
        assert done.returncode == 0, done.stderr
        assert "no running daemon" in done.stderr, done.stderr
        assert bystander.poll() is None  # still alive: no SIGHUP reached it
    finally:
        bystander.kill()
        bystander.wait()


def test_a_kept_run_applies_as_reviewed_without_probing_again_and_only_once(
    tmp_path: Path,
) -> None:
    net = a_net()
    new = DeviceInfo("Hikvision", "DS-2CD2043", "V5.7", "HK-0002", "1", "c0:56:e3:00:00:02")
    with OnvifPeer(host=f"{net}.3", info=new, password="pw-1") as b:
        path = lab_config(tmp_path, net, [b.port], [])
        shown = run(path, "discover", "--site", "s1", "--json")
        argv = [sys.executable, "-m", "monitord", "-c", str(path), "discover", "--site", "s1"]
        code, _, text = on_terminal(argv, env=ENV)  # a person is told how to apply it
    assert shown.returncode == 0, shown.stderr
    review = json.loads(shown.stdout)
    assert [(c["change"], c["device"]) for c in review["changes"]] == [("new", "cam-000002")]
    assert code == 0 and "--apply --run " in text, text
    kept = re.search(r"--apply --run (\w+)", text)
    assert kept is not None and kept.group(1) != review["run"]  # each run kept on its own
    site = tmp_path / "devices.d" / "s1.yaml"
    assert "cam-000002" not in site.read_text()  # a run alone writes nothing
    usage = run(path, "discover", "--site", "s1", "--run", kept.group(1))
    assert usage.returncode == 2 and "--run goes with --apply" in usage.stderr
    # The camera is gone now: a new probe would propose nothing; the reviewed run is applied.
    applied = run(path, "discover", "--site", "s1", "--apply", "--run", review["run"])
    assert applied.returncode == 0, applied.stderr
    assert "NEW\tcam-000002" in applied.stdout
    devices = {d["id"]: d for d in yaml.safe_load(site.read_text())["devices"]}
    assert (devices["cam-000002"]["address"], devices["cam-000002"]["serial"]) == (
        f"{net}.3", "HK-0002",
    )  # fmt: skip
    again = run(path, "discover", "--site", "s1", "--apply", "--run", review["run"])
    assert again.returncode == 2 and "applied already" in again.stderr, again.stderr
    unknown = run(path, "discover", "--site", "s1", "--apply", "--run", "f00d")
    assert unknown.returncode == 2 and "no such discovery run" in unknown.stderr
