"""The site poller's unit passes systemd's checks like the main one, and binds nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "systemd"
UNIT = UNITS / "monitord-poller.service"
ANALYZE = shutil.which("systemd-analyze")

pytestmark = pytest.mark.skipif(
    ANALYZE is None and not os.environ.get("CI"), reason="systemd-analyze is not installed"
)


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    here = Path(sys.executable).with_name("monitord")
    copy = tmp_path / "monitord-poller.service"
    copy.write_text(UNIT.read_text().replace("/usr/local/bin/monitord", str(here)))
    return copy


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None, "CI must install systemd (systemd-analyze)"
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_poller_unit_verifies(unit: Path) -> None:
    done = analyze("verify", str(unit))
    assert done.returncode == 0, done.stderr


def test_poller_unit_exposure_is_at_most_that_of_the_main_unit(unit: Path) -> None:
    done = analyze("--offline=true", "security", "--threshold=20", str(unit))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr


def test_poller_unit_keeps_every_hardening_line_of_the_main_unit() -> None:
    main = (UNITS / "monitord.service").read_text().splitlines()
    poller = set(UNIT.read_text().splitlines())
    hardening = ("Protect", "Private", "Restrict", "SystemCall", "NoNewPrivileges", "Lock",
                 "MemoryDeny", "RemoveIPC", "DevicePolicy", "IPAddressDeny", "KeyringMode",
                 "DynamicUser", "UMask", "WatchdogSec", "Type=")  # fmt: skip
    missing = [line for line in main if line.startswith(hardening) and line not in poller]
    assert missing == []
    assert "CapabilityBoundingSet=" in poller and "AmbientCapabilities=" in poller
    assert "ExecStart=/usr/local/bin/monitord poller run" in UNIT.read_text()
