"""`monitord run` where ICMP sockets are refused (Debian 12's default ping_group_range "1 0"
and no raw-socket right) stops with one clear line, not a traceback, so that the journal
says what to fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.daemon import write_config

RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


def datagram_icmp_allowed() -> bool:
    low, high = (int(n) for n in RANGE.read_text().split())
    return any(low <= group <= high for group in os.getgroups() + [os.getgid()])


@pytest.mark.skipif(
    datagram_icmp_allowed(), reason="this host's ping_group_range lets us open ICMP sockets"
)
def test_refused_icmp_is_one_clear_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"id": "cam-1", "address": "127.0.0.2"}], icmp_mode="dgram")
    done = subprocess.run(
        [sys.executable, "-m", "monitord", "-c", str(config), "run", "--log-format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "monitord: cannot open ICMP sockets" in done.stderr
    assert "net.ipv4.ping_group_range" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
