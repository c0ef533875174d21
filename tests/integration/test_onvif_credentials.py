"""Where monitord sends a camera's credentials (issue 13, items 1 and 2): as a WS-Security
PasswordDigest only, and only to the device's configured address or one it was told to
follow; anywhere else is a finding that names the host, and nothing is sent there."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from monitord.checks.onvif import fetch
from monitord.checks.onvif.fetch import CheckResult
from monitord.checks.onvif.service import OnvifService
from monitord.clock import SystemClock
from monitord.config.models import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_wsse import PASSWORD_DIGEST
from tests.peers.rtsp import SDP_H264, response, scripted
from tests.support.db import sqlite_only

PASSWORD = "Adm1n-9x!"


database_url = sqlite_only  # the checks are under test here, not the store


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_ONVIF", PASSWORD)


@pytest.fixture
def results(monkeypatch: pytest.MonkeyPatch) -> list[CheckResult]:
    """Every check's result, in order, as `fetch.run` hands it to the watch (which keeps
    only the findings)."""
    seen: list[CheckResult] = []
    real = fetch.run

    async def run(*args: Any) -> CheckResult:
        seen.append(result := await real(*args))
        return result

    monkeypatch.setattr(fetch, "run", run)
    return seen


def config(port: int, **more: Any) -> Config:
    onvif = {"port": port, "username": "admin", "password": {"env": "T_ONVIF"}, "timeout": 2.0,
             "interval": 60, **more}  # fmt: skip
    device = {"id": "cam", "name": "cam", "kind": "camera", "site": "s1",
              "address": "127.0.0.1", "onvif": onvif}  # fmt: skip
    return Config.model_validate({"sites": [{"id": "s1", "name": "Site"}], "devices": [device]})


def service(cfg: Config, store: Store, **kw: Any) -> OnvifService:
    clock = SystemClock()
    store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], clock.now())
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


def findings(store: Store, device_id: str = "cam") -> dict[str, tuple[str, str]]:
    """The last recorded change of each check: (state, "check: summary"). A first OK is
    a baseline, not a change, so it is not there."""
    out: dict[str, tuple[str, str]] = {}
    for e in reversed(store.states.operation_record(device_id, 500)):
        if e.kind == "finding":
            out[e.observation["check"]] = (e.to_state or "", e.reason)
    return out


async def poll(svc: OnvifService, times: int = 2) -> None:
    for _ in range(times):  # a finding is confirmed at the second check
        await svc.watch.poll("cam")


async def checked_once(cfg: Config, store: Store, results: list[CheckResult]) -> CheckResult:
    """The camera's result after a confirming poll, the service closed again."""
    svc = service(cfg, store, registry=CollectorRegistry(), recheck=lambda _d: None)
    try:
        await poll(svc)
        return results[-1]
    finally:
        await svc.close()


@pytest.mark.parametrize("follow", [False, True])
async def test_service_addresses_on_another_host_are_not_followed(
    store: Store, follow: bool, results: list[CheckResult]
) -> None:
    with (
        OnvifPeer(password=PASSWORD) as cam,
        OnvifPeer(password=PASSWORD, host="127.0.0.2") as elsewhere,
    ):
        cam.advertise = elsewhere.base  # GetServices and GetCapabilities point there
        more = {"follow_addresses": ["127.0.0.2"]} if follow else {}
        cfg = config(cam.port, check_stream=True, events=False, **more)
        result = await checked_once(cfg, store, results)
        calls, refused = list(elsewhere.calls), result.refused
    found = findings(store)
    if follow:  # the test can fail: told to, monitord does follow
        assert "GetProfiles" in calls and refused == () and "addresses" not in found
        return
    assert calls == [] and elsewhere.bodies == []
    state, summary = found["addresses"]
    assert state == "warning" and "media -> 127.0.0.2" in summary
    assert found["stream"][0] == "unknown" and "127.0.0.2" in found["stream"][1]
    assert result.error is None and "onvif" not in found  # the device itself answers fine


async def test_a_pullpoint_on_another_host_is_not_pulled(store: Store) -> None:
    with (
        OnvifPeer(password=PASSWORD) as cam,
        OnvifPeer(password=PASSWORD, host="127.0.0.2") as elsewhere,
    ):
        cam.advertise_subscription = elsewhere.base
        cfg = config(cam.port, check_stream=False)
        svc = service(cfg, store, registry=CollectorRegistry(), recheck=lambda _d: None)
        try:
            await svc.watch.poll("cam")
            for _ in range(100):  # the listener subscribes, then is refused the address
                if svc.watch._devices["cam"].refused:
                    break
                await asyncio.sleep(0.05)
            await poll(svc)
        finally:
            await svc.close()
        assert "CreatePullPointSubscription" in cam.calls
        assert elsewhere.calls == [] and elsewhere.bodies == []
    state, summary = findings(store)["addresses"]
    assert state == "warning" and "pullpoint -> 127.0.0.2" in summary


