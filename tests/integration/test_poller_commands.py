"""Commands from the centre to a site poller over the poller's own HTTPS link (wire 1.2):
the console's "probe now" of a poller site's device runs at that poller, a discover command
streams progress and returns the change set, and a poller that cannot take the order (silent,
revoked, too old) is refused at once. The centre is the real API server on 127.0.0.1, the
poller the real daemon loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitord.api import ApiServer
from monitord.checks.once import ProbeReport
from monitord.clock import SystemClock
from monitord.config import Config
from monitord.config.models import Device
from monitord.console.accounts import Accounts, Role
from monitord.console.probing import ProbeDesk
from monitord.sites.commands import Outcome, Progress
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.identity import enrol
from monitord.sites.poller import PollerDaemon
from monitord.sites.routes import poller_router
from monitord.sites.wire import PREFIX, WIRE
from monitord.store import Store
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_docs import DeviceInfo
from tests.peers.wsd import WsdResponder
from tests.support.consolelab import csrf_of
from tests.support.db import sqlite_only
from tests.support.pollercentre import bare_centre
from tests.support.tlscert import self_signed

database_url = sqlite_only  # the channel is under test here, not the store
PASSWORD = "correct horse battery"
DISC_PASSWORD = "pw-1"
NET = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"  # the discovery lab's /29


def centre_config(cert: Path, key: Path, onvif_port: int, wsd_port: int) -> Config:
    return Config.model_validate(
        {
            "api": {"enabled": True, "port": 0, "tls_cert": str(cert), "tls_key": str(key)},
            "console": {"enabled": True, "secure_cookies": False},
            "poller_silence": 60,
            "sites": [
                {"id": "north", "name": "North", "poller": "p-north",
                 "discovery": {"ranges": [f"{NET}.0/29"], "rate": 2000, "listen": 0.5,
                               "wsd_port": wsd_port, "sweep_ports": [onvif_port],
                               "onvif": [{"username": "admin",
                                          "password": {"env": "T_DISC_PW"}}]}},
                {"id": "south", "name": "South", "poller": "p-south"},
            ],
            "devices": [
                {"id": "n-cam", "name": "N cam", "kind": "camera", "address": "127.0.0.1",
                 "site": "north"},
                {"id": "s-cam", "name": "S cam", "kind": "camera", "address": "127.0.0.1",
                 "site": "south"},
            ],
        }
    )  # fmt: skip


class Centre:
    def __init__(self, store: Store, tmp: Path, onvif_port: int, wsd_port: int) -> None:
        self.cert, key = self_signed(tmp, "127.0.0.1")
        self.config = centre_config(self.cert, key, onvif_port, wsd_port)
        self.store, self.clock = store, SystemClock()
        self.centre = bare_centre(store, self.clock, lambda: self.config)
        self.commands = self.centre.commands
        self.server = ApiServer(store, lambda: self.config, self.clock,
                                [poller_router(store, self.clock, self.centre)])  # fmt: skip
        self.probed_here: list[str] = []  # the centre's own probes: must stay empty

        async def never(config: Config, device: Device) -> ProbeReport:
            self.probed_here.append(device.id)
            raise AssertionError("the centre probed a poller site's device itself")

        self.server.app.state.console_probes = ProbeDesk(prober=never)
        Accounts(store, self.config.console).add("eng", Role.ENGINEER, PASSWORD,
                                                 self.clock.now(), "Engineer")  # fmt: skip

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def code(self, poller: str, site: str) -> str:
        code = new_code()
        self.store.pollers.add_code(poller, [site], code, self.clock.now(), CODE_VALID)
        return code

    async def poller(self, tmp: Path, name: str, site: str, speaks: int = 2) -> PollerDaemon:
        state = tmp / name
        await asyncio.to_thread(enrol, [self.url], self.code(name, site), state, None)
        return PollerDaemon(state, heartbeat=0.3, speaks=speaks)


@pytest.fixture
async def centre(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Centre]:
    monkeypatch.setenv("T_DISC_PW", DISC_PASSWORD)
    info = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0001", "1", "3c:ef:8c:00:00:01")
    wsd_port = random.randint(20000, 40000)
    with OnvifPeer(host=f"{NET}.2", info=info, password=DISC_PASSWORD) as cam:
        xaddr = f"http://{NET}.2:{cam.port}/onvif/device_service"
        with WsdResponder(f"{NET}.2", wsd_port, xaddr=xaddr):
            made = Centre(store, tmp_path, cam.port, wsd_port)
            await made.server.start()
            try:
                yield made
            finally:
                await made.server.stop()


async def until(what: Callable[[], bool], task: asyncio.Task[None], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):  # bounded
        if what():
            return
        assert not task.done(), task
        await asyncio.sleep(0.05)
    raise AssertionError("not within the bound")


async def running(centre: Centre, poller: PollerDaemon, name: str) -> asyncio.Task[None]:
    """The poller's loop, once it has pushed and holds its long poll."""
    task = asyncio.create_task(poller.run())

    def linked() -> bool:
        record = centre.store.pollers.get(name)
        return record is not None and record.last_seen is not None and bool(centre.centre.waiting)

    await until(linked, task)
    return task


