"""Per-poller metrics beyond the heartbeat's (issue 14 item 10): the age of the oldest
journal entry not yet acknowledged, and the commands given to a poller, on a real store."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry, generate_latest

from monitord.sites.commands import DELIVERY
from monitord.sites.metrics import PollerCollector
from monitord.sites.wire import WIRE, Update
from tests.integration.test_pollers_link import Lab, entry, lab

__all__ = ["lab"]


async def test_oldest_unacknowledged_age_and_commands_by_outcome(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    centre = lab.centre
    registry = CollectorRegistry()
    collector = PollerCollector(
        lambda: lab.silence.pollers,
        oldest=lambda: centre.oldest,
        commands=centre.commands,
        now=lab.clock.now,
    )
    registry.register(collector)
    await lab.clock.advance(600)  # the entries below are 10 and 9 minutes old
    headers = {"authorization": f"Bearer {token}", WIRE: "2"}
    body = {"v": 1, "sent_at": lab.clock.now().isoformat(), "version": "t", "backlog": 900,
            "entries": [entry(1, "n-cam", "down", 0), entry(3, "n-cam", "up", 1, "down")]}  # fmt: skip
    r = await lab.http.post("/push", json=body, headers=headers)
    assert r.json()["acked"] == 1  # seq 3 waits for 2: the oldest unacknowledged is it
    await lab.silence.step()
    text = generate_latest(registry).decode()
    assert 'monitord_poller_oldest_unacked_seconds{poller="p-north"} 540.0' in text

    body |= {"backlog": 0, "entries": [entry(2, "n-cam", "down", 1, "up"),
                                       entry(3, "n-cam", "up", 1, "down")]}  # fmt: skip
    assert (await lab.http.post("/push", json=body, headers=headers)).json()["acked"] == 3
    text = generate_latest(registry).decode()
    assert 'monitord_poller_oldest_unacked_seconds{poller="p-north"} 0.0' in text
    assert 'monitord_poller_commands_pending{poller="p-north"} 0.0' in text

    first = await centre.commands.submit("p-north", "probe", {"device": "n-cam"})
    second = await centre.commands.submit("p-north", "probe", {"device": "n-cam"})
    assert 'commands_pending{poller="p-north"} 2.0' in generate_latest(registry).decode()
    centre.commands.take("p-north")
    centre.commands.answer("p-north", first, Update(kind="accepted"))
    centre.commands.answer("p-north", first, Update(kind="failed", data={"error": "x"}))

    async def follow() -> list[object]:
        return [o async for o in centre.commands.follow(second)]

    following = asyncio.create_task(follow())
    for _ in range(10):  # let it reach its wait on the clock
        await asyncio.sleep(0)
    await lab.clock.advance(DELIVERY + 1)  # never accepted
    outcomes = await asyncio.wait_for(following, 10)
    assert outcomes[-1].error == "cmd_not_delivered"  # type: ignore[attr-defined]
    text = generate_latest(registry).decode()
    for outcome, n in (("delivered", 1), ("failed", 1), ("not_delivered", 1), ("timeout", 0)):
        line = f'monitord_poller_commands_total{{outcome="{outcome}",poller="p-north"}} {n}.0'
        assert line in text, text
    assert 'commands_pending{poller="p-north"} 1.0' in text  # the first's follower is gone
