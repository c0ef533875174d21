"""MAC -> port history (store.macs) on both backends: moves, returns, VLAN changes."""

from __future__ import annotations

import datetime as dt

import pytest

from monitord.config.discovery import DiscoverySettings
from monitord.store import Store
from monitord.store.records import MacSighting

T0 = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
MAC = "c0:56:e3:00:00:01"


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_a_move_is_reported_once_and_a_return_is_a_move_again(store: Store) -> None:
    a, b = MacSighting(MAC, "sw-1", "Gi0/0/3", 10), MacSighting(MAC, "sw-2", "Gi0/0/7", 10)
    other = MacSighting("c0:56:e3:00:00:02", "sw-1", "Gi0/0/4", 10)
    assert store.macs.observe("s1", [a, other], at(0)) == []  # first sightings
    assert store.macs.observe("s1", [a, other], at(15)) == []
    [move] = store.macs.observe("s1", [b, other], at(30))
    assert (move.before, move.after, move.since) == (a, b, at(15))
    assert store.macs.observe("s1", [b], at(45)) == []  # reported once
    [back] = store.macs.observe("s1", [a], at(60))
    assert (back.before, back.after, back.since) == (b, a, at(45))
    assert store.macs.history("s1", MAC) == [(a, at(0), at(60)), (b, at(30), at(45))]
    assert store.macs.last("s1") == {MAC: a, other.mac: other}
    assert store.macs.last("s2") == {}  # per site


def test_a_vlan_change_on_the_same_port_is_no_move(store: Store) -> None:
    store.macs.observe("s1", [MacSighting(MAC, "sw-1", "Gi0/0/3", 10)], at(0))
    assert store.macs.observe("s1", [MacSighting(MAC, "sw-1", "Gi0/0/3", 20)], at(15)) == []
    assert store.macs.last("s1")[MAC].vlan == 20


def test_the_cycle_is_off_or_at_least_a_minute() -> None:
    base = {"ranges": ["10.0.0.0/24"]}
    assert DiscoverySettings.model_validate(base).tables_every == dt.timedelta(minutes=15)
    assert not DiscoverySettings.model_validate({**base, "tables_every": "0s"}).tables_every
    with pytest.raises(ValueError, match="at least 1m"):
        DiscoverySettings.model_validate({**base, "tables_every": "10s"})
