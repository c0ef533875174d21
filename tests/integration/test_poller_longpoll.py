"""A configuration change at the centre reaches a long-polling poller at once (wire 1.1):
`GET /config?wait=REVISION` is held until the revision changes, or answered 304 after
LONG_POLL seconds, on the centre's injected clock."""

from __future__ import annotations

import asyncio

import httpx

from monitord.sites.wire import LONG_POLL, WIRE
from tests.integration.test_pollers_link import Lab, lab

__all__ = ["lab"]


async def held(lab: Lab, task: asyncio.Task[httpx.Response]) -> None:
    """Until the centre holds the request (its credential is looked up in a thread first)."""
    for _ in range(200):
        if lab.centre.waiting:
            return
        assert not task.done(), task.result()
        await asyncio.sleep(0.01)
    raise AssertionError("the long poll was never held")


def _headers(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", WIRE: "1"}


async def test_a_change_answers_a_waiting_poller_at_once(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    first = await lab.http.get("/config", headers=_headers(token))
    assert first.status_code == 200 and first.headers[WIRE] == "1"
    known = first.json()["revision"]
    waiting = asyncio.create_task(
        lab.http.get("/config", params={"wait": known}, headers=_headers(token))
    )
    await held(lab, waiting)
    await lab.clock.advance(LONG_POLL - 1)
    assert not waiting.done()  # nothing changed: still held
    renamed = lab.config.devices[0].model_copy(update={"name": "N cam, renamed"})
    lab.config = lab.config.model_copy(update={"devices": (renamed, *lab.config.devices[1:])})
    lab.centre.config_changed()  # what the daemon's reload does
    answer = await asyncio.wait_for(waiting, 5)  # no clock advance needed
    assert answer.status_code == 200
    body = answer.json()
    assert body["revision"] != known
    assert any(d["name"] == "N cam, renamed" for d in body["config"]["devices"])


async def test_nothing_changed_is_a_304_after_the_long_poll(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    known = (await lab.http.get("/config", headers=_headers(token))).json()["revision"]
    waiting = asyncio.create_task(
        lab.http.get("/config", params={"wait": known}, headers=_headers(token))
    )
    await held(lab, waiting)
    for _ in range(int(LONG_POLL) - 1):
        await lab.clock.advance(1)
    assert not waiting.done()
    await lab.clock.advance(2)
    answer = await asyncio.wait_for(waiting, 5)
    assert answer.status_code == 304 and answer.content == b""
    # A stale revision is answered at once, and an old poller's plain GET is not held.
    stale = await lab.http.get("/config", params={"wait": "0" * 16}, headers=_headers(token))
    assert stale.status_code == 200 and stale.json()["revision"] == known
    plain = await lab.http.get("/config", headers={"authorization": f"Bearer {token}"})
    assert plain.status_code == 200 and WIRE not in plain.json()


async def test_a_long_poll_needs_a_credential(lab: Lab) -> None:
    r = await lab.http.get("/config", params={"wait": "x"}, headers={"authorization": "Bearer no"})
    assert r.status_code == 401
    assert isinstance(r, httpx.Response)


async def test_one_held_request_per_poller_and_none_counts_against_the_api(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    known = (await lab.http.get("/config", headers=_headers(token))).json()["revision"]
    # A budget of one request at a time: a held long poll must not take it.
    api = lab.config.api.model_copy(update={"max_concurrent_requests": 1})
    lab.config = lab.config.model_copy(update={"api": api})
    first = asyncio.create_task(
        lab.http.get("/config", params={"wait": known}, headers=_headers(token))
    )
    await held(lab, first)
    assert (await lab.push(token)).status_code == 200  # a heartbeat still gets through
    second = asyncio.create_task(
        lab.http.get("/config", params={"wait": known}, headers=_headers(token))
    )
    answered = await asyncio.wait_for(first, 5)  # the new one supersedes it, at once
    assert answered.status_code == 304
    await held(lab, second)
    assert lab.centre.waiting == 1
    for _ in range(int(LONG_POLL) + 1):
        await lab.clock.advance(1)
    assert (await asyncio.wait_for(second, 5)).status_code == 304
