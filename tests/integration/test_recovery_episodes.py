"""Issue 18: a device coming back is not a new fault; one problem episode is one ticket.

Real tracker, desk and store (SQLite) on an injected clock; echoes are cut and healed at
chosen phases inside a check, so the straddling check loses 0, 1, 2 or all 3 echoes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitord.config import Config
from monitord.health.states import State
from monitord.store import Store
from tests.support.episodes import Cut, Fleet
from tests.support.ticketlab import CAMERAS, T0, Lab, config_data

WATCHED = ["sw", "nvr", *CAMERAS[:3]]


def lab_with(store: Store, icmp: dict[str, float | int]) -> Lab:
    data = config_data("sqlite://", "city")
    devices = data["devices"]
    assert isinstance(devices, list)
    data["devices"] = [d for d in devices if d["id"] in WATCHED]
    return Lab(store, config=Config.model_validate({**data, "icmp": icmp}))


def events(store: Store, kind: str) -> list[tuple[int, str]]:
    out = []
    for ticket in store.tickets(limit=1000):
        out += [(ticket.id, ticket.root_device or "") for e in store.ticket_events(ticket.id)
                if e.kind == kind]  # fmt: skip
    return out


icmp_settings = st.fixed_dictionaries(
    {
        "interval": st.sampled_from([5.0, 10.0, 30.0]),
        "retry_interval": st.sampled_from([1.0, 2.0, 3.0]),
        "max_attempts": st.integers(2, 5),
        "count": st.just(3),
        "echo_interval": st.sampled_from([0.2, 0.5]),
        "timeout": st.just(1.0),
    }
)
# What is cut: the switch takes its cameras with it; cameras and the NVR alone.
cuts = st.sets(st.sampled_from(["sw", "nvr", *CAMERAS[:3]]), min_size=1)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    icmp=icmp_settings,
    cut=cuts,
    outage=st.floats(0.0, 120.0),
    lost=st.integers(0, 3),
)
def test_after_every_heal_the_tickets_are_those_of_the_cut(
    icmp: dict[str, float | int], cut: set[str], outage: float, lost: int
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        store = Store.open(f"sqlite:///{Path(directory) / 'monitord.db'}")
        try:
            store.upgrade()
            asyncio.run(cut_and_heal(store, icmp, cut, outage, lost))
        finally:
            store.close()


async def cut_and_heal(
    store: Store, icmp: dict[str, float | int], cut: set[str], outage: float, lost: int
) -> None:
    fleet = Fleet(lab_with(store, icmp))
    await fleet.run_until(60.0)
    assert all(fleet.state(d) == State.UP for d in WATCHED)
    dark = set(cut) | (set(CAMERAS[:3]) if "sw" in cut else set())
    roots = {d for d in cut if d == "sw" or d == "nvr" or "sw" not in cut}
    fleet.cut = Cut(frozenset(dark), fleet.at)
    await fleet.run_while(1.0, lambda: any(fleet.state(d) == State.UP for d in dark))
    await fleet.run_until(fleet.at + outage)
    confirmed = sorted(t.root_device or "" for t in store.tickets())
    assert confirmed == sorted(roots)
    # Heal inside the next check of the first root: `lost` of its 3 echoes are dropped.
    first = min(roots)
    start, every = fleet.next_start(first), fleet.settings(first).echo_interval
    fleet.cut.heal = start - 0.001 if lost == 0 else start + (lost - 0.5) * every
    await fleet.run_while(1.0, lambda: any(fleet.state(d) != State.UP for d in WATCHED))
    await fleet.run_until(fleet.at + 3 * float(icmp["interval"]))  # and a while after
    after = store.tickets()
    assert sorted(t.root_device or "" for t in after) == sorted(roots)
    healed_at = T0 + dt.timedelta(seconds=fleet.cut.heal)
    assert all(t.opened_at < healed_at for t in after)
    assert sorted(r for _, r in events(store, "opened")) == sorted(roots)
    assert sorted(r for _, r in events(store, "recovered")) == sorted(roots)
    assert all(t.recovered and t.status == "open" for t in after)
