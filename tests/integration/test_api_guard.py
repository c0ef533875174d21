"""The API's guard against a real uvicorn on loopback: refusals come on the headers alone,
before the body is read, and the daemon keeps answering (issue 13, item 3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import HTTPException

from monitord.api import ApiServer
from monitord.api.auth import TokenBook
from monitord.api.guard import is_counted
from tests.support.apilab import Api

HUGE = 200 * 1024 * 1024


@pytest.fixture
async def served(api: Api) -> AsyncIterator[tuple[Api, int]]:
    server = ApiServer(api.store, lambda: api.config, api.clock)
    await server.start()
    assert server.port
    try:
        yield api, server.port
    finally:
        await server.stop()


async def raw(port: int, head: str, body: bytes = b"") -> tuple[int, asyncio.StreamWriter]:
    """Send a request's head (and maybe part of its body); the status of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    line = await asyncio.wait_for(reader.readline(), 5)  # no body sent: it must not wait
    return int(line.split()[1]), writer


def head(path: str, length: int | None, token: str | None = None, extra: str = "") -> str:
    lines = [f"POST {path} HTTP/1.1", "Host: api", "Content-Type: application/json"]
    lines += [f"Content-Length: {length}"] if length is not None else []
    lines += [f"Authorization: Bearer {token}"] if token else []
    lines += [extra] if extra else []
    return "\r\n".join(lines) + "\r\n"


async def test_no_token_is_401_before_a_200_mb_body_is_sent(served: tuple[Api, int]) -> None:
    api, port = served
    ticket = await api.down("nvr")
    code, writer = await raw(port, head(f"/api/v1/tickets/{ticket}/events", HUGE))
    writer.close()
    assert code == 401
    wrong, writer = await raw(port, head("/api/v1/tickets", HUGE, api.tokens["eng"] + "x"))
    writer.close()
    assert wrong == 401
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/healthz")).status_code == 200
    assert len(api.store.tickets.events(ticket)) == 1


async def test_a_declared_body_over_the_cap_is_413_unread(served: tuple[Api, int]) -> None:
    api, port = served
    ticket = await api.down("nvr")
    path = f"/api/v1/tickets/{ticket}/events"
    code, writer = await raw(port, head(path, api.config.api.max_body_bytes + 1, api.tokens["eng"]))
    writer.close()
    assert code == 413
    garbled, writer = await raw(port, head(path, None, api.tokens["eng"], "Content-Length: -5"))
    writer.close()
    assert garbled in (400, 413)  # uvicorn's parser or the guard: never read
    assert len(api.store.tickets.events(ticket)) == 1


async def test_console_posts_need_no_token_but_keep_the_cap(served: tuple[Api, int]) -> None:
    api, port = served
    over, writer = await raw(port, head("/console/login", api.config.api.max_body_bytes + 1))
    writer.close()
    assert over == 413  # the console's own sessions replace the token, not the cap
    lookalike, writer = await raw(port, head("/consoles", 10))
    writer.close()
    assert lookalike == 401


async def test_a_streamed_body_is_cut_off_at_the_cap(served: tuple[Api, int]) -> None:
    api, port = served
    ticket = await api.down("nvr")
    cap = api.config.api.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"kind": "comment", "by": "li", "text": "'
        for _ in range(cap // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    auth = {"Authorization": f"Bearer {api.tokens['eng']}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        refused = await client.post(
            f"/api/v1/tickets/{ticket}/events", content=chunks(), headers=auth
        )
        assert refused.status_code == 413, refused.text
        assert "larger than" in refused.json()["detail"]
        ok = await client.post(
            f"/api/v1/tickets/{ticket}/events",
            json={"kind": "comment", "by": "li", "text": "small"},
            headers=auth,
        )
        assert ok.status_code == 201
    assert [e.kind for e in api.store.tickets.events(ticket)] == ["opened", "comment"]


async def test_requests_beyond_the_limit_are_503_and_healthz_still_answers(
    served: tuple[Api, int],
) -> None:
    api, port = served
    api.config = api.config.model_copy(
        update={"api": api.config.api.model_copy(update={"max_concurrent_requests": 2})}
    )
    ticket = await api.down("nvr")
    path = f"/api/v1/tickets/{ticket}/events"
    # Two requests whose bodies never come hold both places.
    held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(2)]
    for _, writer in held:
        writer.write((head(path, 100, api.tokens["eng"]) + "\r\n").encode())
        await writer.drain()
    await asyncio.sleep(0.2)  # let uvicorn hand both to the app (a bounded wait, no result)
    auth = {"Authorization": f"Bearer {api.tokens['eng']}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        busy = await client.get("/api/v1/tickets", headers=auth)
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert (await client.get("/healthz")).status_code == 200
        for _, writer in held:
            writer.close()
        for _ in range(50):  # the places come back once the held requests are gone
            if (await client.get("/api/v1/tickets", headers=auth)).status_code == 200:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the held places never came back")


def test_live_feeds_take_no_place_of_the_request_limit() -> None:
    # 50 open wallboards held all 32 places: every further page was a 503 (bench/console.py).
    assert not is_counted("/console/wallboard/stream", b"")
    assert not is_counted("/console/discovery/s1/stream", b"")
    assert not is_counted("/api/poller/v1/config", b"wait=3")
    assert not is_counted("/healthz", b"")
    assert not is_counted("/api/poller/v1/push", b"")  # it queues for its own places
    for path in ("/console/wallboard", "/console/tickets", "/console/discovery/s1",
                 "/console/wallboard/stream/x", "/api/poller/v1/config"):  # fmt: skip
        assert is_counted(path, b""), path


def test_refusing_a_token_does_not_grow_a_shared_traceback() -> None:
    # A shared exception instance raised again and again keeps every raise's frames: the
    # 36 KB per refused request that bench/api_flood.py first showed.
    book = TokenBook()
    depths = []
    for _ in range(3):
        with pytest.raises(HTTPException) as caught:
            book.authenticate("wrong")
        tb, depth = caught.value.__traceback__, 0
        while tb is not None:
            tb, depth = tb.tb_next, depth + 1
        depths.append(depth)
    assert depths[0] == depths[1] == depths[2]


def test_the_unit_caps_memory_and_tasks() -> None:
    unit = (Path(__file__).parents[2] / "systemd" / "monitord.service").read_text()
    assert "\nMemoryMax=" in unit and "\nTasksMax=" in unit
