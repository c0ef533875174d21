"""The centre's side of the poller link on a real store (SQLite and PostgreSQL), over HTTP
in-process: enrolment codes, credentials, site isolation, dedup by (poller, sequence)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from monitord.api import create_app
from monitord.clock import FakeClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.sites.centre import PollerCentre
from monitord.sites.enrolment import CODE_VALID, new_code
from monitord.sites.routes import poller_router
from monitord.sites.silence import SilenceWatch
from monitord.sites.wire import PREFIX
from monitord.store import Store
from tests.support.contracts import SEED_000

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def make_config() -> Config:
    return Config.model_validate(
        {
            "contracts": [SEED_000.model_dump(mode="json", by_alias=True)],
            "poller_silence": 60,
            "sites": [
                {"id": "north", "name": "North compound", "poller": "p-north",
                 "contract": "seed-000"},
                {"id": "south", "name": "South compound", "poller": "p-south"},
                {"id": "hq", "name": "Head office"},
            ],
            "devices": [
                # The same address at both sites: a device is (site, id), never its address.
                {"id": "n-cam", "name": "N cam", "kind": "camera", "address": "192.168.1.10",
                 "site": "north"},
                {"id": "s-cam", "name": "S cam", "kind": "camera", "address": "192.168.1.10",
                 "site": "south"},
                {"id": "hq-sw", "name": "HQ switch", "kind": "switch", "address": "10.0.0.1",
                 "site": "hq"},
            ],
        }
    )  # fmt: skip


class Desk:
    """What the ticket desk is told, in order (the desk itself is tested elsewhere)."""

    def __init__(self) -> None:
        self.told: list[Transition] = []

    async def on_transition(self, t: Transition, tracker: HealthTracker) -> None:
        self.told.append(t)


class Lab:
    def __init__(self, store: Store) -> None:
        self.store, self.clock, self.config = store, FakeClock(T0), make_config()
        store.devices.sync(
            site_records(self.config), [device_record(d) for d in self.config.devices], T0
        )
        settings = {d.id: self.config.icmp_for(d) for d in self.config.devices}
        self.tracker = HealthTracker(settings, topology(self.config))
        self.desk = Desk()
        self.silence = SilenceWatch(
            store, self.clock, lambda: self.config, self.tracker, lambda: None
        )
        centre = self.centre = PollerCentre(
            store, self.clock, lambda: self.config, self.tracker, self.desk,
            self.silence.heard_again,
        )  # fmt: skip
        app = create_app(
            store, lambda: self.config, self.clock, [poller_router(store, self.clock, centre)]
        )
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://centre.test" + PREFIX
        )

    def code(self, site: str, poller: str) -> str:
        code = new_code()
        self.store.pollers.add_code(poller, [site], code, self.clock.now(), CODE_VALID)
        return code

    async def enrol(self, code: str) -> httpx.Response:
        return await self.http.post("/enrol", json={"v": 1, "code": code})

    async def push(self, token: str, *entries: dict[str, Any]) -> httpx.Response:
        body = {"v": 1, "sent_at": self.clock.now().isoformat(), "version": "t",
                "entries": list(entries)}  # fmt: skip
        return await self.http.post(
            "/push", json=body, headers={"authorization": f"Bearer {token}"}
        )


def entry(seq: int, device: str, to: str, minute: int, frm: str = "up") -> dict[str, Any]:
    at = T0 + dt.timedelta(minutes=minute)
    return {"seq": seq, "device": device, "at": at.isoformat(), "from_state": frm,
            "to_state": to, "reason": f"test {seq}"}  # fmt: skip


@pytest.fixture
async def lab(store: Store) -> AsyncIterator[Lab]:
    made = Lab(store)
    yield made
    await made.http.aclose()


async def test_a_code_enrols_once_and_is_kept_only_as_its_hash(lab: Lab) -> None:
    code = lab.code("north", "p-north")
    first = await lab.enrol(code.lower().replace("-", ""))  # as typed: case, no dashes
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["poller"] == "p-north" and body["sites"] == ["north"]
    assert len(body["token"]) >= 40
    again = await lab.enrol(code)
    assert again.status_code == 403
    with lab.store._engine.connect() as db:
        dumped = repr(db.execute(text("SELECT * FROM poller_codes")).all())
        dumped += repr(db.execute(text("SELECT * FROM pollers")).all())
    assert code not in dumped and body["token"] not in dumped
    assert hashlib.sha256(code.encode()).hexdigest() in dumped


async def test_a_code_expires_after_24_hours(lab: Lab) -> None:
    late, in_time = lab.code("north", "p-north"), lab.code("south", "p-south")
    await lab.clock.advance(CODE_VALID.total_seconds() - 1)
    assert (await lab.enrol(in_time)).status_code == 200
    await lab.clock.advance(1)
    refused = await lab.enrol(late)
    assert refused.status_code == 403
    assert "expired" in refused.json()["detail"]
    assert (await lab.enrol("AAAA-BBBB-CCCC-DDDD")).status_code == 403


async def test_a_batch_applies_once_in_order_with_its_original_times(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    # The entries happened in the last half hour: an entry dated after its arrival would be
    # re-dated (sites/skew.py, tested in test_poller_clock.py).
    await lab.clock.advance(30 * 60)
    one, two = entry(1, "n-cam", "down", 3), entry(2, "n-cam", "up", 9, frm="down")
    r = await lab.push(token, one, two)
    assert r.status_code == 200, r.text
    assert r.json()["acked"] == 2
    # A replay of what was applied, plus one more: only the new one applies.
    three = entry(3, "n-cam", "down", 12)
    r = await lab.push(token, one, two, three)
    assert r.json()["acked"] == 3
    events = lab.store.history.operation_events(["n-cam"], T0, T0 + dt.timedelta(hours=1))
    assert [(e.to_state, e.at) for e in events] == [
        ("down", T0 + dt.timedelta(minutes=3)),
        ("up", T0 + dt.timedelta(minutes=9)),
        ("down", T0 + dt.timedelta(minutes=12)),
    ]
    assert [t.to_state for t in lab.desk.told] == [State.DOWN, State.UP, State.DOWN]
    assert lab.tracker.state("n-cam") == State.DOWN
    assert lab.store.states.load()["n-cam"].since == T0 + dt.timedelta(minutes=12)
    # A gap waits: entry 5 without 4 applies nothing.
    r = await lab.push(token, entry(5, "n-cam", "up", 20, frm="down"))
    assert r.json()["acked"] == 3
    assert len(lab.desk.told) == 3


async def test_a_poller_may_write_only_its_own_sites(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    for device in ("s-cam", "hq-sw"):
        r = await lab.push(token, entry(1, "n-cam", "down", 1), entry(2, device, "down", 1))
        assert r.status_code == 403, device
        assert device in r.json()["detail"]
    assert lab.store.pollers.get("p-north").acked_seq == 0  # type: ignore[union-attr]
    assert lab.desk.told == []


async def test_entries_of_a_device_no_longer_configured_do_not_wedge_the_journal(
    lab: Lab,
) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    r = await lab.push(token, entry(1, "removed-cam", "down", 1), entry(2, "n-cam", "down", 2))
    assert r.status_code == 200 and r.json()["acked"] == 2
    assert [t.device_id for t in lab.desk.told] == ["n-cam"]
    assert "removed-cam" not in lab.store.states.load()


async def test_a_revoked_or_unknown_credential_is_refused_before_the_body(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    assert (await lab.push(token)).status_code == 200  # a heartbeat
    assert lab.store.pollers.get("p-north").last_seen == T0  # type: ignore[union-attr]
    assert lab.store.pollers.revoke("p-north", T0)
    assert (await lab.push(token, entry(1, "n-cam", "down", 1))).status_code == 401
    assert (
        await lab.http.get("/config", headers={"authorization": f"Bearer {token}"})
    ).status_code == 401
    # No credential: 401 even with a body that is not JSON at all.
    r = await lab.http.post("/push", content=b"\xff" * 10_000)
    assert r.status_code == 401
    assert lab.desk.told == []


async def test_the_configuration_holds_only_the_pollers_sites(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("south", "p-south"))).json()["token"]
    r = await lab.http.get("/config", headers={"authorization": f"Bearer {token}"})
    assert r.status_code == 200
    given = r.json()["config"]
    assert [d["id"] for d in given["devices"]] == ["s-cam"]
    assert [s["id"] for s in given["sites"]] == ["south"]
    assert given["sites"][0]["poller"] == "local"  # the poller polls it itself
    assert Config.model_validate(given).devices[0].address == "192.168.1.10"


async def test_a_silent_poller_makes_its_devices_unknown_and_opens_one_ticket(lab: Lab) -> None:
    token = (await lab.enrol(lab.code("north", "p-north"))).json()["token"]
    assert (await lab.push(token, entry(1, "n-cam", "up", 0, frm="pending"))).status_code == 200
    heard = lab.clock.now()
    await lab.clock.advance(59)
    await lab.silence.step()
    assert lab.tracker.state("n-cam") == State.UP  # not yet: within poller_silence
    await lab.clock.advance(2)
    for _ in range(3):  # the timer fires once, however often it looks
        await lab.silence.step()
        await lab.clock.advance(10)
    assert lab.tracker.state("n-cam") == State.UNKNOWN
    assert lab.tracker.state("s-cam") == State.PENDING  # another poller's site is left alone
    assert lab.store.states.load()["n-cam"].state == "up"  # the saved truth is kept
    found = lab.store.tickets.recent(None, None, 100)
    assert [(t.fault_kind, t.root_device, t.site_id) for t in found] == [
        ("site_link_lost", None, "north")
    ]
    assert found[0].opened_at == heard  # the fault began with the last heartbeat
    assert found[0].impacted == ("n-cam",)
    assert lab.desk.told[-1].to_state == State.UP  # no device transition reached the desk
    # The line returns with the replay: states back, then the true history.
    r = await lab.push(token, entry(2, "n-cam", "down", 1))
    assert r.json()["acked"] == 2
    assert lab.tracker.state("n-cam") == State.DOWN
    found = lab.store.tickets.recent(None, None, 100)
    assert len(found) == 1 and found[0].recovered
    until = lab.clock.now() + dt.timedelta(seconds=1)
    events = lab.store.history.operation_events(["n-cam"], T0, until)
    assert [(e.from_state, e.to_state) for e in events] == [
        ("pending", "up"),
        ("up", "down"),
        ("up", "unknown"),
        ("unknown", "up"),
    ]  # ordered by time: the replayed fault at minute 1 comes before the silence
