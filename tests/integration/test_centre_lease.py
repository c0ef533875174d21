"""The centre HA lease on real PostgreSQL: takeover, renewal, and fencing of an old leader.

Two holders share one database in one process; a FakeClock stands in for the database's
clock (the daemon uses `clock_timestamp()`), so expiry is moved by hand, not slept for.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest

from monitord.centre.leader import Leadership
from monitord.clock import FakeClock
from monitord.config.centre import HaSettings
from monitord.store import Store
from monitord.store.fencing import Fenced, fenced
from monitord.store.lease import Leases
from monitord.supervise import Step
from tests.support.archive import CAM, SITES, SW, T0

pytestmark = pytest.mark.postgres
LEASE = 15.0


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    store = Store.open(pg_url)
    store.upgrade()
    yield store
    store.close()


def test_takeover_after_expiry_bumps_the_epoch_and_fences_the_old_leader(
    pg_store: Store,
) -> None:
    clock = FakeClock(T0)
    leases = Leases(pg_store, clock.now)
    a = leases.acquire("centre", "a", LEASE)
    assert a is not None and a.epoch == 1
    assert leases.acquire("centre", "b", LEASE) is None  # a holds it
    clock.set_wall(T0 + dt.timedelta(seconds=LEASE + 1))  # a paused past its lease
    b = leases.acquire("centre", "b", LEASE)
    assert b is not None and b.epoch == 2
    assert leases.acquire("centre", "a", LEASE) is None  # a resumed: b leads now

    with fenced(a), pytest.raises(Fenced, match="epoch 1"):
        pg_store.devices.sync(SITES, [SW, CAM], T0)
    assert pg_store.devices.all() == []  # rolled back: the old leader wrote nothing
    with fenced(b):
        pg_store.devices.sync(SITES, [SW, CAM], T0)
    assert pg_store.devices.all() == [CAM, SW]


def test_renewal_by_the_holder_keeps_the_epoch(pg_store: Store) -> None:
    clock = FakeClock(T0)
    leases = Leases(pg_store, clock.now)
    first = leases.acquire("centre", "a", LEASE)
    for _ in range(3):
        clock.set_wall(clock.now() + dt.timedelta(seconds=LEASE / 3))
        renewed = leases.acquire("centre", "a", LEASE)
        assert renewed == first
    assert leases.acquire("centre", "b", LEASE) is None  # renewed, so never expired
    holder = leases.holder("centre")
    assert holder is not None and holder[:2] == ("a", 1)
    assert holder[2] == clock.now() + dt.timedelta(seconds=LEASE)


def test_an_expired_lease_fences_even_without_a_taker_and_release_hands_over(
    pg_store: Store,
) -> None:
    clock = FakeClock(T0)
    leases = Leases(pg_store, clock.now)
    a = leases.acquire("centre", "a", LEASE)
    assert a is not None
    clock.set_wall(T0 + dt.timedelta(seconds=LEASE))
    with fenced(a), pytest.raises(Fenced):
        pg_store.devices.sync(SITES, [SW], T0)
    assert pg_store.devices.all() == []
    a = leases.acquire("centre", "a", LEASE)  # nobody took it: the holder keeps its epoch
    assert a is not None and a.epoch == 1
    leases.release(a)
    b = leases.acquire("centre", "b", LEASE)  # at once, not after the lease period
    assert b is not None and b.epoch == 2


def test_the_database_clock_decides_without_an_injected_one(pg_store: Store) -> None:
    leases = Leases(pg_store)
    a = leases.acquire("centre", "a", LEASE)
    assert a is not None and a.now is None
    assert leases.acquire("centre", "b", LEASE) is None
    with fenced(a):
        pg_store.devices.sync(SITES, [SW], T0)
    assert pg_store.devices.all() == [SW]


async def test_only_the_leader_runs_gated_work_and_it_stops_within_the_lease(
    pg_store: Store,
) -> None:
    clock = FakeClock(T0)
    pg_store.leases = Leases(pg_store, clock.now)
    ha = HaSettings(enabled=True, lease=dt.timedelta(seconds=LEASE), node="n")
    a, b = Leadership(pg_store, clock, ha), Leadership(pg_store, clock, ha)
    assert a.holder != b.holder  # one node name, two processes: never both leading
    runs: list[str] = []

    def work(who: str) -> Step:
        async def step() -> float:
            runs.append(who)
            await asyncio.to_thread(pg_store.devices.sync, SITES, [SW], clock.now())
            return 1.0

        return step

    assert await a.step() == LEASE / 3 and await b.step() == LEASE / 5
    await a.gated(work("a"))()
    await b.gated(work("b"))()
    assert runs == ["a"]
    await clock.advance(LEASE * 0.9)  # a could not renew (cut off): its belief lapses
    await a.gated(work("a"))()
    assert runs == ["a"] and a.token is None
    await clock.advance(LEASE * 0.1)
    await b.step()  # expired in the database: b takes over
    assert b.token is not None and b.token.epoch == 2
    await b.gated(work("b"))()
    assert runs == ["a", "b"]
    await b.release()
    assert await a.step() == LEASE / 3 and a.token is not None and a.token.epoch == 3
