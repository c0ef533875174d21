"""A push that finds no place at the centre (sites/centre.py PUSH_SLOTS): its entries are
answered as a heartbeat and sent again, its rollups are applied all the same (the site
marks them shipped once answered), and a heartbeat never waits for a place."""

from __future__ import annotations

from contextlib import AsyncExitStack

from monitord.sites.centre import PUSH_SLOTS
from monitord.sites.wire import WIRE
from tests.integration.test_pollers_link import Lab, entry, lab

__all__ = ["lab"]


async def test_entries_held_back_rollups_not_heartbeats_free(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    headers = {"authorization": f"Bearer {token}", WIRE: "3"}
    lab.centre.slot_wait = 0.01
    pad = "x" * 5000  # over HEARTBEAT_BYTES: such a push needs a place
    big = {"v": 1, "sent_at": lab.clock.now().isoformat(), "version": "t", "backlog": 1,
           "entries": [{**entry(1, "n-cam", "down", 0), "observation": {"pad": pad}}]}  # fmt: skip
    first = int(lab.clock.now().timestamp()) // 3600 - 80
    hours = [
        {
            "device": "n-cam",
            "metric": "icmp_rtt_ms",
            "hour": first + i,
            "n": 2,
            "total": 3.0,
            "low": 1.0,
            "high": 2.0,
        }
        for i in range(60)
    ]  # over 4 KiB
    rollups = {"v": 1, "sent_at": lab.clock.now().isoformat(), "version": "t", "backlog": 0,
               "rollups": hours}  # fmt: skip
    async with AsyncExitStack() as held:
        for _ in range(PUSH_SLOTS):  # every place taken
            assert await held.enter_async_context(lab.centre.place())
        before = lab.store.pollers.get("p-north")
        r = await lab.http.post("/push", json=big, headers=headers)
        assert r.status_code == 200 and r.json()["acked"] == 0  # held back: send it again
        seen = lab.store.pollers.get("p-north")
        assert seen is not None and before is not None and seen.last_seen is not None
        assert lab.store.states.load() == {}  # nothing applied
        heartbeat = {"v": 1, "sent_at": lab.clock.now().isoformat(), "version": "t"}
        r = await lab.http.post("/push", json=heartbeat, headers=headers)
        assert r.status_code == 200  # no place needed
        r = await lab.http.post("/push", json=rollups, headers=headers)
        assert r.status_code == 200, r.text
        got = lab.store.metric_history.hours("n-cam", "icmp_rtt_ms", 0)
        assert len(got) == 60  # applied without a place: the site marks them shipped
    r = await lab.http.post("/push", json=big, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["acked"] == 1  # a place again: applied
    assert lab.store.states.load()["n-cam"].state == "down"
