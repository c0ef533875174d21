"""The daemon as a process with ONVIF, against real simulated peers (the issue's "done
when"): ipycam cameras in their own network namespaces (they answer ping; their RTSP
server is absent, so they cannot stream; one has a drifted clock; one is configured with
a wrong password) and an NVR (tests/peers/onvif.py) whose channel stops recording. Each is
its own finding, in the operation record (`monitord device --json`) and in /metrics;
`monitord probe` shows ONVIF and RTSP results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.peers import ipycams as ipycamlab
from tests.peers.ipycams import ONVIF_PORT, PASSWORD, USER, CamSpec, IpyCamLab
from tests.peers.onvif import OnvifPeer
from tests.support.daemon import DaemonProcess, cli_json, free_port, write_config

_why = ipycamlab.available()
pytestmark = [pytest.mark.root, pytest.mark.skipif(_why is not None, reason=_why or "")]
NVR_PASSWORD = "Adm1n-9x!"
FAST = {"timeout": 1.0, "interval": 10, "retry_interval": 2, "max_attempts": 1}


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def wait(what: str, found: Callable[[], bool], timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found():
            return
        time.sleep(0.25)
    raise AssertionError(f"not seen within {timeout}s: {what}")


def changed(device: str, check: str, status: str) -> Callable[[dict[str, Any]], bool]:
    def match(e: dict[str, Any]) -> bool:
        return (e.get("event"), e.get("device"), e.get("check"), e.get("to_status")) == (
            "finding changed",
            device,
            check,
            status,
        )

    return match


def findings(config: Path, device: str) -> set[tuple[str, str]]:
    shown: dict[str, Any] = cli_json(config, "device", device)
    text = json.dumps(shown)
    assert PASSWORD not in text and NVR_PASSWORD not in text
    return {
        (e["observation"]["check"], e["to_state"])
        for e in shown["operation_record"]
        if e["kind"] == "finding"
    }


def test_cameras_and_nvr_findings_reach_record_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_CAM", PASSWORD)
    monkeypatch.setenv("T_NVR", NVR_PASSWORD)
    monkeypatch.setenv("T_WRONG", "wrong-password")
    cams = [CamSpec("cam-ok"), CamSpec("cam-drift", clock_offset=-900.0), CamSpec("cam-pw")]
    with IpyCamLab(cams) as lab, OnvifPeer(password=NVR_PASSWORD, channels=3) as nvr:

        def cam(name: str, secret: str = "T_CAM") -> dict[str, Any]:
            onvif = {"port": ONVIF_PORT, "username": USER, "password": {"env": secret},
                     "events": False, **FAST}  # fmt: skip
            return {"id": name, "address": lab.address(name), "onvif": onvif}

        nvr_onvif = {"port": nvr.port, "username": "admin", "password": {"env": "T_NVR"},
                     "check_stream": False, **FAST}  # fmt: skip
        devices = [
            cam("cam-ok"), cam("cam-drift"), cam("cam-pw", "T_WRONG"),
            {"id": "nvr-1", "kind": "nvr", "address": "127.0.0.1", "onvif": nvr_onvif},
        ]  # fmt: skip
        metrics_port = free_port()
        config = write_config(tmp_path, devices, port=metrics_port)
        daemon = DaemonProcess(config)
        try:
            daemon.started()
            daemon.wait_state("cam-ok", "up")  # it answers ping...
            for device, check, status in (
                ("cam-ok", "stream", "critical"),  # ...but cannot stream
                ("cam-drift", "clock", "critical"),
                ("cam-pw", "onvif_auth", "warning"),
            ):
                daemon.wait_for(changed(device, check, status), 60)
            wait("nvr channels", lambda: "monitord_nvr_channel_recording{" in scrape(metrics_port))
            nvr.set_channel(2, state="Error", error="HDD failure")
            daemon.wait_for(changed("nvr-1", "recording:Recording_2", "critical"), 60)
            text = scrape(metrics_port)
            daemon.stop()
        finally:
            daemon.stop()
    assert daemon.proc.returncode == 0, daemon.tail()
    archive = cli_json(config, "device", "cam-ok")["archive"]  # the gaps filled from ONVIF
    assert (archive["vendor"], archive["model"], archive["serial"], archive["firmware"]) == (
        "PythonCam", "VirtualCam-1", "PY-000001", "1.3.0",
    )  # fmt: skip
    assert ("stream", "critical") in findings(config, "cam-ok")
    assert ("clock", "critical") in findings(config, "cam-drift")
    assert ("recording:Recording_2", "critical") in findings(config, "nvr-1")
    assert ("clock", "critical") not in findings(config, "cam-ok")
    assert findings(config, "cam-pw") == {("onvif_auth", "warning")}  # not an outage
    assert 'monitord_camera_stream_up{device="cam-ok",kind="camera",site="s1"} 0.0' in text
    assert 'monitord_onvif_finding_status{check="onvif_auth",device="cam-pw"' in text
    assert 'channel="Recording_2",device="nvr-1",kind="nvr",site="s1"} 0.0' in text
    assert 'channel="Recording_1",device="nvr-1",kind="nvr",site="s1"} 1.0' in text
    drift = [ln for ln in text.splitlines()
             if ln.startswith('monitord_onvif_clock_drift_seconds{device="cam-drift"')]  # fmt: skip
    assert drift and -905 <= float(drift[0].split()[-1]) <= -895
    everything = text + "".join(daemon.raw)
    assert PASSWORD not in everything and NVR_PASSWORD not in everything
    assert "wrong-password" not in everything


def test_probe_shows_onvif_and_rtsp(tmp_path: Path) -> None:
    with IpyCamLab([CamSpec("cam-1", serial="SN-4711")]) as lab:
        onvif = {"port": ONVIF_PORT, "username": USER, "password": {"env": "T_CAM"}}
        config = write_config(tmp_path, [{"id": "cam-1", "address": lab.address("cam-1"),
                                          "onvif": onvif}])  # fmt: skip
        out = subprocess.run(
            [sys.executable, "-m", "monitord", "-c", str(config), "--lang", "en", "probe",
             "cam-1"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "T_CAM": PASSWORD},
        )  # fmt: skip
        as_json = subprocess.run(
            [sys.executable, "-m", "monitord", "-c", str(config), "probe", "cam-1", "--json"],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "T_CAM": PASSWORD},
        )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "ONVIF serial: SN-4711" in out.stdout
    assert f"RTSP: rtsp://{lab.address('cam-1')}:8554/video_main" in out.stdout
    assert "[critical] stream: cannot stream: refused" in out.stdout
    assert "[ok] onvif_auth" in out.stdout
    data = json.loads(as_json.stdout)
    assert data["onvif"]["identity"]["serial"] == "SN-4711"
    assert data["onvif"]["rtsp"]["reason"] == "refused"
    assert PASSWORD not in out.stdout + as_json.stdout + out.stderr
