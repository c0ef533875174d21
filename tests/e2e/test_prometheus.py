"""A real Prometheus scrapes a running daemon that has every part switched on (contracts,
notifications, SNMP, traps) and evaluates config/prometheus/monitord.rules.yml.

Checked here against the live daemon: the devices reach Prometheus, every rule evaluates
without error, every name the rules and the dashboard read is exported, every dashboard
query runs, and promtool accepts the full exposition.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.peers.prometheus import PROMETHEUS, Prometheus, running_prometheus, wait_until
from tests.support.daemon import DaemonProcess, free_port, write_config
from tests.support.promql import (
    PROMETHEUS_SERIES,
    ROOT,
    RULES,
    dashboard_exprs,
    exported_names,
    names_in_dashboard,
    names_in_rules,
    rules,
    runnable,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the daemon uses raw ICMP sockets"),
    pytest.mark.skipif(
        PROMETHEUS is None and not os.environ.get("CI"),
        reason="prometheus is not installed (Debian package prometheus)",
    ),
]

COMMUNITY = "c0mmunity-in-a-file"
DEVICES: list[dict[str, Any]] = [
    {
        "id": "sw-1",
        "kind": "switch",
        "address": "127.0.32.1",
        # Nothing answers SNMP there: its checks are unknown, which is enough for the names.
        "snmp": {"version": "2c", "community": {"file": "SECRET"}, "port": 9},
    },
    {"id": "cam-1", "kind": "camera", "address": "127.0.32.11", "parents": ["sw-1"]},
    {"id": "nvr-1", "kind": "nvr", "address": "127.0.32.21", "site": "s2"},
]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DaemonProcess, int]]:
    directory = tmp_path_factory.mktemp("monitord")
    shutil.copytree(ROOT / "config" / "contracts", directory / "contracts")
    secret = directory / "community"
    secret.write_text(COMMUNITY, encoding="utf-8")
    port = free_port()
    devices = [
        {**d, "snmp": {**d["snmp"], "community": {"file": str(secret)}}} if "snmp" in d else d
        for d in DEVICES
    ]
    config = write_config(
        directory,
        devices,
        port,
        site={"contract": "seed-000"},
        include=["contracts/*.yaml"],
        traps={"listen": "127.0.0.1", "port": free_port(), "communities": [{"file": str(secret)}]},
        notify={
            "channels": [
                {
                    "type": "webhook",
                    "name": "hook",
                    "url": "http://127.0.0.1:9/hook",
                    "allow_addresses": ["127.0.0.1"],
                }
            ],
            # seed-004 gets no recipients: its tickets would reach nobody.
            "recipients": {"seed-000": [{"channel": "hook"}]},
        },
    )
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["sites"].append(
        {"id": "s2", "name": "Site 2", "timezone": "Asia/Shanghai", "zone": "county"}
        | {"contract": "seed-004"}
    )
    config.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    proc = DaemonProcess(config)
    try:
        proc.started()
        # A hotline ticket, so the ticket and SLA series have samples too.
        subprocess.run(
            [sys.executable, "-m", "monitord", "-c", str(config), "ticket", "open"]
            + ["--site", "s1", "--by", "wang", "caller: gate camera blurry"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        yield proc, port
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def prometheus(
    daemon: tuple[DaemonProcess, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    _, port = daemon
    workdir = tmp_path_factory.mktemp("prometheus")
    with running_prometheus(workdir, f"127.0.0.1:{port}", [RULES]) as server:
        yield server


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


def test_prometheus_sees_every_configured_device(prometheus: Prometheus) -> None:
    expected = {("sw-1", "s1", "switch"), ("cam-1", "s1", "camera"), ("nvr-1", "s2", "nvr")}

    def devices() -> set[tuple[str, str, str]] | None:
        result = prometheus.query("monitord_device_up == 1")
        found = {(r["metric"]["device"], r["metric"]["site"], r["metric"]["kind"]) for r in result}
        return found if found == expected else None

    wait_until("monitord_device_up for every device", devices, 60, prometheus.log)
    result = prometheus.query("monitord_device_up")
    assert {r["metric"]["job"] for r in result} == {"monitord"}
    assert len(result) == len(expected)


def test_every_rule_evaluates_without_error(prometheus: Prometheus) -> None:
    def evaluated() -> list[dict[str, Any]] | None:
        groups = prometheus.api("rules")["groups"]
        loaded = [rule for group in groups for rule in group["rules"]]
        done = all(not r["lastEvaluation"].startswith("0001") for r in loaded)
        return loaded if loaded and done else None

    loaded = wait_until("every rule evaluated once", evaluated, 60, prometheus.log)
    assert len(loaded) == len(rules())
    broken = [(r["name"], r.get("lastError")) for r in loaded if r["health"] != "ok"]
    assert broken == []


def test_recording_rules_give_site_availability(prometheus: Prometheus) -> None:
    def sites() -> dict[str, float] | None:
        found = {
            r["metric"]["site"]: float(r["value"][1])
            for r in prometheus.query("site:monitord_device_up:avg")
        }
        return found if found == {"s1": 1.0, "s2": 1.0} else None

    wait_until("site availability 1.0 at both sites", sites, 60, prometheus.log)


def test_unrouted_contract_alert_fires_and_the_daemon_alerts_do_not(
    prometheus: Prometheus,
) -> None:
    def firing() -> list[dict[str, Any]] | None:
        alerts = prometheus.api("alerts")["alerts"]
        return alerts if any(a["state"] == "firing" for a in alerts) else None

    alerts = wait_until("an alert firing", firing, 60, prometheus.log)
    names = {(a["labels"]["alertname"], a["labels"].get("contract")) for a in alerts}
    assert ("MonitordContractUnrouted", "seed-004") in names
    for quiet in ("MonitordDown", "MonitordAbsent", "MonitordConfigReloadFailed"):
        assert quiet not in {name for name, _ in names}


def test_open_ticket_and_its_deadline_reach_prometheus(prometheus: Prometheus) -> None:
    # The desk's clock pass runs every 30 s; the ticket was opened after the daemon started.
    def deadline() -> list[dict[str, Any]] | None:
        return prometheus.query("monitord_ticket_next_deadline_seconds > 0") or None

    found = wait_until("the hotline ticket's deadline", deadline, 75, prometheus.log)
    assert found[0]["metric"]["contract"] == "seed-000"
    opened = prometheus.query('monitord_tickets_open{class="hotline"}')
    assert sum(float(r["value"][1]) for r in opened) == 1


def test_every_dashboard_query_runs(prometheus: Prometheus) -> None:
    for expr in dashboard_exprs():
        prometheus.query(runnable(expr))  # raises unless Prometheus accepts it


def test_rules_and_dashboard_read_exported_metrics(daemon: tuple[DaemonProcess, int]) -> None:
    text = scrape(daemon[1])
    # The configuration loaded at start counts as a successful load (no false reload alert).
    assert "monitord_config_last_reload_successful 1.0" in text
    exported = exported_names(text) | PROMETHEUS_SERIES
    assert {"monitord_device_up", "monitord_tickets_open", "monitord_outbox_messages"} <= exported
    assert names_in_rules() - exported == set()
    assert names_in_dashboard() - exported == set()


def test_promtool_accepts_the_full_exposition(daemon: tuple[DaemonProcess, int]) -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, "promtool comes with Debian's prometheus package"
    text = scrape(daemon[1])
    for family in ("monitord_snmp_finding_status", "monitord_outbox_messages", "monitord_sla"):
        assert family in text
    checked = subprocess.run(
        [promtool, "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert COMMUNITY not in text
