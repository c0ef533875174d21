"""SNMP devices on loopback peers (snmpd, snmpsim) and the secrets their configuration names."""

from __future__ import annotations

from typing import Any

import pytest

from monitord.config.models import Config
from tests.peers.snmp import COMMUNITY


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "T_SNMPD": COMMUNITY,
        "T_SW": "switch1",
        "T_NVR": "nvr1",
        "T_ACS": "acs1",
    }.items():
        monkeypatch.setenv(name, value)


def make_config(snmpd_port: int, sim_port: int, **snmp: Any) -> Config:
    common = {"timeout": 1.0, "retries": 1, "interval": 60, "max_attempts": 2, **snmp}

    def dev(id_: str, kind: str, port: int, env: str, **more: Any) -> dict[str, Any]:
        return {
            "id": id_,
            "name": id_,
            "kind": kind,
            "site": "s1",
            # Distinct loopback addresses: devices are told apart by address.
            "address": "127.0.0.1",
            "snmp": {"port": port, "community": {"env": env}, **common, **more},
        }

    return Config.model_validate(
        {
            "sites": [{"id": "s1", "name": "Site"}],
            "devices": [
                dev("agent", "other", snmpd_port, "T_SNMPD"),
                {**dev("sw", "switch", sim_port, "T_SW", ports=[1, 2, 3]), "address": "127.0.0.2"},
                {**dev("nvr", "nvr", sim_port, "T_NVR"), "address": "127.0.0.3"},
                {**dev("acs", "access_controller", sim_port, "T_ACS"), "address": "127.0.0.4"},
            ],
        }
    )
