"""The preventive endpoints through the real ASGI app, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from monitord.api import create_app
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.prevention import inspections
from monitord.store import Store
from tests.support.prevention import config_data, sync

T0 = dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC)
CLIENTS = {"eng": ("engineer", None), "cust": ("customer", "seed-000"),
           "cust4": ("customer", "seed-004")}  # fmt: skip


class Api:
    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tokens = {name: secrets.token_urlsafe(24) for name in CLIENTS}
        tokens = []
        for i, (name, (role, contract)) in enumerate(CLIENTS.items()):
            monkeypatch.setenv(f"MONITORD_TEST_PV_{i}", self.tokens[name])
            tokens.append({"name": name, "role": role, "token": {"env": f"MONITORD_TEST_PV_{i}"},
                           **({"contract": contract} if contract else {})})  # fmt: skip
        self.config = Config.model_validate(
            config_data(api={"enabled": True, "port": 0, "tokens": tokens})
        )
        self.store, self.clock = store, FakeClock(T0)
        sync(store, self.config, T0)
        inspections.generate(store, self.config, T0)
        app = create_app(store, lambda: self.config, self.clock)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x")

    async def call(self, method: str, path: str, who: str = "eng", **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return await self.client.request(method, path, headers=headers, **kw)


@pytest.fixture
async def api(store: Store, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Api]:
    made = Api(store, monkeypatch)
    yield made
    await made.client.aclose()


async def test_inspections_read_by_role_and_recorded_by_engineers(api: Api) -> None:
    everything = (await api.call("GET", "/api/v1/inspections")).json()
    assert {t["site"] for t in everything} == {"a", "b"}
    mine = (await api.call("GET", "/api/v1/inspections", "cust")).json()
    assert {t["site"] for t in mine} == {"a"}
    task = next(t for t in everything if (t["site"], t["kind"]) == ("b", "nvr"))
    assert (await api.call("GET", f"/api/v1/inspections/{task['id']}", "cust")).status_code == 404
    body = {"item": "disk_health", "result": "fail", "by": "li", "note": "SMART errors",
            "device": "b-nvr", "open_ticket": True, "class": "B"}  # fmt: skip
    path = f"/api/v1/inspections/{task['id']}/results"
    assert (await api.call("POST", path, "cust4", json=body)).status_code == 403
    posted = await api.call("POST", path, json=body)
    assert posted.status_code == 201, posted.text
    assert posted.json()["failed"] == ["disk_health"]
    ticket = (await api.call("GET", f"/api/v1/tickets/{posted.json()['ticket']}")).json()
    assert ticket["class"] == "B" and ticket["root_device"] == "b-nvr"
    # The NVR's manufacturer warranty runs to 30 June: this repair is free.
    assert ticket["repair"]["terms"] == "free" and ticket["repair"]["under_warranty"] is True
    bad = await api.call("POST", path, json={**body, "item": "nope"})
    assert bad.status_code == 422 and "no item 'nope'" in bad.text
    shown = (await api.call("GET", f"/api/v1/inspections/{task['id']}", "cust4")).json()
    assert shown["results"][0]["note"] == "SMART errors"


async def test_followups_posted_and_read_by_the_customer(api: Api) -> None:
    body = {"site": "a", "by": "wang", "contact": "Ms Zhao", "attitude": 5,
            "responsibility": 4, "effect": 4, "score": 88, "problems": "东门画面模糊",
            "open_ticket": True}  # fmt: skip
    assert (await api.call("POST", "/api/v1/followups", "cust", json=body)).status_code == 403
    posted = await api.call("POST", "/api/v1/followups", json=body)
    assert posted.status_code == 201, posted.text
    assert posted.json()["ticket"] is not None and posted.json()["quality_problem"] is True
    seen = (await api.call("GET", "/api/v1/followups", "cust")).json()
    assert [s["site"] for s in seen] == ["a"]
    assert seen[0]["current"]["state"] == "done" and seen[0]["visits"][0]["score"] == 88
    assert seen[0]["visits"][0]["ticket_status"] == "open"  # the handling result, so far
    assert (await api.call("GET", "/api/v1/followups", "cust4")).json() == []
    wrong = await api.call("POST", "/api/v1/followups", json={**body, "score": 101})
    assert wrong.status_code == 422 and "score" in wrong.text


async def test_warranty_list_per_horizon_and_customer(api: Api) -> None:
    soon = (await api.call("GET", "/api/v1/warranty")).json()
    assert [c["device"] for c in soon] == ["b-nvr"]
    assert (await api.call("GET", "/api/v1/warranty", "cust")).json() == []
    later = (await api.call("GET", "/api/v1/warranty?within_days=400", "cust")).json()
    assert {c["device"] for c in later} == {"a-sw", "a-door", "a-cam1", "a-cam2", "a-cam4"}
    assert all(c["source"] == "project" for c in later)
