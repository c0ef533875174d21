"""Thirty people comment on one ticket at the same instant, half through the API and half
as the CLI does (its own connection): none is refused, none is lost, and a conflict that
cannot be retried away is 409, not 503 (issue 13, item 13)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from monitord.store import Store
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from tests.support.apilab import Api

EACH = 15


async def test_thirty_simultaneous_comments_all_land(api: Api, database_url: str) -> None:
    ticket = await api.down("nvr")
    start = threading.Barrier(2 * EACH)
    # Every waiter on the barrier needs its own thread (the default pool has a few).
    pool = ThreadPoolExecutor(2 * EACH)
    loop = asyncio.get_running_loop()

    def as_the_cli(n: int) -> None:
        store = Store.open(database_url)  # a CLI process has its own connection
        try:
            start.wait(10)
            tickets.append(store, ticket, EventKind.COMMENT, f"cli-{n}", api.clock.now(), "x")
        finally:
            store.close()

    async def via_the_api(n: int) -> int:
        await loop.run_in_executor(pool, start.wait, 10)
        body = {"kind": "comment", "by": f"api-{n}", "text": "y"}
        response = await api.call("POST", f"/api/v1/tickets/{ticket}/events", "eng", json=body)
        return response.status_code

    results = await asyncio.gather(
        *(loop.run_in_executor(pool, as_the_cli, n) for n in range(EACH)),
        *(via_the_api(n) for n in range(EACH)),
        return_exceptions=True,
    )
    pool.shutdown()
    assert results[EACH:] == [201] * EACH, results
    assert results[:EACH] == [None] * EACH, results
    events = api.store.tickets.events(ticket)
    assert sorted(e.by for e in events if e.kind == "comment") == sorted(
        [f"cli-{n}" for n in range(EACH)] + [f"api-{n}" for n in range(EACH)]
    )
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_a_conflict_that_never_clears_is_409(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = await api.down("nvr")
    monkeypatch.setattr(tickets, "ATTEMPTS", 2)
    real = api.store.tickets.append_event

    def behind_someone(ticket_id: int, version: int, *args: Any, **kwargs: Any) -> Any:
        # Another writer's event (the same one, really written) lands between every read
        # and write of ours, so ours always finds the ticket one version further on.
        real(ticket_id, version, *args, **kwargs)
        return real(ticket_id, version, *args, **kwargs)

    monkeypatch.setattr(api.store.tickets, "append_event", behind_someone)
    refused = await api.act(ticket, "comment")
    assert refused.status_code == 409 and "keeps changing" in refused.json()["detail"]
    monkeypatch.undo()
    assert (await api.call("GET", "/healthz", None)).status_code == 200
