"""The unit files (the daemon's and the site poller's) pass systemd's own checks: `verify`,
and `security` at exposure <= 2.0; the poller's keeps every hardening line of the main one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "systemd"
UNIT = UNITS / "monitord.service"
POLLER = UNITS / "monitord-poller.service"
ANALYZE = shutil.which("systemd-analyze")

pytestmark = pytest.mark.skipif(
    ANALYZE is None and not os.environ.get("CI"), reason="systemd-analyze is not installed"
)


@pytest.fixture(params=[UNIT, POLLER], ids=lambda p: p.name)
def unit(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's monitord (verify checks it exists)."""
    here = Path(sys.executable).with_name("monitord")
    original: Path = request.param
    copy = tmp_path / original.name
    copy.write_text(original.read_text().replace("/usr/local/bin/monitord", str(here)))
    return copy


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None, "CI must install systemd (systemd-analyze)"
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_unit_verifies(unit: Path) -> None:
    done = analyze("verify", str(unit))
    assert done.returncode == 0, done.stderr


def test_unit_exposure_is_at_most_2(unit: Path) -> None:
    # --threshold is on the 0-100 scale: 20 is the "2.0" systemd prints.
    done = analyze("--offline=true", "security", "--threshold=20", str(unit))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    assert "Overall exposure level" in done.stdout


def test_unit_is_a_notify_service_with_a_watchdog_and_reload() -> None:
    text = UNIT.read_text()
    for line in (
        "Type=notify",
        "WatchdogSec=",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "StateDirectory=monitord",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
    ):
        assert line in text


def test_exposure_check_fails_above_2(unit: Path) -> None:
    """The threshold really bites: the same unit without its sandboxing fails the check."""
    kept = [
        line
        for line in unit.read_text().splitlines()
        if not line.startswith(("Protect", "Private", "SystemCall", "Restrict", "Capability"))
    ]
    unit.write_text("\n".join(kept) + "\n")
    done = analyze("--offline=true", "security", "--threshold=20", str(unit))
    assert done.returncode != 0, done.stdout[-2000:]


def test_sysctl_drop_in_opens_datagram_icmp_to_every_group() -> None:
    text = (UNIT.parent / "60-monitord-ping.conf").read_text()
    assert "net.ipv4.ping_group_range = 0 2147483647" in text.splitlines()


def test_poller_unit_keeps_every_hardening_line_of_the_main_unit() -> None:
    main = UNIT.read_text().splitlines()
    poller = set(POLLER.read_text().splitlines())
    hardening = ("Protect", "Private", "Restrict", "SystemCall", "NoNewPrivileges", "Lock",
                 "MemoryDeny", "RemoveIPC", "DevicePolicy", "IPAddressDeny", "KeyringMode",
                 "DynamicUser", "UMask", "WatchdogSec", "Type=")  # fmt: skip
    missing = [line for line in main if line.startswith(hardening) and line not in poller]
    assert missing == []
    assert "CapabilityBoundingSet=" in poller and "AmbientCapabilities=" in poller
    assert "ExecStart=/usr/local/bin/monitord poller run" in POLLER.read_text()
