"""The console on the API lab's store: one user per role and tenant, signed in by form."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from monitord.console.accounts import Accounts, Role
from monitord.store import Store
from tests.support.apilab import Api, api_config

PASSWORD = "correct horse battery"
# name -> (role, contract)
USERS = {
    "eng": (Role.ENGINEER, None),
    "disp": (Role.DISPATCHER, None),
    "mgr": (Role.MANAGER, None),
    "cust-a": (Role.CUSTOMER, "seed-000"),
    "cust-b": (Role.CUSTOMER, "seed-004"),
}
CONSOLE = {"enabled": True, "secure_cookies": False}


class ConsoleLab(Api):
    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(store, monkeypatch)
        self.config = api_config("sqlite://", "city", console=CONSOLE)
        accounts = Accounts(store, self.config.console)
        for name, (role, contract) in USERS.items():
            accounts.add(name, role, PASSWORD, self.clock.now(), f"{name} person", contract)

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://console"
        )

    async def sign_in(self, name: str, password: str = PASSWORD) -> httpx.AsyncClient:
        client = self.browser()
        page = await client.get("/console/login")
        csrf = csrf_of(page.text)
        await client.post("/console/login", data={"csrf": csrf, "name": name, "password": password})
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


@pytest.fixture
async def console(store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    made = ConsoleLab(store, monkeypatch)
    yield made
    await made.client.aclose()