@pytest.mark.parametrize(
    ("host", "follow", "why"),
    [
        ("169.254.169.254", ["0.0.0.0/0"], "link-local"),  # a wide list still keeps metadata out
        ("127.0.0.3", ["127.0.0.0/8"], "loopback"),
        ("10.1.2.3", [], "follow_addresses"),
        ("cam.example.com", ["0.0.0.0/0"], "host name"),
    ],
)
async def test_refused_hosts_and_why(
    store: Store, host: str, follow: list[str], why: str, results: list[CheckResult]
) -> None:
    with OnvifPeer(password=PASSWORD) as cam:
        cam.advertise = f"http://{host}:80"
        cfg = config(cam.port, events=False, follow_addresses=follow)
        result = await checked_once(cfg, store, results)
    assert ("media", host) in result.refused
    assert result.stream_error is not None and why in result.stream_error.detail


def basic_only(head: bytes, _i: int) -> bytes:
    if b"\r\nAuthorization: Basic " not in head:
        return response("401 Unauthorized", head, {"WWW-Authenticate": 'Basic realm="cam"'})
    if head.startswith(b"DESCRIBE"):
        return response("200 OK", head, {"Content-Type": "application/sdp"}, SDP_H264)
    return response("200 OK", head, {})


@pytest.mark.parametrize("allow_basic", [False, True])
async def test_rtsp_basic_gets_the_password_only_when_allowed(
    store: Store, allow_basic: bool, results: list[CheckResult]
) -> None:
    async with scripted(basic_only) as rtsp:
        with OnvifPeer(password=PASSWORD, stream_uri=rtsp.url("/stream1")) as cam:
            cfg = config(cam.port, events=False, allow_basic=allow_basic)
            svc = service(cfg, store, registry=CollectorRegistry(), recheck=lambda _d: None)
            try:
                await poll(svc, 1)
                result = results[-1]
            finally:
                await svc.close()
    assert result.stream is not None
    sent = [h for h in rtsp.requests if b"Authorization:" in h]
    if allow_basic:  # the peer really wants Basic: allowed, it streams
        assert result.stream.ok and sent
        return
    assert sent == [] and len(rtsp.requests) == 1  # one unauthenticated OPTIONS, then stop
    assert result.stream.reason == "auth_rejected" and "allow_basic" in result.stream.detail


@pytest.mark.parametrize("follow", [False, True])
async def test_a_stream_uri_on_another_host_gets_no_connection(
    store: Store, follow: bool, results: list[CheckResult]
) -> None:
    async with scripted(basic_only, host="127.0.0.2") as rtsp:
        with OnvifPeer(password=PASSWORD, stream_uri=rtsp.url("/stream1")) as cam:
            more = {"follow_addresses": ["127.0.0.2"]} if follow else {}
            cfg = config(cam.port, events=False, **more)
            svc = service(cfg, store, registry=CollectorRegistry(), recheck=lambda _d: None)
            try:
                await poll(svc)
                refused = results[-1].refused
            finally:
                await svc.close()
    found = findings(store)
    if follow:
        assert rtsp.connections >= 1 and refused == () and "addresses" not in found
        return
    assert rtsp.connections == 0
    assert found["addresses"][0] == "warning" and "stream -> 127.0.0.2" in found["addresses"][1]


async def test_a_device_that_signs_its_clock_read_and_runs_late_is_still_read(
    store: Store, results: list[CheckResult]
) -> None:
    """A digest must be created by the device's clock: one that refuses even an unsigned
    GetSystemDateAndTime is first signed by its HTTP Date header (PasswordText needed no
    clock, which is why it used to work)."""
    with OnvifPeer(
        password=PASSWORD, clock_offset=-900.0, max_created_skew=300, pre_auth=frozenset()
    ) as cam:
        cfg = config(cam.port, check_stream=False, events=False)
        result = await checked_once(cfg, store, results)
        bodies = list(cam.bodies)
    assert result.error is None and result.clock is not None
    assert -905 <= result.clock.drift <= -895
    assert all(PASSWORD.encode() not in b for b in bodies)
