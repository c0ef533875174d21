"""SNMP evaluation on literal readings: findings, reboots, rates, and their confirmation."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.checks.snmp import counters
from monitord.checks.snmp import oids as O
from monitord.checks.snmp.client import SnmpReading, SnmpTimeout
from monitord.checks.snmp.evaluate import Memory, evaluate, reboot_while_away
from monitord.config.secrets import SecretRef
from monitord.config.snmp import SnmpSettings
from monitord.health.findings import Finding, FindingTracker, Status

SETTINGS = SnmpSettings(community=SecretRef(env="C"), ports=(1, 3))
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WRAP = counters.TICKS_WRAP


def reading(**values: int | str) -> SnmpReading:
    base: dict[str, int | str] = {O.SYS_UPTIME: 50_000, O.SYS_NAME: "sw", O.SYS_DESCR: "fw 1"}
    return SnmpReading(
        "127.0.0.1:161", {**base, **{k.replace("_", "."): v for k, v in values.items()}}
    )


def switch(oper3: int = 1, poe3: int = 3, uptime: int = 50_000, octets: int = 0) -> SnmpReading:
    return SnmpReading(
        "127.0.0.1:161",
        {
            O.SYS_UPTIME: uptime,
            O.SYS_DESCR: "fw 1",
            f"{O.IF_ADMIN_STATUS}.1": 1,
            f"{O.IF_OPER_STATUS}.1": 1,
            f"{O.IF_HC_IN_OCTETS}.1": octets,
            f"{O.IF_ADMIN_STATUS}.3": 1,
            f"{O.IF_OPER_STATUS}.3": oper3,
            f"{O.PETH_PSE_PORT_DETECTION_STATUS}.1.3": poe3,
            f"{O.PETH_PSE_PORT_DETECTION_STATUS}.1.9": 4,  # not watched: ignored
        },
    )


def by_check(findings: list[Finding]) -> dict[str, Status]:
    return {f.check: f.status for f in findings}


class TestCounters:
    @pytest.mark.parametrize(
        ("before", "after", "elapsed", "expected"),
        [
            (100_000, 106_000, 60, False),  # grew by 60 s
            (100_000, 99_000, 60, True),  # dropped
            (100_000, 1_000, 60, True),
            (50, 10, 1, True),  # any drop, however small the uptimes
            (500, 3_000, 600, True),  # rebooted early in a long interval: grew, but too little
            (WRAP - 3_000, 3_000, 60, False),  # the 32-bit wrap explains the drop
            (WRAP - 3_000, 300_000, 60, True),  # a wrap cannot explain this one
        ],
    )
    def test_rebooted(self, before: int, after: int, elapsed: float, expected: bool) -> None:
        assert counters.rebooted(before, after, elapsed) is expected

    def test_rates_wrap_and_reset(self) -> None:
        assert counters.rate(1_000, 7_000, 64, 60) == 100
        assert counters.rate(2**32 - 100, 500, 32, 10) == 60  # 32-bit wrap
        assert counters.rate(2**31 + 5, 10, 32, 10) is None  # implausible wrap: a reset
        assert counters.rate(10_000, 5, 64, 10) is None  # 64-bit going down: a reset
        assert counters.rate(1, 2, 64, 0) is None


class TestEvaluate:
    def test_port_down_and_poe_fault(self) -> None:
        found = evaluate("sw", "switch", SETTINGS, switch(oper3=2, poe3=4), None, 0.0)
        assert by_check(found.findings) == {
            "snmp": Status.OK,
            "port:1": Status.OK,
            "port:3": Status.CRITICAL,
            "poe:1.3": Status.CRITICAL,
        }
        assert found.events == []

    def test_rates_from_two_polls(self) -> None:
        first = evaluate("sw", "switch", SETTINGS, switch(octets=1_000), None, 0.0)
        second = evaluate(
            "sw", "switch", SETTINGS, switch(uptime=56_000, octets=751_000), first.memory, 60.0
        )
        port1 = next(f for f in second.findings if f.check == "port:1")
        assert port1.values["in_bps"] == 100_000.0  # 750 000 octets in 60 s, as bits
        assert second.events == []

    def test_reboot_is_an_event_and_has_no_rate(self) -> None:
        first = evaluate("sw", "switch", SETTINGS, switch(octets=9_000_000), None, 0.0)
        after = evaluate("sw", "switch", SETTINGS, switch(uptime=2_000, octets=5), first.memory, 60)
        assert [e.kind for e in after.events] == ["reboot"]
        port1 = next(f for f in after.findings if f.check == "port:1")
        assert "in_bps" not in port1.values

    def test_agent_error_is_unknown_with_the_reason(self) -> None:
        failed = SnmpReading(
            "10.0.0.1:161", {}, error=SnmpTimeout("10.0.0.1:161", "no SNMP response")
        )
        found = evaluate("sw", "switch", SETTINGS, failed, Memory(0, 1, "x"), 60)
        assert [(f.check, f.status) for f in found.findings] == [("snmp", Status.UNKNOWN)]
        assert "10.0.0.1:161" in found.findings[0].summary
        assert found.memory is None

    @pytest.mark.parametrize(
        "values",
        [
            {O.SYS_UPTIME: "not ticks"},  # wrong type in a varbind
            {f"{O.IF_OPER_STATUS}.1": "up", f"{O.IF_ADMIN_STATUS}.1": 1},
            {f"{O.IF_OPER_STATUS}.1": 99, f"{O.IF_ADMIN_STATUS}.1": 1},
        ],
    )
    def test_wrong_types_are_unknown(self, values: dict[str, int | str]) -> None:
        bad = SnmpReading("h:161", {O.SYS_UPTIME: 5, **values})
        found = by_check(evaluate("sw", "switch", SETTINGS, bad, None, 0).findings)
        assert Status.UNKNOWN in found.values()
        assert found["port:3"] == Status.UNKNOWN  # absent: "no such interface"

    def test_storage_thresholds(self) -> None:
        nvr = SnmpReading(
            "h:161",
            {
                O.SYS_UPTIME: 5,
                f"{O.HR_STORAGE_TYPE}.1": "1.3.6.1.2.1.25.2.1.2",  # RAM: not a disk
                f"{O.HR_STORAGE_SIZE}.1": 100,
                f"{O.HR_STORAGE_USED}.1": 99,
                **{f"{O.HR_STORAGE_TYPE}.{i}": O.HR_STORAGE_FIXED_DISK for i in (31, 32, 33, 34)},
                **{f"{O.HR_STORAGE_SIZE}.{i}": 1000 for i in (31, 32, 33)},
                f"{O.HR_STORAGE_USED}.31": 500,
                f"{O.HR_STORAGE_USED}.32": 900,
                f"{O.HR_STORAGE_USED}.33": 990,
                f"{O.HR_STORAGE_SIZE}.34": 0,  # empty slot
                f"{O.HR_STORAGE_USED}.34": 0,
            },
        )
        found = by_check(
            evaluate("nvr", "nvr", SETTINGS.model_copy(update={"ports": ()}), nvr, None, 0).findings
        )
        assert found == {
            "snmp": Status.OK,
            "storage:31": Status.OK,
            "storage:32": Status.WARNING,
            "storage:33": Status.CRITICAL,
        }

    def test_disk_health(self) -> None:
        disk = O.HR_DEVICE_DISK_STORAGE
        statuses = {401: 2, 402: 3, 403: 5, 404: 1, 405: 2, 406: 9}
        nvr = SnmpReading(
            "h:161",
            {
                O.SYS_UPTIME: 5,
                f"{O.HR_DEVICE_TYPE}.1": "1.3.6.1.2.1.25.3.1.3",  # a processor, down: ignored
                f"{O.HR_DEVICE_STATUS}.1": 5,
                **{f"{O.HR_DEVICE_TYPE}.{i}": disk for i in statuses},
                **{f"{O.HR_DEVICE_STATUS}.{i}": s for i, s in statuses.items()},
                f"{O.HR_DISK_STORAGE_ACCESS}.401": 1,
                f"{O.HR_DISK_STORAGE_ACCESS}.405": 2,  # running but read-only
                f"{O.HR_DEVICE_DESCR}.405": "HDD5",
            },
        )
        result = evaluate("nvr", "nvr", SETTINGS.model_copy(update={"ports": ()}), nvr, None, 0)
        found = by_check(result.findings)
        assert found == {
            "snmp": Status.OK,
            "disk:401": Status.OK,
            "disk:402": Status.WARNING,
            "disk:403": Status.CRITICAL,
            "disk:404": Status.UNKNOWN,
            "disk:405": Status.WARNING,
            "disk:406": Status.UNKNOWN,
        }
        summaries = {f.check: f.summary for f in result.findings}
        assert summaries["disk:405"] == "disk HDD5: read-only"
        assert summaries["disk:403"] == "disk 403: down"

    def test_temperature_scaled(self) -> None:
        sensor = {
            O.SYS_UPTIME: 5,
            f"{O.ENT_PHY_SENSOR_TYPE}.7": 8,
            f"{O.ENT_PHY_SENSOR_SCALE}.7": 9,
            f"{O.ENT_PHY_SENSOR_PRECISION}.7": 1,
            f"{O.ENT_PHY_SENSOR_VALUE}.7": 655,
            f"{O.ENT_PHY_SENSOR_OPER_STATUS}.7": 1,
        }
        found = evaluate(
            "sw",
            "switch",
            SETTINGS.model_copy(update={"ports": ()}),
            SnmpReading("h:1", sensor),
            None,
            0,
        )
        temp = next(f for f in found.findings if f.check == "temperature:7")
        assert (temp.status, temp.values["celsius"]) == (Status.WARNING, 65.5)


class TestTracker:
    def test_problem_confirmed_after_max_attempts_recovery_at_once(self) -> None:
        tracker = FindingTracker()
        ok = Finding("sw", "port:3", Status.OK, "up")
        down = Finding("sw", "port:3", Status.CRITICAL, "down")
        assert tracker.observe([ok], T0, 3) == []  # first seen healthy: no news
        assert tracker.observe([down], T0, 3) == []
        assert tracker.soft("sw")
        assert tracker.observe([down], T0, 3) == []
        [change] = tracker.observe([down], T0, 3)
        assert (change.from_status, change.to_status) == (Status.OK, Status.CRITICAL)
        assert not tracker.soft("sw")
        assert tracker.observe([down], T0, 3) == []  # edge-triggered
        warn = Finding("sw", "port:3", Status.WARNING, "admin down")
        assert [c.to_status for c in tracker.observe([warn], T0, 3)] == [Status.WARNING]
        assert [c.to_status for c in tracker.observe([ok], T0, 3)] == [Status.OK]

    def test_a_blip_is_not_news(self) -> None:
        tracker = FindingTracker()
        ok = Finding("nvr", "storage:31", Status.OK, "50%")
        full = Finding("nvr", "storage:31", Status.CRITICAL, "99%")
        for f in (ok, full, ok, full, full, ok):
            assert tracker.observe([f], T0, 3) == []

    def test_first_seen_problem_is_news_once_confirmed(self) -> None:
        tracker = FindingTracker()
        fault = Finding("sw", "poe:1.2", Status.CRITICAL, "fault")
        assert tracker.observe([fault], T0, 1)[0].from_status is None
        tracker.retain([])
        assert tracker.current("sw") == {}


class TestRebootWhileAway:
    NOW = T0 + dt.timedelta(days=1)

    def test_booted_after_last_seen(self) -> None:
        event = reboot_while_away(60 * 100, self.NOW - dt.timedelta(hours=1), None, self.NOW)
        assert event is not None and event.kind == "reboot"
        assert event.values == {"uptime_s": 60.0, "unwatched_s": 3600.0}

    def test_up_all_along(self) -> None:
        uptime = 2 * 3600 * 100
        assert reboot_while_away(uptime, self.NOW - dt.timedelta(hours=1), None, self.NOW) is None

    def test_already_recorded(self) -> None:
        seen = self.NOW - dt.timedelta(hours=1)
        recorded = self.NOW - dt.timedelta(seconds=30)  # polled 30 s after the boot
        assert reboot_while_away(60 * 100, seen, recorded, self.NOW) is None
        older = self.NOW - dt.timedelta(seconds=90)  # an earlier boot's record
        assert reboot_while_away(60 * 100, seen, older, self.NOW) is not None

    def test_clock_went_back(self) -> None:
        assert reboot_while_away(60 * 100, self.NOW + dt.timedelta(hours=1), None, self.NOW) is None
