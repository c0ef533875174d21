"""Discovery from the console against a real daemon (`monitord run`) and ONVIF peers on
loopback: start -> live progress -> proposal -> apply -> the site file written, `monitord
check` passing, the daemon running on it; a second run proposes nothing. Who may, CSRF,
one run per site, a poller site refused."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.peers.onvif_docs import DeviceInfo
from tests.support.disc_console import KNOWN, NEW, PASSWORD, TYPED, DiscLab, csrf_of


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DiscLab]:
    # One daemon for the module (its start is most of the time); each test leaves no run.
    # listen 2 s: the run outlasts several progress frames (0.5 s apart) even when the test's
    # own requests before it opens the feed are slow (at 0.4 s a loaded machine saw one).
    with DiscLab(tmp_path_factory.mktemp("disc"), listen=2.0) as made:
        yield made


async def signed_in(lab: DiscLab, name: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=lab.url, timeout=20)
    page = await client.get("/console/login")
    done = await client.post("/console/login", data={"csrf": csrf_of(page.text), "name": name,
                                                     "password": PASSWORD})  # fmt: skip
    assert done.status_code == 303, done.text
    return client


async def events(client: httpx.AsyncClient, site: str) -> list[tuple[str, str]]:
    """The run's feed until it says `done` (bounded)."""
    out: list[tuple[str, str]] = []
    name, data = "", []
    async with asyncio.timeout(30):
        async with client.stream("GET", f"/console/discovery/{site}/stream") as feed:
            assert feed.headers["content-type"].startswith("text/event-stream")
            async for line in feed.aiter_lines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif not line and name:
                    out.append((name, "\n".join(data)))
                    if name == "done":
                        return out
                    name, data = "", []
    return out


async def start(client: httpx.AsyncClient, site: str) -> httpx.Response:
    page = await client.get(f"/console/discovery/{site}")
    return await client.post(f"/console/discovery/{site}/start", data={"csrf": csrf_of(page.text)})


def picks(html: str) -> dict[str, str]:
    return dict.fromkeys(re.findall(r'name="(pick-\d+)"', html), "1")


async def test_start_watch_review_apply_reload_and_a_second_run_is_empty(lab: DiscLab) -> None:
    mgr = await signed_in(lab, "mgr")
    site = await mgr.get("/console/devices/s1")
    assert 'href="/console/discovery/s1"' in site.text
    started = await start(mgr, "s1")
    assert started.status_code == 303 and started.headers["location"].endswith("done=started")
    # A second start (another dispatcher's too) shows the run under way; none starts.
    disp = await signed_in(lab, "disp")
    again = await start(disp, "s1")
    assert again.headers["location"].endswith("done=running")
    running = await disp.get(again.headers["location"])
    assert 'data-stream="/console/discovery/s1/stream"' in running.text
    assert "mgr" in running.text and 'http-equiv="refresh"' in running.text  # no-JS fallback
    feed = await events(mgr, "s1")
    frames = [data for name, data in feed if name == "grid"]
    assert frames and feed[-1][0] == "done"
    assert f"{lab.net}.0/29" in frames[0] and 'class="addresses">6<' in frames[0]  # a /29
    counts = [int(m) for f in frames for m in re.findall(r'class="probed">(\d+)<', f)]
    assert len(counts) >= 2 and counts == sorted(counts) and counts[-1] > 0  # going up, live
    page = await mgr.get("/console/discovery/s1")
    shown = re.findall(r'class="change ch-(\w+)">.*?<b>[^<]+</b> ([\w-]+)', page.text, re.DOTALL)
    assert sorted(shown) == [("address", "gate-1"), ("facts", "gate-1"), ("missing", "lost-1"),
                             ("new", "cam-000002")], shown  # fmt: skip
    assert "was " + f"{lab.net}.6" in page.text  # the evidence of the address change
    chosen = picks(page.text)
    assert len(chosen) == 3  # missing is a finding: no checkbox
    run = re.search(r'name="run" value="(\w+)"', page.text)
    assert run is not None
    form = {"csrf": csrf_of(page.text), "run": run.group(1)}
    refused = await mgr.post("/console/discovery/s1/apply", data={**chosen, "run": form["run"]})
    assert refused.status_code == 403 and "cam-000002" not in lab.devices()
    done = await mgr.post("/console/discovery/s1/apply", data={**chosen, **form})
    assert done.status_code == 303
    devices = lab.devices()
    assert devices["gate-1"]["address"] == f"{lab.net}.2"
    assert (devices["gate-1"]["name"], devices["gate-1"]["location"]) == ("North gate", "pole 3")
    assert devices["gate-1"]["serial"] == "DH-0001" and devices["cam-000002"]["serial"] == "HK-0002"
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "monitord", "-c", str(lab.path), "check",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    said, _ = await asyncio.wait_for(check.communicate(), 60)
    assert check.returncode == 0, said.decode()
    # The daemon reloaded in-process: its archive has the new camera, its console lists it.
    lab.daemon.wait_for(lambda e: e.get("event") == "equipment archive updated"
                        and e.get("added") == ["cam-000002"])  # fmt: skip
    assert "cam-000002" in (await mgr.get("/console/devices/s1")).text
    applied = await mgr.get("/console/discovery/s1")
    assert (
        'id="applied"' in applied.text
        and "devices.d" not in applied.text.split('id="applied"')[0][-200:]
    )
    # Who applied what: the ledger in the state directory and the daemon's journal.
    [line] = (lab.dir / "state" / "discovery-applied.jsonl").read_text().splitlines()
    ledger = json.loads(line)
    assert (ledger["console_user"], ledger["role"], ledger["added"]) == ("mgr", "manager",
                                                                        ["cam-000002"])  # fmt: skip
    assert lab.daemon.wait_for(lambda e: e.get("event") == "discovered changes applied")
    # lost-1 really is gone: the reviewer removes it; then the network matches the file.
    doc = yaml.safe_load(lab.site_file.read_text())
    doc["devices"] = [d for d in doc["devices"] if d["id"] != "lost-1"]
    lab.site_file.write_text(yaml.safe_dump(doc))
    lab.daemon.proc.send_signal(signal.SIGHUP)
    lab.daemon.wait_for(lambda e: e.get("event") == "equipment archive updated"
                        and e.get("removed") == ["lost-1"])  # fmt: skip
    before = lab.site_file.read_bytes()
    assert (await start(mgr, "s1")).headers["location"].endswith("done=started")
    assert (await events(mgr, "s1"))[-1][0] == "done"
    second = await mgr.get("/console/discovery/s1")
    assert 'id="no-changes"' in second.text and "pick-" not in second.text
    assert lab.site_file.read_bytes() == before
    for c in (mgr, disp):
        await c.aclose()