async def stopped(poller: PollerDaemon, task: asyncio.Task[None]) -> None:
    poller.stop()
    await asyncio.wait_for(task, 10)


async def browser(centre: Centre) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=str(centre.cert)), base_url=centre.url
    )
    page = await client.get("/console/login")
    await client.post("/console/login",
                      data={"csrf": csrf_of(page.text), "name": "eng", "password": PASSWORD})  # fmt: skip
    return client


async def test_probe_now_of_a_poller_sites_device_runs_at_its_poller(
    centre: Centre, tmp_path: Path
) -> None:
    poller = await centre.poller(tmp_path, "p-north", "north")
    task = await running(centre, poller, "p-north")
    client = await browser(centre)
    try:
        page = await client.get("/console/devices/north/n-cam")
        assert 'id="probe-where"' in page.text and "p-north" in page.text
        done = await client.post("/console/devices/north/n-cam/probe",
                                 data={"csrf": csrf_of(page.text)})  # fmt: skip
        assert done.status_code == 303 and "done=probed" in done.headers["location"]
        shown = (await client.get(done.headers["location"])).text
        assert 'id="probe-result"' in shown and "ICMP: up" in shown, shown[-3000:]
        assert "Probed by the site poller: p-north" in shown
        assert poller.orders is not None and poller.orders.ran["probe"] == 1
        assert centre.probed_here == []  # ran at the poller, not here
        # The figure: from the order queued to the poller accepting it, over HTTPS.
        delays = []
        for _ in range(5):
            outcome = await centre.commands.result("p-north", "probe", {"device": "n-cam"})
            assert outcome.error is None and outcome.where == "p-north", outcome
            assert centre.commands.last_delivery is not None
            delays.append(centre.commands.last_delivery)
        assert max(delays) <= 2.0, delays
    finally:
        await client.aclose()
        await stopped(poller, task)


async def test_a_silent_revoked_or_old_poller_is_refused_at_once(
    centre: Centre, tmp_path: Path
) -> None:
    # Never heard of: refused before anything waits.
    started = time.monotonic()
    outcome = await centre.commands.result("p-none", "probe", {"device": "n-cam"})
    assert outcome.error == "cmd_unknown_poller"
    # A poller speaking wire 1.1 works as before but takes no commands.
    old = await centre.poller(tmp_path, "p-north", "north", speaks=1)
    task = await running(centre, old, "p-north")
    try:
        outcome = await centre.commands.result("p-north", "probe", {"device": "n-cam"})
        assert outcome.error == "cmd_too_old", outcome
    finally:
        await stopped(old, task)
    # Silent: its last heartbeat older than poller_silence (the silence watch has fired).
    record = centre.store.pollers.get("p-north")
    assert record is not None and record.last_seen is not None
    centre.store.pollers.seen("p-north", record.last_seen - dt.timedelta(minutes=5), "t", 0.0,
                              None)  # fmt: skip
    outcome = await centre.commands.result("p-north", "probe", {"device": "n-cam"})
    assert outcome.error == "cmd_silent", outcome
    assert centre.store.pollers.revoke("p-north", centre.clock.now())
    outcome = await centre.commands.result("p-north", "probe", {"device": "n-cam"})
    assert outcome.error == "cmd_revoked", outcome
    assert time.monotonic() - started < 15  # of which the poller's start is nearly all
    # The console says so on the page (the reason, in the reader's language).
    client = await browser(centre)
    try:
        page = await client.get("/console/devices/north/n-cam")
        done = await client.post("/console/devices/north/n-cam/probe",
                                 data={"csrf": csrf_of(page.text)})  # fmt: skip
        shown = (await client.get(done.headers["location"])).text
        assert "revoked" in shown and centre.probed_here == []
    finally:
        await client.aclose()


async def test_a_poller_that_went_away_is_reported_undelivered_quickly(
    centre: Centre, tmp_path: Path
) -> None:
    poller = await centre.poller(tmp_path, "p-north", "north")
    task = await running(centre, poller, "p-north")
    await stopped(poller, task)  # killed a moment ago: not yet silent
    centre.commands.delivery = 1.0  # DELIVERY is 5 s; a short test, the same path
    started = time.monotonic()
    outcome = await centre.commands.result("p-north", "probe", {"device": "n-cam"})
    assert outcome.error == "cmd_not_delivered", outcome
    assert time.monotonic() - started < 3  # the delivery bound, not the probe's 30 s


