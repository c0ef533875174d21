"""What devices say about themselves, on SQLite and PostgreSQL: a first sighting is kept
quietly, a change is kept and recorded once in the operation record, in one transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.store import Store
from tests.integration.test_store import SITES, SW, T0


@pytest.fixture
def fleet(store: Store) -> Store:
    store.sync_inventory(SITES, [SW], T0)
    return store


def test_first_sighting_is_quiet_then_a_change_is_recorded_once(fleet: Store) -> None:
    later = T0 + dt.timedelta(hours=1)
    seen = {"firmware": "V4.30.005", "vendor": "Hikvision", "sys_descr": "NVR V4.30.005"}
    assert fleet.learn_facts("sw1", "snmp", seen, T0) == {}
    assert fleet.learn_facts("sw1", "snmp", seen, later) == {}
    assert fleet.operation_record("sw1") == []
    updated = {**seen, "firmware": "V4.31.000", "model": "DS-7608NI"}
    assert fleet.learn_facts("sw1", "onvif", updated, later) == {
        "firmware": ("V4.30.005", "V4.31.000")
    }
    [event] = fleet.operation_record("sw1")
    assert (event.kind, event.at) == ("firmware", later)
    assert event.reason == "firmware changed (onvif): V4.30.005 -> V4.31.000"
    assert event.observation == {
        "fact": "firmware", "from": "V4.30.005", "to": "V4.31.000", "source": "onvif"
    }  # fmt: skip
    facts = fleet.facts("sw1")
    assert {n: f.value for n, f in facts.items()} == updated
    assert (facts["firmware"].source, facts["firmware"].changed_at) == ("onvif", later)
    assert (facts["vendor"].changed_at, facts["vendor"].observed_at) == (T0, later)


def test_blank_values_are_ignored_and_long_ones_cut(fleet: Store) -> None:
    assert fleet.learn_facts("sw1", "snmp", {"sys_descr": "x" * 2000, "model": "  "}, T0) == {}
    facts = fleet.facts("sw1")
    assert set(facts) == {"sys_descr"} and len(facts["sys_descr"].value) == 500


def test_facts_of_unknown_devices_are_refused(fleet: Store) -> None:
    with pytest.raises(Exception, match="ghost"):
        fleet.learn_facts("ghost", "snmp", {"vendor": "H3C"}, T0)
