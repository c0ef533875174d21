"""Discovery runs and their change sets (store.discovery) on both backends: a run written as
it starts, ends and is applied; the newest of a site read back whole."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from monitord.store import Store
from monitord.store.records import DiscoveryRun

T0 = dt.datetime(2026, 6, 1, 8, tzinfo=dt.UTC)
CHANGE = {"change": "parent_wrong", "device": "cam-07", "address": "10.1.0.7",
          "detail": "cam-07 is configured under sw-02 but its MAC is on sw-05 port 14",
          "notes": [], "record": {"parents": ["sw-05"]}, "why": "ev_parent_port",
          "args": {"configured": "sw-02", "parent": "sw-05", "port": "14"}}  # fmt: skip


def test_a_run_is_kept_through_its_states_and_the_newest_per_site_comes_back(
    store: Store,
) -> None:
    old = DiscoveryRun("r-old", "s1", "li", "centre", "done", T0, T0)
    store.discovery.save(old)
    run = DiscoveryRun("r-1", "s1", "wang", "p-1", "running", T0 + dt.timedelta(hours=1))
    store.discovery.save(run)
    store.discovery.save(DiscoveryRun("r-2", "s2", "li", "centre", "running", T0))
    assert store.discovery.latest("s1") == run
    proposal = {"site": "s1", "sent": 9, "refused": [], "refused_count": 0, "changes": [CHANGE]}
    done = dataclasses.replace(run, state="done", finished=run.started, proposal=proposal)
    store.discovery.save(done)
    assert store.discovery.latest("s1") == done
    applied = dataclasses.replace(done, state="applied", reloaded=True, applied={
        "path": "/etc/monitord/devices.d/s1.yaml", "added": [], "updated": ["cam-07"],
        "elsewhere": []})  # fmt: skip
    store.discovery.save(applied)
    assert store.discovery.get("r-1") == applied
    assert store.discovery.get("r-old") == old and store.discovery.latest("s3") is None
    with pytest.raises(ValueError, match="naive"):
        store.discovery.save(dataclasses.replace(run, started=dt.datetime(2026, 6, 1)))


async def test_the_console_desk_recalls_kept_runs_and_shows_one_cut_short_cancelled(
    store: Store,
) -> None:
    from monitord.console.discovery_desk import DiscoveryDesk
    from monitord.discovery.plan import Proposal
    from monitord.discovery.propose import Item

    item = Item("parent_wrong", "cam-07", "10.1.0.7", CHANGE["detail"], {"parents": ["sw-05"]},
                why="ev_parent_port", args=CHANGE["args"])  # fmt: skip
    store.discovery.save(DiscoveryRun("r-cut", "s1", "li", "centre", "running", T0))
    store.discovery.save(DiscoveryRun("r-done", "s2", "li", "centre", "done", T0, T0,
                                      proposal=Proposal((item,)).data("s2")))  # fmt: skip
    desk = DiscoveryDesk(store)  # a daemon just restarted
    cut = await desk.recall("s1")
    assert cut is not None and (cut.state, cut.items) == ("cancelled", None)
    assert store.discovery.get("r-cut") == DiscoveryRun("r-cut", "s1", "li", "centre",
                                                        "running", T0)  # shown, not written  # fmt: skip
    done = await desk.recall("s2")
    assert done is not None and (done.id, done.state, done.items) == ("r-done", "done", (item,))
    later = DiscoveryRun("r-cli", "s2", "ops", "centre", "done", T0 + dt.timedelta(minutes=5),
                         T0 + dt.timedelta(minutes=6), proposal=Proposal(()).data("s2"))  # fmt: skip
    store.discovery.save(later)  # `monitord discover` ran since
    newer = await desk.recall("s2")
    assert newer is not None and (newer.id, newer.by, newer.items) == ("r-cli", "ops", ())
    assert await desk.recall("s3") is None
