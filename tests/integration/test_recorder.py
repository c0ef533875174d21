"""The recorder on a real store: a storm of transitions is committed in a few transactions."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from monitord.clock import FakeClock
from monitord.health.recorder import Recorder
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.store import Store
from monitord.store.records import DeviceRecord, OperationEvent, SavedState, SiteRecord

T0 = dt.datetime(2026, 6, 1, 2, 0, tzinfo=dt.UTC)
DEVICES = [f"cam-{i:03d}" for i in range(200)]


def transition(device: str, seconds: float, was: State, now: State) -> Transition:
    at = T0 + dt.timedelta(seconds=seconds)
    return Transition(device, at, was, now, f"{was.value} -> {now.value}", {"n": seconds})


@pytest.fixture
def fleet(store: Store) -> Store:
    site = SiteRecord("s1", "Site", "Asia/Shanghai", "city", None)
    devices = [DeviceRecord(d, "s1", d, "camera", "10.0.0.1") for d in DEVICES]
    store.devices.sync([site], devices, T0)
    return store


async def test_a_storm_shares_transactions_and_keeps_every_change_in_order(
    fleet: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    write = fleet.states.record_changes

    def counted(changes: list[tuple[OperationEvent, SavedState]]) -> None:
        batches.append(len(changes))
        write(changes)

    monkeypatch.setattr(fleet.states, "record_changes", counted)
    recorder = Recorder(fleet, FakeClock(T0))

    async def device_storm(device: str) -> None:  # one device's changes come one by one
        await recorder.record(transition(device, 1, State.UP, State.DOWN))
        await recorder.record(transition(device, 2, State.DOWN, State.UNREACHABLE))

    await asyncio.wait_for(asyncio.gather(*(device_storm(d) for d in DEVICES)), timeout=30)
    assert sum(batches) == 2 * len(DEVICES)
    assert len(batches) <= 6, batches  # not one transaction per change
    states = fleet.states.load()
    assert {d: s.state for d, s in states.items()} == dict.fromkeys(DEVICES, "unreachable")
    for device in DEVICES[::37]:
        record = fleet.states.operation_record(device)
        assert [(e.from_state, e.to_state) for e in record] == [
            ("down", "unreachable"),
            ("up", "down"),
        ]
