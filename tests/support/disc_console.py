"""The console's discovery against a real daemon: a configuration on disk (devices.d/
included), ONVIF peers on a loopback /29, `monitord run` as a real process serving the console on a
loopback port, one user per role in its store."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Self

import yaml

from monitord.config.load import load
from monitord.console.accounts import Accounts, Role
from monitord.store import Store
from tests.peers.notify import free_port
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_docs import DeviceInfo
from tests.support.daemon import DaemonProcess

PASSWORD = "correct horse battery"
USERS = {"mgr": Role.MANAGER, "disp": Role.DISPATCHER, "eng": Role.ENGINEER}
TYPED = {
    "id": "gate-1", "name": "North gate", "kind": "camera", "site": "s1",
    "location": "pole 3", "mac": "3c:ef:8c:00:00:01",
}  # fmt: skip
KNOWN = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0001", "1", "3c:ef:8c:00:00:01")
NEW = DeviceInfo("Hikvision", "DS-2CD2043", "V5.7", "HK-0002", "1", "c0:56:e3:00:00:02")


def a_net() -> str:
    return f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"


class DiscLab:
    """Enter it: the peers answer and the daemon runs; `url` is its console."""

    def __init__(self, tmp_path: Path, listen: float = 0.6) -> None:
        self.dir, self.net, self.listen = tmp_path, a_net(), listen
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.site_file = tmp_path / "devices.d" / "s1.yaml"
        self._stack = ExitStack()

    def write(self, ports: list[int]) -> Path:
        disc = {"rate": 2000, "listen": self.listen, "sweep_ports": ports,
                "wsd_port": random.randint(20000, 40000),
                "sadp_port": random.randint(20000, 40000),
                "onvif": [{"username": "admin", "password": {"env": "T_DISC_PW"}}]}  # fmt: skip
        doc = {
            "state_dir": str(self.dir / "state"), "icmp_mode": "raw",
            "database": f"sqlite:///{self.dir / 'monitord.db'}",
            "metrics": {"listen": "127.0.0.1", "port": 0},
            "api": {"enabled": False, "listen": "127.0.0.1", "port": self.port},
            "console": {"enabled": True, "secure_cookies": False},
            "include": ["devices.d/*.yaml"],
            "sites": [
                {"id": "s1", "name": "North estate",
                 "discovery": {"ranges": [f"{self.net}.0/29"], **disc}},
                {"id": "s2", "name": "Far estate", "poller": "far-1",
                 "discovery": {"ranges": ["127.99.0.0/29"], **disc}},
            ],
        }  # fmt: skip
        path = self.dir / "monitord.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        self.site_file.parent.mkdir(exist_ok=True)
        # gate-1 renumbered by DHCP since it was typed; lost-1 is gone from the network.
        lost = {"id": "lost-1", "name": "Car park", "kind": "camera", "site": "s1",
                "address": f"{self.net}.5"}  # fmt: skip
        devices = [{**TYPED, "address": f"{self.net}.6"}, lost]
        self.site_file.write_text(yaml.safe_dump({"devices": devices}), encoding="utf-8")
        return path

    def __enter__(self) -> Self:
        self._env = os.environ.get("T_DISC_PW")
        os.environ["T_DISC_PW"] = "pw-1"  # the daemon's environment: the ONVIF password
        a = self._stack.enter_context(OnvifPeer(host=f"{self.net}.2", info=KNOWN, password="pw-1"))
        b = self._stack.enter_context(OnvifPeer(host=f"{self.net}.3", info=NEW, password="pw-1"))
        self.path = self.write([a.port, b.port])
        config = load(self.path)
        self.daemon = DaemonProcess(self.path)
        self._stack.callback(self.daemon.stop)
        self.daemon.started()
        store = Store.open(config.database_url)
        accounts = Accounts(store, config.console)
        now = dt.datetime.now(dt.UTC)
        for name, role in USERS.items():
            accounts.add(name, role, PASSWORD, now, f"{name} person")
        accounts.add("cust", Role.CUSTOMER, PASSWORD, now, "cust person", "c1")
        store.close()
        return self

    def restart(self) -> None:
        """Stop the daemon (SIGTERM, as systemd does) and start it again on the same files."""
        assert self.daemon.stop() == 0, self.daemon.tail()
        self.daemon = DaemonProcess(self.path)
        self._stack.callback(self.daemon.stop)
        self.daemon.started()

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
        if self._env is None:
            os.environ.pop("T_DISC_PW", None)
        else:
            os.environ["T_DISC_PW"] = self._env

    def devices(self) -> dict[str, dict[str, Any]]:
        doc = yaml.safe_load(self.site_file.read_text(encoding="utf-8"))
        return {d["id"]: d for d in doc["devices"]}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)
