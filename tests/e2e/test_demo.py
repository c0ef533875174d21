"""The README's first command: the demo shows a device fail and recover."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    shutil.which("unshare") is None or shutil.which("ip") is None,
    reason="the demo needs unshare (util-linux) and ip (iproute2)",
)


def test_demo_shows_a_camera_fail_and_recover() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitord", "--lang", "en", "demo", "--duration", "40"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert 'monitord_device_up{device="cam-05",kind="camera",site="demo-hq"} 0.0' in out
    assert '"device": "cam-05"' in out and '"to_state": "down"' in out
    record = out[out.index("cam-05  ") :]
    assert "down -> up" in record and "up -> down" in record
