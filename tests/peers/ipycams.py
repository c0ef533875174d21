"""Simulated ONVIF cameras for tests: `ipycam` (PyPI), each in its own network namespace.

    with IpyCamLab([CamSpec("cam1"), CamSpec("cam2", clock_offset=600.0)]) as lab:
        lab.address("cam1")   # "198.18.x.2": reachable from the test process, port 8080

ipycam serves the ONVIF device and media services with WS-Security digest auth. It binds
0.0.0.0 and multicasts a WS-Discovery Hello, so each camera runs in a namespace of its own,
joined to ours by a veth pair on a /30 of 198.18.0.0/15 (RFC 2544 benchmark space), and an
nft rule in the namespace drops its multicast. Its RTSP server needs FFmpeg or go2rtc, which
we do not install: its stream URI points at a port where nothing listens, as on a camera
whose encoder died. `clock_offset` shifts the camera's clock (its GetSystemDateAndTime, the
WS-Security freshness check and the HTTP Date header, as a real camera with a wrong clock
would judge).
Needs root; `available()` says why not.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

ONVIF_PORT = 8080
USER, PASSWORD = "admin", "Cam:p@ss-w0rd"
_START_TIMEOUT = 30.0

_LAUNCHER = """
import datetime as _dt, logging, sys, time as _time, types
offset = float(sys.argv[2])
import ipycam.onvif as onvif
class _Now(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return _dt.datetime.now(tz) + _dt.timedelta(seconds=offset)
shifted = types.SimpleNamespace(**{k: getattr(_time, k) for k in dir(_time) if not k.startswith("__")})
shifted.gmtime = lambda secs=None: _time.gmtime((_time.time() if secs is None else secs) + offset)
shifted.time = lambda: _time.time() + offset
onvif.time, onvif.datetime = shifted, _Now
# Its web server runs on the same wrong clock: the HTTP Date header of every answer.
import email.utils as _eu, http.server as _hs
_hs.BaseHTTPRequestHandler.date_time_string = lambda self, timestamp=None: _eu.formatdate(
    (_time.time() if timestamp is None else timestamp) + offset, usegmt=True)
from ipycam.camera import IPCamera
from ipycam.config import CameraConfig
logging.basicConfig(level=logging.WARNING)
camera = IPCamera(CameraConfig.load(sys.argv[1]))
if not camera.start():
    sys.exit(1)
print("READY", flush=True)
while True:
    _time.sleep(3600)
"""


def available() -> str | None:
    """Why the lab cannot run here, or None if it can."""
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    missing = [tool for tool in ("ip", "nft") if shutil.which(tool) is None]
    if missing:
        return f"missing tools: {', '.join(missing)}"
    if importlib.util.find_spec("ipycam") is None:
        return "ipycam is not installed (pip install -e '.[test]')"
    if ctypes.util.find_library("GL") is None:
        return "OpenCV (for ipycam) needs libGL: apt-get install libgl1 (scripts/test does)"
    return None


def _run(args: Sequence[str], stdin: str | None = None) -> None:
    try:
        subprocess.run(args, input=stdin, check=True, capture_output=True, text=True, timeout=30)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"{' '.join(args)} failed: {exc.stderr.strip()}") from exc


@dataclass(frozen=True, slots=True)
class CamSpec:
    name: str
    username: str = USER
    password: str = PASSWORD
    clock_offset: float = 0.0
    manufacturer: str = "PythonCam"
    model: str = "VirtualCam-1"
    serial: str = "PY-000001"
    firmware: str = "1.3.0"


class IpyCamLab:
    def __init__(self, cameras: Sequence[CamSpec]) -> None:
        self.cameras = list(cameras)
        self._tag = secrets.token_hex(3)
        self._subnet = secrets.randbelow(200) + 20  # 198.18.<subnet>.<4i>/30
        self._namespaces: list[str] = []
        self._procs: dict[str, subprocess.Popen[str]] = {}
        self._dir = Path(tempfile.mkdtemp(prefix="ipycamlab-"))

    def address(self, name: str) -> str:
        i = [c.name for c in self.cameras].index(name)
        return f"198.18.{self._subnet}.{4 * i + 2}"

    def url(self, name: str) -> str:
        return f"http://{self.address(name)}:{ONVIF_PORT}/onvif/device_service"

    def __enter__(self) -> Self:
        try:
            for i, cam in enumerate(self.cameras):
                self._start(i, cam)
            for cam in self.cameras:
                self._wait(cam)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _start(self, i: int, cam: CamSpec) -> None:
        ns, veth = f"mdo-{self._tag}-{i}", f"vo{self._tag}{i}"
        outer, inner = f"198.18.{self._subnet}.{4 * i + 1}", self.address(cam.name)
        _run(["ip", "netns", "add", ns])
        self._namespaces.append(ns)
        _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        _run(["ip", "addr", "add", f"{outer}/30", "dev", veth])
        _run(["ip", "link", "set", veth, "up"])
        _run(["ip", "-n", ns, "addr", "add", f"{inner}/30", "dev", "eth0"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        rules = (
            "table inet ipycamlab { chain out { type filter hook output priority 0; "
            "ip daddr 224.0.0.0/4 drop\n}\n}\n"
        )
        _run(["ip", "netns", "exec", ns, "nft", "-f", "-"], stdin=rules)
        config = {
            "local_ip": inner,
            "onvif_port": ONVIF_PORT,
            "rtsp_port": 8554,
            "web_port": 8081,
            "username": cam.username,
            "password": cam.password,
            "name": cam.name,
            "manufacturer": cam.manufacturer,
            "model": cam.model,
            "serial_number": cam.serial,
            "firmware_version": cam.firmware,
            "main_width": 160,
            "main_height": 120,
            "main_fps": 1,
            "sub_width": 160,
            "sub_height": 120,
            "sub_fps": 1,
            "hw_accel": "cpu",
        }
        workdir = self._dir / cam.name
        workdir.mkdir()
        (workdir / "camera_config.json").write_text(json.dumps(config))
        (workdir / "launch.py").write_text(_LAUNCHER)
        log = (workdir / "out.log").open("w")
        self._procs[cam.name] = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "launch.py", "camera_config.json",
             str(cam.clock_offset)],
            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip

    def _wait(self, cam: CamSpec) -> None:
        deadline = time.monotonic() + _START_TIMEOUT
        url = self.url(cam.name)
        while time.monotonic() < deadline:
            proc = self._procs[cam.name]
            if proc.poll() is not None:
                raise RuntimeError(f"ipycam {cam.name} exited: {self.log(cam.name)[-2000:]}")
            try:
                urllib.request.urlopen(url, b"<x/>", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (with a fault): up
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"ipycam {cam.name} did not start: {self.log(cam.name)[-2000:]}")

    def log(self, name: str) -> str:
        path = self._dir / name / "out.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        self._procs.clear()
        for ns in self._namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        self._namespaces.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
