"""ONVIF checks in the daemon's pipeline against real peers on loopback, into a real store:
an NVR (tests/peers/onvif.py) whose channel stops recording, whose clock drifts and whose
events trigger a re-check; a camera streaming from GStreamer's RTSP server; a hostile peer;
rejected credentials with back-off. Findings reach the operation record and /metrics, and
no password reaches either."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from structlog.testing import capture_logs

from monitord.checks.onvif.service import OnvifService
from monitord.clock import SystemClock
from monitord.config.models import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.peers.onvif import OnvifPeer
from tests.peers.rtsp import GstRtsp, gst_missing
from tests.peers.soapevil import EvilSoap
from tests.support.db import sqlite_only

PASSWORD = "Adm1n-9x!"


database_url = sqlite_only  # the checks are under test here, not the store


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_ONVIF", PASSWORD)
    monkeypatch.setenv("T_WRONG", "not-the-password")


def device(id_: str, kind: str, port: int, secret: str = "T_ONVIF", **more: Any) -> dict[str, Any]:
    onvif = {"port": port, "username": "admin", "password": {"env": secret}, "timeout": 2.0,
             "interval": 60, "max_attempts": 2, **more}  # fmt: skip
    return {"id": id_, "name": id_, "kind": kind, "site": "s1", "address": "127.0.0.1",
            "onvif": onvif}  # fmt: skip


def config(*devices: dict[str, Any]) -> Config:
    return Config.model_validate({"sites": [{"id": "s1", "name": "Site"}], "devices": devices})


def service(cfg: Config, store: Store, registry: CollectorRegistry, **kw: Any) -> OnvifService:
    clock = SystemClock()
    store.devices.sync(site_records(cfg), [device_record(d) for d in cfg.devices], clock.now())
    return OnvifService(cfg, store, clock, registry, **kw)


def records(store: Store, device_id: str, kind: str = "finding") -> list[Any]:
    return [e for e in store.states.operation_record(device_id, 200) if e.kind == kind]


async def test_nvr_channel_stops_recording_and_clock_drifts(env: None, store: Store) -> None:
    registry = CollectorRegistry()
    with OnvifPeer(password=PASSWORD, channels=4, clock_offset=120.0) as nvr:
        cfg = config(device("nvr", "nvr", nvr.port, check_stream=False, events=False))
        svc = service(cfg, store, registry, recheck=lambda _d: None)
        try:
            for _ in range(2):
                await svc.watch.poll("nvr")
            nvr.set_channel(3, state="Error", error="HDD 2 write failure")
            for _ in range(2):  # confirmed at the second check
                await svc.watch.poll("nvr")
        finally:
            await svc.close()
    found = {(e.observation["check"], e.to_state) for e in records(store, "nvr")}
    assert ("recording:Recording_3", "critical") in found
    assert ("clock", "warning") in found
    assert not any(c.startswith("recording:Recording_1") for c, _ in found)  # healthy
    assert store.facts.of("nvr")["firmware"].value == "V4.2.1 build 250601"
    assert records(store, "nvr", "firmware") == []  # a first read is not a change
    text = generate_latest(registry).decode()
    assert 'monitord_nvr_channel_recording{channel="Recording_3",device="nvr"' in text
    assert 'channel="Recording_3",device="nvr",kind="nvr",site="s1"} 0.0' in text
    assert 'channel="Recording_1",device="nvr",kind="nvr",site="s1"} 1.0' in text
    drift = [ln for ln in text.splitlines() if ln.startswith("monitord_onvif_clock_drift_seconds{")]
    assert drift and 115 <= float(drift[0].split()[-1]) <= 125
    assert 'monitord_onvif_call_duration_seconds_count{operation="GetRecordingJobState"' in text
    assert PASSWORD not in text + repr(store.states.operation_record("nvr", 200))


async def test_firmware_change_is_recorded_once(env: None, store: Store) -> None:
    with OnvifPeer(password=PASSWORD) as nvr:
        cfg = config(device("nvr", "nvr", nvr.port, check_stream=False, events=False,
                            identity_every=1))  # fmt: skip
        svc = service(cfg, store, CollectorRegistry(), recheck=lambda _d: None)
        try:
            await svc.watch.poll("nvr")
            nvr.info = type(nvr.info)(firmware="V4.3.0 build 260101")
            await svc.watch.poll("nvr")
            await svc.watch.poll("nvr")
        finally:
            await svc.close()
        again = service(cfg, store, CollectorRegistry(), recheck=lambda _d: None)
        try:
            await again.watch.poll("nvr")  # a restart: the store remembers the firmware
        finally:
            await again.close()
    changes = records(store, "nvr", "firmware")
    assert len(changes) == 1
    assert (changes[0].observation["from"], changes[0].observation["to"]) == (
        "V4.2.1 build 250601",
        "V4.3.0 build 260101",
    )


async def test_no_profile_g_is_unknown_not_supported(env: None, store: Store) -> None:
    with OnvifPeer(password=PASSWORD, recording=False) as nvr:
        cfg = config(device("nvr", "nvr", nvr.port, check_stream=False, events=False,
                            max_attempts=1))  # fmt: skip
        svc = service(cfg, store, CollectorRegistry(), recheck=lambda _d: None)
        try:
            await svc.watch.poll("nvr")
        finally:
            await svc.close()
    current = svc.watch.tracker.current("nvr")
    assert current["recording"].status.value == "unknown"
    assert "not supported" in current["recording"].summary


async def test_wrong_password_is_its_own_finding_and_backs_off(env: None, store: Store) -> None:
    registry = CollectorRegistry()
    with OnvifPeer(password=PASSWORD, lockout_after=3) as cam:
        cfg = config(device("cam", "camera", cam.port, secret="T_WRONG", events=False))
        svc = service(cfg, store, registry, recheck=lambda _d: None)
        try:
            with capture_logs() as logs:
                delays = [await svc.watch.poll("cam") for _ in range(2)]
        finally:
            await svc.close()
        rejected = cam.auth_failures
    found = [(e.observation["check"], e.to_state) for e in records(store, "cam")]
    assert found == [("onvif_auth", "warning")]  # confirmed at once, recorded once
    assert "credentials rejected" in records(store, "cam")[0].reason
    assert not any(c == "onvif" for c, _ in found)  # not an outage
    assert delays == [900.0, 1800.0]  # back-off doubles
    assert rejected <= 2  # one signed attempt per check: never near the lock-out
    text = generate_latest(registry).decode()
    assert 'monitord_onvif_auth_failures{device="cam",kind="camera",site="s1"} 2.0' in text
    assert "not-the-password" not in text + repr(logs) + repr(
        store.states.operation_record("cam", 50)
    )


async def test_event_triggers_an_immediate_recheck(env: None, store: Store) -> None:
    rechecked: list[str] = []
    with OnvifPeer(password=PASSWORD, channels=2, max_pull_wait=1.0) as nvr:
        cfg = config(device("nvr", "nvr", nvr.port, check_stream=False, max_attempts=1))
        svc = service(cfg, store, CollectorRegistry(), recheck=rechecked.extend)
        try:
            await svc.watch.poll("nvr")  # finds the events service, starts listening
            for _ in range(100):
                if nvr.subscriptions:
                    break
                await asyncio.sleep(0.05)
            nvr.video_loss("Profile_2", lost=True)
            for _ in range(100):
                if rechecked:
                    break
                await asyncio.sleep(0.05)
            await svc.watch.poll("nvr")
        finally:
            await svc.close()
    assert rechecked == ["nvr"]
    current = svc.watch.tracker.current("nvr")
    assert current["event:video_loss:Profile_2"].status.value == "critical"


async def test_camera_that_streams_and_one_that_cannot(env: None, store: Store) -> None:
    if reason := gst_missing():
        pytest.skip(reason)
    registry = CollectorRegistry()
    with GstRtsp("open") as rtsp, OnvifPeer(password=PASSWORD, stream_uri=rtsp.url()) as good, \
            OnvifPeer(password=PASSWORD, stream_uri="rtsp://127.0.0.1:9/none") as bad:  # fmt: skip
        cfg = config(
            device("good", "camera", good.port, events=False, max_attempts=1),
            device("bad", "camera", bad.port, events=False, max_attempts=1),
        )
        svc = service(cfg, store, registry, recheck=lambda _d: None)
        try:
            await svc.watch.poll("good")
            await svc.watch.poll("bad")
        finally:
            await svc.close()
    assert svc.watch.tracker.current("good")["stream"].status.value == "ok"
    bad_stream = svc.watch.tracker.current("bad")["stream"]
    assert bad_stream.status.value == "critical"
    assert "refused" in bad_stream.summary
    assert [(e.observation["check"], e.to_state) for e in records(store, "bad")] == [
        ("stream", "critical")
    ]
    text = generate_latest(registry).decode()
    assert 'monitord_camera_stream_up{device="good",kind="camera",site="s1"} 1.0' in text
    assert 'monitord_camera_stream_up{device="bad",kind="camera",site="s1"} 0.0' in text


async def test_hostile_device_is_a_finding_and_the_service_goes_on(env: None, store: Store) -> None:
    async with EvilSoap() as evil:
        devices = [
            {**device(mode, "camera", evil.port, max_attempts=1, events=False,
                      path=f"/{mode}/onvif/device_service")}
            for mode in ("xxe_file", "billion_laughs", "huge", "endless", "fault", "http500")
        ]  # fmt: skip
        cfg = config(*devices)
        svc = service(cfg, store, CollectorRegistry(), recheck=lambda _d: None)
        try:
            await asyncio.gather(*(svc.watch.poll(d["id"]) for d in devices))
        finally:
            await svc.close()
        assert evil.canary_hits == 0
    for d in devices:
        f = svc.watch.tracker.current(d["id"])["onvif"]
        assert f.status.value == "warning", (d["id"], f)
    reasons = {
        d["id"]: svc.watch.tracker.current(d["id"])["onvif"].values["reason"] for d in devices
    }
    assert reasons == {
        "xxe_file": "forbidden_xml", "billion_laughs": "forbidden_xml", "huge": "too_large",
        "endless": "timeout", "fault": "fault", "http500": "http_error",
    }  # fmt: skip


async def test_drifted_device_that_checks_token_times_is_still_read(
    env: None, store: Store
) -> None:
    # The device rejects tokens whose Created is more than 60 s off its own clock, and its
    # clock is 15 min behind: we sign with its time, learnt from the unsigned clock read.
    with OnvifPeer(password=PASSWORD, clock_offset=-900.0, max_created_skew=60.0) as nvr:
        cfg = config(device("nvr", "nvr", nvr.port, check_stream=False, events=False,
                            max_attempts=1))  # fmt: skip
        svc = service(cfg, store, CollectorRegistry(), recheck=lambda _d: None)
        try:
            await svc.watch.poll("nvr")
        finally:
            await svc.close()
        rejected = nvr.auth_failures
    current = svc.watch.tracker.current("nvr")
    assert current["onvif_auth"].status.value == "ok"
    assert current["clock"].status.value == "critical"
    assert current["recording:Recording_1"].status.value == "ok"
    assert rejected == 0
