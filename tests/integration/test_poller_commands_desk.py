"""The centre's command desk (sites/commands.py) on a real store and the injected clock: the
bounds (orders open per poller, progress a caller does not read), cancellation before and
after delivery, timeouts, and orders forgotten once nobody can wait for them."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from monitord.clock import FakeClock
from monitord.config import Config
from monitord.sites.commands import _KEPT, _QUEUED, Commands, NotYours, Outcome, Progress, Refused
from monitord.sites.enrolment import CODE_VALID, new_code, new_token
from monitord.sites.wire import Update
from monitord.store import Store
from tests.support.db import sqlite_only

database_url = sqlite_only  # the desk is under test here, not the store
T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
CONFIG = Config.model_validate(
    {"poller_silence": 60, "sites": [{"id": "north", "name": "N", "poller": "p-north"}]}
)


async def settled() -> None:
    """Let the follower reach its wait on the fake clock (a few loop turns, no time)."""
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
def desk(store: Store) -> tuple[Commands, FakeClock]:
    clock = FakeClock(T0)
    for poller in ("p-north", "p-south"):
        code = new_code()
        store.pollers.add_code(poller, ["north"], code, T0, CODE_VALID)
        store.pollers.enrol(code, new_token(), T0)
        store.pollers.seen(poller, T0, "t", 0.0, None)
    made = Commands(store, clock, lambda: CONFIG)
    made.heard("p-north", 2)
    return made, clock


async def test_orders_are_bounded_per_poller_and_handed_out_once(
    desk: tuple[Commands, FakeClock],
) -> None:
    commands, _ = desk
    ids = [await commands.submit("p-north", "probe", {"device": f"d{i}"}) for i in range(_QUEUED)]
    with pytest.raises(Refused) as refused:
        await commands.submit("p-north", "probe", {})
    assert refused.value.reason == "cmd_busy"
    commands.cancel(ids[0])  # not delivered yet: simply gone, room for another
    ids[0] = await commands.submit("p-north", "probe", {"device": "d0"})
    assert commands.wake("p-north").is_set() and not commands.waiting("p-south")
    handed, stop = commands.take("p-north")
    assert sorted(c.id for c in handed) == sorted(ids) and stop == ()
    assert commands.take("p-north") == ((), ())  # at most once
    with pytest.raises(NotYours):
        commands.answer("p-south", ids[1], Update(kind="accepted"))
    # Cancelled after delivery: the poller is told once, its answers then refused.
    commands.cancel(ids[1])
    assert commands.waiting("p-north") and commands.take("p-north") == ((), (ids[1],))
    with pytest.raises(NotYours):
        commands.answer("p-north", ids[1], Update(kind="result"))


async def test_progress_nobody_reads_is_dropped_but_never_the_result(
    desk: tuple[Commands, FakeClock],
) -> None:
    commands, _ = desk
    command = await commands.submit("p-north", "discover", {"site": "north"})
    commands.take("p-north")
    assert commands.answer("p-north", command, Update(kind="accepted")) is False
    for i in range(_KEPT * 2):  # a caller that stopped reading: the buffer stays bounded
        commands.answer("p-north", command, Update(kind="progress", data={"i": i}))
    commands.answer("p-north", command, Update(kind="result", data={"changes": []}))
    steps = [step async for step in commands.follow(command)]
    assert len(steps) == _KEPT  # the accepted, the progress kept but the first, the result
    assert isinstance(steps[-1], Outcome) and steps[-1].error is None
    assert steps[-1].data == {"changes": []} and steps[-1].where == "p-north"
    assert all(isinstance(s, Progress) for s in steps[:-1])


async def test_unaccepted_and_unfinished_orders_time_out_on_the_clock(
    desk: tuple[Commands, FakeClock],
) -> None:
    commands, clock = desk
    command = await commands.submit("p-north", "probe", {"device": "d"})
    commands.take("p-north")  # handed out, never accepted (the answer was lost)
    follow = commands.follow(command)
    first = asyncio.create_task(anext(follow))
    await settled()
    await clock.advance(commands.delivery + 0.1)
    outcome = await asyncio.wait_for(first, 5)
    assert isinstance(outcome, Outcome) and outcome.error == "cmd_not_delivered"
    await follow.aclose()
    assert commands.take("p-north")[1] == (command,)  # the poller is told to drop it
    # Accepted, then silent past the order's own timeout.
    command = await commands.submit("p-north", "probe", {"device": "d"}, within=10)
    commands.take("p-north")
    commands.answer("p-north", command, Update(kind="accepted"))
    follow = commands.follow(command)
    late = asyncio.create_task(anext(follow))
    await settled()
    await clock.advance(9)
    assert not late.done()
    await clock.advance(2)
    outcome = await asyncio.wait_for(late, 5)
    assert isinstance(outcome, Outcome) and outcome.error == "cmd_timeout"
    await follow.aclose()
    assert commands.take("p-north")[1] == (command,)
    # A caller that never followed: its orders are forgotten after their timeout.
    for _ in range(_QUEUED):
        await commands.submit("p-north", "probe", {"device": "d"}, within=10)
    await clock.advance(10 + commands.delivery + 1)
    assert await commands.submit("p-north", "probe", {"device": "d"})
