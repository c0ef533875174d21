"""A poller site's discovery from the console: the run goes down the command channel and
probes at the site's poller (the real poller loop, over the centre's real HTTPS link), its
progress reaches the page live, its change set is reviewed and applied at the centre
(devices.d/<site>.yaml written there, the configuration reloaded) and the poller gets the
new device with its next configuration. A silent poller is named on the page at once."""

from __future__ import annotations

import asyncio
import json
import random
import re
import ssl
import time
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from monitord.api import ApiServer
from monitord.clock import SystemClock
from monitord.config import Config
from monitord.config.load import load
from monitord.console.accounts import Accounts, Role
from monitord.console.host import Host
from monitord.discovery import runner
from monitord.discovery.plan import Plan
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.identity import enrol
from monitord.sites.poller import PollerDaemon
from monitord.sites.routes import poller_router
from monitord.store import Store
from tests.integration.test_console_discovery import events, picks
from tests.integration.test_poller_commands import running, stopped, until
from tests.peers.onvif import OnvifPeer
from tests.peers.onvif_docs import DeviceInfo
from tests.peers.wsd import WsdResponder
from tests.support.consolelab import csrf_of
from tests.support.db import sqlite_only
from tests.support.pollercentre import bare_centre
from tests.support.tlscert import self_signed

database_url = sqlite_only  # the channel and the page are under test here, not the store
PASSWORD = "correct horse battery"
NET = f"127.{random.randint(100, 250)}.{random.randint(1, 250)}"  # the site's /29
CAMERA = DeviceInfo("Dahua", "IPC-HFW2431", "V2.8", "DH-0001", "1", "3c:ef:8c:00:00:01")


