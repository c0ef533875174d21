"""A daemon configuration that mails every notification to one SMTP peer, and its /metrics."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from monitord.app import Daemon
from tests.support.ticketlab import config_data


def notify_data(tmp_path: Path, port: int) -> dict[str, Any]:
    data = config_data(f"sqlite:///{tmp_path / 'monitord.db'}", "city")
    data |= {"devices": [], "state_dir": str(tmp_path), "metrics": {"port": 0}}
    data["notify"] = {
        "channels": [
            {"type": "email", "name": "mail", "host": "127.0.0.1", "port": port,
             "security": "none", "sender": "monitord@example.com", "timeout": 5},
        ],
        "recipients": {"*": [{"channel": "mail", "to": "duty@example.com"}]},
    }  # fmt: skip
    return data


def scrape(daemon: Daemon) -> bytes:
    url = f"http://127.0.0.1:{daemon.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as reply:
        body: bytes = reply.read()
        return body
