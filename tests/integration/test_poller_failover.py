"""The poller's link against the centre's real HTTPS server on loopback: enrolment over TLS
with the printed fingerprint, failover between centre URLs, pinning, revocation."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from monitord.api import ApiServer
from monitord.clock import SystemClock
from monitord.config import Config
from monitord.health.tracker import HealthTracker
from monitord.inventory.archive import device_record, site_records, topology
from monitord.sites.centre import PollerCentre
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.identity import EnrolFailed, Identity, enrol
from monitord.sites.link import Link, LinkDown, LinkRefused, fingerprint
from monitord.sites.routes import poller_router
from monitord.sites.wire import PushIn
from monitord.store import Store
from tests.support.daemon import free_port
from tests.support.tlscert import self_signed


class Centre:
    def __init__(self, store: Store, tmp: Path) -> None:
        self.cert, key = self_signed(tmp, "127.0.0.1")
        self.config = Config.model_validate(
            {
                "api": {"enabled": True, "port": 0, "tls_cert": str(self.cert),
                        "tls_key": str(key)},
                "sites": [{"id": "north", "name": "North", "poller": "p-north"}],
                "devices": [{"id": "n-cam", "name": "cam", "kind": "camera",
                             "address": "192.168.1.10", "site": "north"}],
            }
        )  # fmt: skip
        self.store, clock = store, SystemClock()
        store.devices.sync(
            site_records(self.config),
            [device_record(d) for d in self.config.devices],
            clock.now(),
        )
        tracker = HealthTracker(
            {d.id: self.config.icmp_for(d) for d in self.config.devices}, topology(self.config)
        )
        centre = self.poller_centre = PollerCentre(store, clock, lambda: self.config, tracker, None)
        self.server = ApiServer(
            store, lambda: self.config, clock, [poller_router(store, clock, centre)]
        )
        self.code = new_code()
        store.pollers.add_code("p-north", ["north"], self.code, clock.now(), CODE_VALID)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"


@pytest.fixture
async def centre(store: Store, tmp_path: Path) -> AsyncIterator[Centre]:
    made = Centre(store, tmp_path)
    await made.server.start()
    try:
        yield made
    finally:
        await made.server.stop()


def heartbeat() -> PushIn:
    return PushIn(sent_at=dt.datetime.now(dt.UTC), version="test")


async def test_enrol_then_fail_over_between_centres(centre: Centre, tmp_path: Path) -> None:
    dead = f"https://127.0.0.1:{free_port()}"  # nobody listens there
    state = tmp_path / "poller"
    printed = fingerprint(centre.cert.read_text())
    identity = await asyncio.to_thread(enrol, [dead, centre.url], centre.code, state, printed)
    assert identity.poller == "p-north" and identity.fingerprints == (printed,)
    assert (state / "credential.json").stat().st_mode & 0o777 == 0o600
    assert identity.token not in repr(identity)
    loaded = Identity.load(state)
    link = Link([dead, centre.url], loaded.token, state / "pins.pem", timeout=5)
    try:
        out = await link.push(heartbeat())
        assert out.acked == 0 and link.centre == centre.url
        assert (await link.configuration()).config["devices"][0]["id"] == "n-cam"
    finally:
        await link.close()
    alone = Link([dead], loaded.token, state / "pins.pem", timeout=5)
    try:
        with pytest.raises(LinkDown):
            await alone.push(heartbeat())
    finally:
        await alone.close()
    # Revoked: refused, not "down" (retrying cannot help).
    centre.store.pollers.revoke("p-north", dt.datetime.now(dt.UTC))
    link = Link([centre.url], loaded.token, state / "pins.pem", timeout=5)
    try:
        with pytest.raises(LinkRefused, match="401"):
            await link.push(heartbeat())
    finally:
        await link.close()


async def test_a_centre_with_another_certificate_is_not_trusted(
    centre: Centre, tmp_path: Path
) -> None:
    state = tmp_path / "poller"
    with pytest.raises(EnrolFailed, match="no centre presents"):
        await asyncio.to_thread(enrol, [centre.url], centre.code, state, "sha256:" + "0" * 64)
    identity = await asyncio.to_thread(enrol, [centre.url], centre.code, state, None)
    (tmp_path / "other").mkdir()
    other, _ = self_signed(tmp_path / "other", "127.0.0.1")  # same address, another key
    (state / "pins.pem").write_text(other.read_text())
    link = Link([centre.url], identity.token, state / "pins.pem", timeout=5)
    try:
        with pytest.raises(LinkDown):
            await link.push(heartbeat())
    finally:
        await link.close()
    assert centre.store.pollers.get("p-north").last_seen is None  # type: ignore[union-attr]


async def test_a_standby_centre_applies_no_push_and_the_poller_moves_on(
    centre: Centre, tmp_path: Path
) -> None:
    state = tmp_path / "poller"
    identity = await asyncio.to_thread(enrol, [centre.url], centre.code, state, None)
    centre.poller_centre.leader = lambda: None  # centre HA: another centre holds the lease
    link = Link([centre.url], identity.token, state / "pins.pem", timeout=5)
    try:
        with pytest.raises(LinkDown, match="HTTP 503"):  # a second URL would be tried next
            await link.push(heartbeat())
        assert centre.store.pollers.get("p-north").last_seen is None  # type: ignore[union-attr]
        if centre.store.url_redacted.startswith("postgresql"):  # HA needs it: fenced writes
            leases = centre.store.leases
            old = leases.acquire("centre", "old", 15)
            assert old is not None
            leases.release(old)
            new = leases.acquire("centre", "new", 15)
            centre.poller_centre.leader = lambda: old  # a leader that missed the takeover
            with pytest.raises(LinkDown, match="HTTP 503"):
                await link.push(heartbeat())
            assert centre.store.pollers.get("p-north").last_seen is None  # type: ignore[union-attr]
            centre.poller_centre.leader = lambda: new
        else:
            centre.poller_centre.leader = None  # HA off: every push applied
        assert (await link.push(heartbeat())).acked == 0
        assert centre.store.pollers.get("p-north").last_seen is not None  # type: ignore[union-attr]
    finally:
        await link.close()