async def test_discover_at_the_poller_streams_progress_and_returns_the_change_set(
    centre: Centre, tmp_path: Path
) -> None:
    poller = await centre.poller(tmp_path, "p-north", "north")
    task = await running(centre, poller, "p-north")
    try:
        steps: list[Progress | Outcome] = []
        async with asyncio.timeout(20):
            async for step in centre.commands.run_discover("north"):
                steps.append(step)
        *progress, last = steps
        assert isinstance(last, Outcome) and last.error is None, last
        assert last.where == "p-north"
        assert progress and all(isinstance(p, Progress) for p in progress)
        stages = [p.data["stage"] for p in progress if isinstance(p, Progress)]
        assert "done" in stages or "topology" in stages or len(set(stages)) > 1, stages
        changes = last.data["changes"]
        assert [(c["change"], c["address"]) for c in changes] == [("new", f"{NET}.2")]
        assert changes[0]["record"]["mac"] == "3c:ef:8c:00:00:01"
        assert poller.orders is not None and poller.orders.ran["discover"] == 1
        # Outside the site's ranges: refused at the poller, as the CLI refuses it.
        steps = [s async for s in centre.commands.run_discover("north", ["10.0.0.0/24"])]
        assert isinstance(steps[-1], Outcome) and steps[-1].error == "outside_ranges"
        # A caller that leaves stops the run at the site: slower listening (a change that
        # reaches the poller first), one progress step, then away.
        before = json.loads((poller.state_dir / "config.json").read_text())["revision"]
        site = centre.config.sites[0]
        assert site.discovery is not None
        slow = site.discovery.model_copy(update={"listen": 8.0})
        sites = (site.model_copy(update={"discovery": slow}), *centre.config.sites[1:])
        centre.config = centre.config.model_copy(update={"sites": sites})
        centre.centre.config_changed()

        def adopted() -> bool:
            known = json.loads((poller.state_dir / "config.json").read_text())["revision"]
            return bool(known != before)

        await until(adopted, task)
        async with aclosing(centre.commands.run_discover("north")) as run:
            first = await anext(run)
            assert isinstance(first, Progress), first
            await until(lambda: poller.orders is not None and poller.orders.running == 1, task)
        await until(lambda: poller.orders is not None and poller.orders.running == 0, task, 4)
        assert poller.orders.ran["discover"] == 3
    finally:
        await stopped(poller, task)


async def test_a_poller_cannot_take_or_answer_another_pollers_commands(
    centre: Centre, tmp_path: Path
) -> None:
    token_of: dict[str, str] = {}
    async with httpx.AsyncClient(
        verify=ssl.create_default_context(cafile=str(centre.cert)), base_url=centre.url + PREFIX
    ) as http:
        for name, site in (("p-north", "north"), ("p-south", "south")):
            r = await http.post("/enrol", json={"v": 1, "code": centre.code(name, site)})
            token_of[name] = r.json()["token"]

        def as_(name: str) -> dict[str, str]:
            return {"authorization": f"Bearer {token_of[name]}", WIRE: "2"}

        async def held(name: str) -> Awaitable[httpx.Response]:
            known = (await http.get("/config", headers=as_(name))).json()["revision"]
            beat = {"v": 1, "sent_at": dt.datetime.now(dt.UTC).isoformat(), "version": "t"}
            assert (await http.post("/push", json=beat, headers=as_(name))).status_code == 200
            return asyncio.ensure_future(
                http.get("/config", params={"wait": known}, headers=as_(name), timeout=40)
            )

        south = await held("p-south")
        north = await held("p-north")
        command = await centre.commands.submit("p-north", "probe", {"device": "n-cam"})
        got = (await asyncio.wait_for(north, 5)).json()
        assert [c["id"] for c in got["commands"]] == [command] and "config" not in got
        assert not south.done()  # p-south's held poll is not woken by p-north's order
        update = {"v": 1, "kind": "accepted"}
        stolen = await http.post(f"/commands/{command}", json=update, headers=as_("p-south"))
        assert stolen.status_code == 404
        unknown = await http.post("/commands/nosuchcommand", json=update,
                                  headers=as_("p-north"))  # fmt: skip
        assert unknown.status_code == 404
        no_token = await http.post(f"/commands/{command}", json=update)
        assert no_token.status_code == 401
        old = await http.post(f"/commands/{command}", json=update,
                              headers={"authorization": f"Bearer {token_of['p-north']}"})  # fmt: skip
        assert old.status_code == 404  # a 1.0 exchange knows no commands
        mine = await http.post(f"/commands/{command}", json=update, headers=as_("p-north"))
        assert mine.status_code == 200 and mine.json() == {"v": 1, "cancelled": False}
        result: dict[str, Any] = {"v": 1, "kind": "failed", "data": {"error": "cmd_failed"}}
        assert (await http.post(f"/commands/{command}", json=result,
                                headers=as_("p-north"))).status_code == 200  # fmt: skip
        south.cancel()
