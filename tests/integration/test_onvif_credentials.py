"""Where monitord sends a camera's credentials (issue 13, items 1 and 2): as a WS-Security
PasswordDigest only, and only to the device's configured address or one it was told to
follow; anywhere else is a finding that names the host, and nothing is sent there."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from monitord.checks.onvif.service import OnvifService
from monitord.clock import SystemClock
from monitord.config.models import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_wsse import PASSWORD_DIGEST

PASSWORD = "Adm1n-9x!"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    s.upgrade()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_ONVIF", PASSWORD)


def config(port: int, **more: Any) -> Config:
    onvif = {"port": port, "username": "admin", "password": {"env": "T_ONVIF"}, "timeout": 2.0,
             "interval": 60, **more}  # fmt: skip
    device = {"id": "cam", "name": "cam", "kind": "camera", "site": "s1",
              "address": "127.0.0.1", "onvif": onvif}  # fmt: skip
    return Config.model_validate({"sites": [{"id": "s1", "name": "Site"}], "devices": [device]})


def service(cfg: Config, store: Store, **kw: Any) -> OnvifService:
    clock = SystemClock()
    store.sync_inventory(site_records(cfg), [device_record(d) for d in cfg.devices], clock.now())
    return OnvifService(cfg, store, clock, **kw)


async def test_every_signed_request_carries_a_digest_never_the_password(store: Store) -> None:
    # 600 s ahead: the digest is signed with the measured offset, or the peer refuses it.
    with OnvifPeer(password=PASSWORD, clock_offset=600.0, max_created_skew=300) as cam:
        svc = service(config(cam.port, check_stream=False), store,
                      registry=CollectorRegistry(), recheck=lambda _d: None)  # fmt: skip
        try:
            for _ in range(2):
                await svc.watch.poll("cam")
            for _ in range(100):  # the PullPoint listener signs its calls too
                if "PullMessages" in cam.calls:
                    break
                await asyncio.sleep(0.05)
        finally:
            await svc.close()
        assert cam.auth_failures == 0
        bodies = list(cam.bodies)
    assert {"GetDeviceInformation", "GetServices", "CreatePullPointSubscription",
            "PullMessages"} <= set(cam.calls)  # fmt: skip
    signed = [b for b in bodies if b"UsernameToken" in b]
    assert len(signed) >= 4
    assert all(PASSWORD_DIGEST.encode() in b for b in signed)
    secret = PASSWORD.encode()
    for body in bodies:
        assert secret not in body and base64.b64encode(secret) not in body
        assert b"#PasswordText" not in body