class Centre:
    """The centre as the daemon serves it: the configuration file on disk (devices.d/
    included), the API with the poller link and the console, and a host whose reload loads
    the file again and tells the long-polling pollers (app.py's reload path)."""

    def __init__(self, store: Store, tmp: Path, onvif_port: int, wsd_port: int) -> None:
        cert, key = self_signed(tmp, "127.0.0.1")
        self.cert, self.path = cert, tmp / "monitord.yaml"
        self.site_file = tmp / "devices.d" / "north.yaml"
        self.site_file.parent.mkdir()
        disc = {"ranges": [f"{NET}.0/29"], "rate": 2000, "listen": 0.4, "wsd_port": wsd_port,
                "sweep_ports": [onvif_port],
                "onvif": [{"username": "admin", "password": {"env": "T_DISC_PW"}}]}  # fmt: skip
        doc = {
            "state_dir": str(tmp / "state"), "poller_silence": 60,
            "api": {"enabled": True, "port": 0, "tls_cert": str(cert), "tls_key": str(key)},
            "console": {"enabled": True, "secure_cookies": False},
            "include": ["devices.d/*.yaml"],
            "sites": [{"id": "north", "name": "North", "poller": "p-north", "discovery": disc}],
        }  # fmt: skip
        self.path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        typed = {"id": "n-gw", "name": "N gateway", "kind": "camera", "address": "127.0.0.1",
                 "site": "north"}  # fmt: skip
        self.site_file.write_text(yaml.safe_dump({"devices": [typed]}), encoding="utf-8")
        self.config: Config = load(self.path)
        self.store, self.clock = store, SystemClock()
        self.centre = bare_centre(store, self.clock, lambda: self.config)
        self.tasks: set[asyncio.Task[None]] = set()
        host = Host(self.path, self._spawn, self._reload)
        self.server = ApiServer(store, lambda: self.config, self.clock,
                                [poller_router(store, self.clock, self.centre)], host=host)  # fmt: skip
        Accounts(store, self.config.console).add("mgr", Role.MANAGER, PASSWORD,
                                                 self.clock.now(), "Manager")  # fmt: skip

    def _spawn(self, name: str, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(job, name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _reload(self) -> bool:
        self.config = await asyncio.to_thread(load, self.path)
        self.centre.config_changed()
        return True

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    async def poller(self, tmp: Path) -> PollerDaemon:
        code = new_code()
        self.store.pollers.add_code("p-north", ["north"], code, self.clock.now(), CODE_VALID)
        await asyncio.to_thread(enrol, [self.url], code, tmp / "p-north", None)
        return PollerDaemon(tmp / "p-north", heartbeat=0.3)

    async def browser(self, lang: str = "en") -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            verify=ssl.create_default_context(cafile=str(self.cert)), base_url=self.url,
            timeout=20, cookies={"monitord_lang": lang},
        )  # fmt: skip
        page = await client.get("/console/login")
        await client.post("/console/login", data={"csrf": csrf_of(page.text), "name": "mgr",
                                                  "password": PASSWORD})  # fmt: skip
        return client


@pytest.fixture
async def centre(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Centre]:
    monkeypatch.setenv("T_DISC_PW", "pw-1")
    wsd_port = random.randint(20000, 40000)
    with OnvifPeer(host=f"{NET}.2", info=CAMERA, password="pw-1") as cam:
        xaddr = f"http://{NET}.2:{cam.port}/onvif/device_service"
        with WsdResponder(f"{NET}.2", wsd_port, xaddr=xaddr):
            made = Centre(store, tmp_path, cam.port, wsd_port)
            await made.server.start()
            try:
                yield made
            finally:
                for task in list(made.tasks):
                    task.cancel()
                await made.server.stop()


def poller_knows(poller: PollerDaemon, device: str) -> bool:
    given = json.loads((poller.state_dir / "config.json").read_text())
    return any(d.get("id") == device for d in given["config"].get("devices", []))


async def test_a_poller_sites_discovery_runs_there_and_is_applied_here(
    centre: Centre, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    poller = await centre.poller(tmp_path)
    task = await running(centre, poller, "p-north")  # type: ignore[arg-type]
    mgr = await centre.browser()
    try:
        await until(lambda: poller_knows(poller, "n-gw"), task)
        # The centre's own probing (the local runner's) fails the test if it is called: the
        # poller runs in this process too, but its order goes through discovery/plan.py's
        # run_as_data, never through the runner's binding.
        here: list[str] = []

        async def never(p: Plan, *_: object) -> None:
            here.append(p.site.id)
            raise AssertionError("the centre probed a poller site itself")

        monkeypatch.setattr(runner, "probe", never)
        page = await mgr.get("/console/discovery/north")
        assert 'id="where"' in page.text and "p-north" in page.text, page.text[-2000:]
        assert 'id="start"' in page.text and 'id="reason"' not in page.text
        assert "not available" not in page.text
        started = await mgr.post("/console/discovery/north/start",
                                 data={"csrf": csrf_of(page.text)})  # fmt: skip
        assert started.headers["location"].endswith("done=started")
        feed = await events(mgr, "north")
        frames = [data for name, data in feed if name == "grid"]
        assert frames and feed[-1][0] == "done", feed
        assert any(f"{NET}.0/29" in f and 'class="addresses">6<' in f for f in frames), frames
        counts = [int(m) for f in frames for m in re.findall(r'class="probed">(\d+)<', f)]
        assert counts == sorted(counts) and counts[-1] > 0, counts  # the poller's, live
        assert poller.orders is not None and poller.orders.ran["discover"] == 1
        shown = (await mgr.get("/console/discovery/north")).text
        changes = re.findall(r'class="change ch-(\w+)">.*?<b>[^<]+</b> ([\w-]+)', shown,
                             re.DOTALL)  # fmt: skip
        assert changes == [("new", "cam-000001")], shown[-3000:]
        assert "Dahua IPC-HFW2431 DH-0001" in shown  # identified: logged in at the site
        assert here == []
        run = re.search(r'name="run" value="(\w+)"', shown)
        assert run is not None
        done = await mgr.post("/console/discovery/north/apply",
                              data={**picks(shown), "csrf": csrf_of(shown),
                                    "run": run.group(1)})  # fmt: skip
        assert done.status_code == 303
        [_, written] = yaml.safe_load(centre.site_file.read_text())["devices"]
        assert (written["id"], written["address"], written["mac"]) == (
            "cam-000001", f"{NET}.2", "3c:ef:8c:00:00:01",
        )  # fmt: skip
        assert any(d.id == "cam-000001" for d in centre.config.devices)  # reloaded here
        assert 'id="applied"' in (await mgr.get("/console/discovery/north")).text
        await until(lambda: poller_knows(poller, "cam-000001"), task)  # and at the site
    finally:
        await mgr.aclose()
        await stopped(poller, task)


async def test_a_poller_gone_or_silent_is_named_on_the_page(centre: Centre, tmp_path: Path) -> None:
    poller = await centre.poller(tmp_path)
    task = await running(centre, poller, "p-north")  # type: ignore[arg-type]
    await stopped(poller, task)
    # Gone a moment ago, not yet silent: the run is sent and ends, undelivered, with why.
    centre.centre.commands.delivery = 1.0  # DELIVERY is 5 s; a short test, the same path
    mgr = await centre.browser()
    try:
        page = await mgr.get("/console/discovery/north")
        started = await mgr.post("/console/discovery/north/start",
                                 data={"csrf": csrf_of(page.text)})  # fmt: skip
        assert started.headers["location"].endswith("done=started")
        assert (await events(mgr, "north"))[-1][0] == "done"
        ended = (await mgr.get("/console/discovery/north")).text
        assert 'id="ended"' in ended and "did not take the command in time" in ended
    finally:
        await mgr.aclose()
    record = centre.store.pollers.get("p-north")
    assert record is not None and record.last_seen is not None
    centre.store.pollers.seen("p-north", record.last_seen.replace(year=2020), "t", 0.0, None)
    for lang, said in (("en", "is silent"), ("zh", "失联")):
        client = await centre.browser(lang)
        try:
            started = time.monotonic()
            page = await client.get("/console/discovery/north")
            assert 'id="reason"' in page.text and said in page.text and "p-north" in page.text
            assert 'id="start"' not in page.text
            refused = await client.post("/console/discovery/north/start",
                                        data={"csrf": csrf_of(page.text)})  # fmt: skip
            assert refused.headers["location"].endswith("done=unavailable")
            assert time.monotonic() - started < 2  # said, not waited for
        finally:
            await client.aclose()
    assert poller.orders is not None and poller.orders.ran["discover"] == 0
