"""A configuration with both seed contracts' preventive terms, for the prevention tests.

Site "a" (seed 000, Shanghai, accepted 2024-02-29: a leap day) has a switch, an NVR, a
door controller and four cameras, two of whose manufacturer warranties end soon; site "b"
(seed 004, Urumqi time) has an NVR and two cameras.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import yaml

from monitord.config import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from tests.support.contracts import CONTRACTS

ACCEPTED = dt.date(2024, 2, 29)


def contracts() -> list[dict[str, Any]]:
    out = []
    for name in ("seed-000.yaml", "seed-004.yaml"):
        out += yaml.safe_load((CONTRACTS / name).read_text(encoding="utf-8"))["contracts"]
    return out


def config_data(**overrides: Any) -> dict[str, Any]:
    def dev(i: str, kind: str, site: str, n: int, **more: Any) -> dict[str, Any]:
        return {"id": i, "name": f"{kind} {i}", "kind": kind, "address": f"10.0.0.{n}",
                "site": site, **more}  # fmt: skip

    data: dict[str, Any] = {
        "contracts": contracts(),
        "sites": [
            {
                "id": "a",
                "name": "A",
                "contract": "seed-000",
                "timezone": "Asia/Shanghai",
                "acceptance_date": ACCEPTED.isoformat(),
            },
            {"id": "b", "name": "B", "contract": "seed-004", "timezone": "Asia/Urumqi"},
        ],
        "devices": [
            dev("a-sw", "switch", "a", 1),
            dev("a-nvr", "nvr", "a", 2, warranty_end="2030-01-01"),
            dev("a-door", "access_controller", "a", 3),
            dev("a-cam1", "camera", "a", 4, warranty_end="2026-07-10"),
            dev("a-cam2", "camera", "a", 5, warranty_end="2026-08-20"),
            dev("a-cam3", "camera", "a", 6, warranty_end="2027-12-31"),
            dev("a-cam4", "camera", "a", 7),
            dev("b-nvr", "nvr", "b", 8, warranty_end="2026-06-30"),
            dev("b-cam1", "camera", "b", 9, warranty_end="2025-01-01"),
            dev("b-cam2", "camera", "b", 10),
        ],
    }
    data.update(overrides)
    return data


def make_config(**overrides: Any) -> Config:
    return Config.model_validate(config_data(**overrides))


def sync(store: Store, config: Config, at: dt.datetime) -> None:
    store.devices.sync(site_records(config), [device_record(d) for d in config.devices], at)
