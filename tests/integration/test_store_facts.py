"""What devices say about themselves, on SQLite and PostgreSQL: a first sighting is kept
quietly, a change is kept and recorded once in the operation record, in one transaction;
each probe keeps its own wording; the archive takes facts only where the configuration is
silent."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.store import Store
from tests.support.archive import CAM, SITES, SW, T0

LATER = T0 + dt.timedelta(hours=1)


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM], T0)
    return store


def test_first_sighting_is_quiet_then_a_change_is_recorded_once(fleet: Store) -> None:
    seen = {"firmware": "V4.30.005", "vendor": "Hikvision", "sys_descr": "NVR V4.30.005"}
    assert fleet.facts.learn("sw1", "snmp", seen, T0) == {}
    assert fleet.facts.learn("sw1", "snmp", seen, LATER) == {}
    assert fleet.states.operation_record("sw1") == []
    updated = {**seen, "firmware": "V4.31.000", "model": "DS-7608NI"}
    assert fleet.facts.learn("sw1", "snmp", updated, LATER) == {
        "firmware": ("V4.30.005", "V4.31.000")
    }
    [event] = fleet.states.operation_record("sw1")
    assert (event.kind, event.at) == ("firmware", LATER)
    assert event.reason == "firmware changed (snmp): V4.30.005 -> V4.31.000"
    assert event.observation == {
        "fact": "firmware", "from": "V4.30.005", "to": "V4.31.000", "source": "snmp"
    }  # fmt: skip
    facts = fleet.facts.of("sw1")
    assert {n: f.value for n, f in facts.items()} == updated
    assert (facts["firmware"].changed_at, facts["vendor"].changed_at) == (LATER, T0)
    assert facts["vendor"].observed_at == LATER


def test_probes_keep_their_own_wording_and_onvif_is_preferred(fleet: Store) -> None:
    for at in (T0, LATER, LATER + dt.timedelta(hours=1)):
        fleet.facts.learn("sw1", "snmp", {"firmware": "V5.7.1"}, at)
        fleet.facts.learn("sw1", "onvif", {"firmware": "V5.7.1 build 240601"}, at)
    assert fleet.states.operation_record("sw1") == []  # no flip-flop between the two
    firmware = fleet.facts.of("sw1")["firmware"]
    assert (firmware.value, firmware.source) == ("V5.7.1 build 240601", "onvif")


def test_the_archive_takes_facts_where_the_configuration_is_silent(fleet: Store) -> None:
    reported = {"vendor": "Dahua", "model": "IPC-X", "serial": "D1", "firmware": "V2"}
    fleet.facts.learn("cam1", "onvif", reported, T0)
    fleet.facts.learn("sw1", "onvif", reported, T0)
    cam = fleet.devices.archive("cam1")  # configured: Hikvision DS-2CD SN1 V5.7.1
    assert cam == CAM
    sw = fleet.devices.archive("sw1")  # configured: nothing of the four
    assert sw is not None and (sw.vendor, sw.model, sw.serial, sw.firmware) == (
        "Dahua", "IPC-X", "D1", "V2",
    )  # fmt: skip
    assert fleet.devices.get("sw1") == SW  # the configured archive itself is untouched
    assert fleet.devices.archive("ghost") is None


def test_blank_values_are_ignored_and_long_ones_cut(fleet: Store) -> None:
    assert fleet.facts.learn("sw1", "snmp", {"sys_descr": "x" * 2000, "model": "  "}, T0) == {}
    facts = fleet.facts.of("sw1")
    assert set(facts) == {"sys_descr"} and len(facts["sys_descr"].value) == 500


def test_facts_of_unknown_devices_are_refused(fleet: Store) -> None:
    with pytest.raises(Exception, match="ghost"):
        fleet.facts.learn("ghost", "snmp", {"vendor": "H3C"}, T0)