async def test_who_may_csrf_cancel_and_a_poller_site(lab: DiscLab) -> None:
    anonymous = httpx.AsyncClient(base_url=lab.url)
    assert (await anonymous.get("/console/discovery/s1")).headers["location"] == "/console/login"
    for name in ("eng", "cust"):
        other = await signed_in(lab, name)
        token = csrf_of((await other.get("/console/tickets")).text)
        assert (await other.get("/console/discovery/s1")).status_code == 403
        no = await other.post("/console/discovery/s1/start", data={"csrf": token})
        assert no.status_code == 403
        assert "/console/discovery/" not in (await other.get("/console/devices/s1")).text
        await other.aclose()
    mgr = await signed_in(lab, "mgr")
    forged = await mgr.post("/console/discovery/s1/start", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert "data-stream" not in (await mgr.get("/console/discovery/s1")).text  # none started
    # A poller site: discovery runs where its devices are, so not from here (yet).
    far = await mgr.get("/console/discovery/s2")
    assert 'id="reason"' in far.text and "far-1" in far.text and 'id="start"' not in far.text
    refused = await start(mgr, "s2")
    assert refused.headers["location"].endswith("done=unavailable")
    # Cancelled part way: no half proposal, the file untouched.
    before = lab.site_file.read_bytes()
    assert (await start(mgr, "s1")).headers["location"].endswith("done=started")
    page = await mgr.get("/console/discovery/s1")
    gone = await mgr.post("/console/discovery/s1/cancel", data={"csrf": csrf_of(page.text)})
    assert gone.headers["location"].endswith("done=cancelled")
    after = await mgr.get("/console/discovery/s1")
    assert 'id="ended"' in after.text and "pick-" not in after.text and 'id="start"' in after.text
    assert lab.site_file.read_bytes() == before
    await mgr.aclose()
    await anonymous.aclose()


async def test_a_proposal_outlives_a_restart_of_the_daemon_and_applies_after_it(
    lab: DiscLab,
) -> None:
    # Both cameras known with every fact, gate-1 renumbered again since it was typed: one
    # address change to review, whichever of this module's tests ran before.
    def known(info: DeviceInfo, **record: str) -> dict[str, str]:
        return {"kind": "camera", "site": "s1", "vendor": info.manufacturer,
                "model": info.model, "serial": info.serial, "mac": info.mac,
                "firmware": info.firmware, **record}  # fmt: skip

    devices = [known(KNOWN, **{**TYPED, "address": f"{lab.net}.6"}),
               known(NEW, id="cam-000002", name="new one", address=f"{lab.net}.3")]  # fmt: skip
    lab.site_file.write_text(yaml.safe_dump({"devices": devices}))
    lab.restart()
    mgr = await signed_in(lab, "mgr")
    assert (await start(mgr, "s1")).headers["location"].endswith("done=started")
    assert (await events(mgr, "s1"))[-1][0] == "done"
    before = await mgr.get("/console/discovery/s1")
    run = re.search(r'name="run" value="(\w+)"', before.text)
    assert run is not None and picks(before.text) == {"pick-0": "1"}, before.text
    await mgr.aclose()
    lab.restart()  # the proposal is reviewed after the daemon came back
    mgr = await signed_in(lab, "mgr")
    page = await mgr.get("/console/discovery/s1")
    again = re.search(r'name="run" value="(\w+)"', page.text)
    assert again is not None and again.group(1) == run.group(1)
    shown = re.findall(r'class="change ch-(\w+)">.*?<b>[^<]+</b> ([\w-]+)', page.text, re.DOTALL)
    assert shown == [("address", "gate-1")] and "was " + f"{lab.net}.6" in page.text
    form = {"csrf": csrf_of(page.text), "run": run.group(1), **picks(page.text)}
    done = await mgr.post("/console/discovery/s1/apply", data=form)
    assert done.status_code == 303 and lab.devices()["gate-1"]["address"] == f"{lab.net}.2"
    lab.daemon.wait_for(lambda e: e.get("event") == "discovered changes applied")
    # Applied is kept too: the same form again is stale, across another restart as well.
    lab.restart()
    mgr2 = await signed_in(lab, "mgr")
    page = await mgr2.get("/console/discovery/s1")
    stale = await mgr2.post(
        "/console/discovery/s1/apply", data={**form, "csrf": csrf_of(page.text)}
    )
    assert stale.headers["location"].endswith("done=disc_stale")
    for c in (mgr, mgr2):
        await c.aclose()
