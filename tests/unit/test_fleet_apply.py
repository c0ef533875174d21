"""A reload merges ICMP settings again only for what changed (issue 15, reload at fleet size)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from monitord.checks.icmp.metrics import DaemonMetrics
from monitord.checks.icmp.watch import Fleet
from monitord.config.models import Config


def config(defaults: dict[str, Any] | None = None, **cam2: Any) -> Config:
    site = {"id": "s1", "name": "S", "timezone": "Asia/Shanghai"}
    devices = [
        {"id": "cam1", "name": "A", "kind": "camera", "address": "10.0.0.1", "site": "s1"},
        {"id": "cam2", "name": "B", "kind": "camera", "address": "10.0.0.2", "site": "s1", **cam2},
    ]
    return Config.model_validate({"sites": [site], "devices": devices, "icmp": defaults or {}})


def fleet(first: Config) -> Fleet:
    metrics = DaemonMetrics(CollectorRegistry())
    return Fleet(first, None, None, metrics, None, lambda ids: None)  # type: ignore[arg-type]


def test_unchanged_devices_keep_their_settings_changed_ones_are_merged_again() -> None:
    f = fleet(config())
    before = dict(f.settings)
    f.apply(config(name="renamed"))
    assert f.settings["cam1"] is before["cam1"] and f.settings["cam2"] is before["cam2"]
    f.apply(config(icmp={"interval": 30}))  # cam2's own override (and no longer renamed)
    assert f.settings["cam1"] is before["cam1"]
    assert f.settings["cam2"].interval == 30
    assert f.devices["cam2"].name == "B"


def test_changed_defaults_merge_every_device_again() -> None:
    f = fleet(config())
    f.apply(config({"interval": 20}))
    assert {s.interval for s in f.settings.values()} == {20}
    assert f.tracker.settings is f.settings
