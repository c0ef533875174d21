"""The finding tracker keeps one record per check; alike records of many devices are one
object (the memory of 10 000 cameras), and sharing never mixes one device's state into
another's."""

from __future__ import annotations

import datetime as dt

from monitord.health import findings
from monitord.health.findings import Finding, FindingTracker, Status, shared

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def _clock(device: str, drift: float, status: Status = Status.OK) -> Finding:
    return Finding(device, "clock", status, "clock 0 s ahead", shared(drift_s=drift))


def test_alike_checks_of_many_devices_are_one_record() -> None:
    tracker = FindingTracker()
    for n in range(50):
        tracker.observe([_clock(f"cam-{n}", 0.1)], T0, 3)
    records = {id(tracker.current(f"cam-{n}")["clock"]) for n in range(50)}
    assert len(records) == 1
    tracker.observe([_clock("cam-7", 2.0)], T0, 3)
    assert tracker.current("cam-7")["clock"].values == {"drift_s": 2.0}
    assert tracker.current("cam-8")["clock"].values == {"drift_s": 0.1}


def test_one_device_awaiting_confirmation_leaves_the_alike_others_alone() -> None:
    tracker = FindingTracker()
    for device in ("a", "b"):
        tracker.observe([_clock(device, 0.0)], T0, 3)
    tracker.observe([_clock("a", 0.0, Status.WARNING)], T0, 3)
    assert tracker.soft("a") and not tracker.soft("b")
    assert tracker.current("a")["clock"].status == Status.WARNING
    assert tracker.current("b")["clock"].status == Status.OK
    tracker.observe([_clock("a", 0.0, Status.WARNING)], T0, 3)
    [change] = tracker.observe([_clock("a", 0.0, Status.WARNING)], T0, 3)
    assert (change.device_id, change.from_status, change.to_status) == (
        "a",
        Status.OK,
        Status.WARNING,
    )
    assert tracker.hard("a") == {"clock": Status.WARNING}
    assert tracker.hard("b") == {"clock": Status.OK}


def test_per_poll_values_are_kept_as_they_are_and_the_shared_records_stay_bounded() -> None:
    tracker = FindingTracker()
    counters = {"in_octets": 1234}
    tracker.observe([Finding("sw", "port:1", Status.OK, "port 1 up", counters)], T0, 3)
    assert tracker.current("sw")["port:1"].values is counters
    for n in range(findings._LATEST_MAX + 10):
        tracker.observe([_clock(f"cam-{n}", n / 10)], T0, 3)
    assert len(findings._LATEST) <= findings._LATEST_MAX
    assert tracker.current("cam-0")["clock"].values == {"drift_s": 0.0}
    last = findings._LATEST_MAX + 9
    assert tracker.current(f"cam-{last}")["clock"].values == {"drift_s": last / 10}
