"""The HTTP API on a real store, called in-process with one token per role."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import yaml

from monitord.api import create_app
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.store import Store
from tests.support.contracts import CONTRACTS
from tests.support.ticketlab import Lab, config_data

# name -> (role, contract)
CLIENTS = {
    "eng": ("engineer", None),
    "mgr": ("manager", None),
    "cust": ("customer", "seed-000"),
    "other-cust": ("customer", "seed-004"),
}


def api_config(database: str, zone: str, **overrides: Any) -> Config:
    data = config_data(database, zone)
    contracts = yaml.safe_load((CONTRACTS / "seed-004.yaml").read_text(encoding="utf-8"))
    data["contracts"] = [*data["contracts"], *contracts["contracts"]]  # type: ignore[misc]
    data["sites"] = [
        *data["sites"],  # type: ignore[misc]
        {"id": "s2", "name": "Estate", "contract": "seed-004", "timezone": "Asia/Shanghai"},
    ]
    data["devices"] = [
        *data["devices"],  # type: ignore[misc]
        {"id": "cam-x", "name": "Estate cam", "kind": "camera", "address": "10.9.0.1",
         "site": "s2"},
    ]  # fmt: skip
    data["api"] = {
        "enabled": True,
        "port": 0,
        "base_url": "https://noc.example/",
        "tokens": [
            {"name": name, "role": role, **({"contract": c} if c else {}),
             "token": {"env": f"MONITORD_TEST_TOKEN_{i}"}}
            for i, (name, (role, c)) in enumerate(CLIENTS.items())
        ],
    }  # fmt: skip
    return Config.model_validate({**data, **overrides})


class Api(Lab):
    """The tickets lab with the API app in front of it."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch, zone: str = "city"):
        self.tokens = {name: secrets.token_urlsafe(32) for name in CLIENTS}
        for i, name in enumerate(CLIENTS):
            monkeypatch.setenv(f"MONITORD_TEST_TOKEN_{i}", self.tokens[name])
        super().__init__(store, config=api_config("sqlite://", zone))
        self.app = create_app(store, lambda: self.config, self.clock)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://api"
        )
        self.responses: list[httpx.Response] = []

    async def down(self, device: str) -> int:
        """The device goes DOWN now; returns its ticket's id."""
        health = self.tracker.devices[device]
        before, health.state = health.state, State.DOWN
        await self.desk.on_transition(
            Transition(device, self.clock.now(), before, State.DOWN, "test", {}), self.tracker
        )
        [ticket] = [t for t in self.store.tickets.recent() if t.root_device == device]
        return ticket.id

    async def call(
        self, method: str, path: str, who: str | None = "eng", **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        response = await self.client.request(method, path, headers=headers, **kwargs)
        self.responses.append(response)
        return response

    async def act(self, ticket: int, kind: str, who: str = "eng", **body: Any) -> httpx.Response:
        payload = {"kind": kind, "by": f"{who}-person", "text": f"{kind} notes", **body}
        return await self.call("POST", f"/api/v1/tickets/{ticket}/events", who, json=payload)


@pytest.fixture
async def api(store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    made = Api(store, monkeypatch)
    yield made
    await made.client.aclose()
