"""The HTTP API on a real store (SQLite and PostgreSQL) through the real ASGI app."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import socket
import time
from pathlib import Path
from typing import Any, get_args

import httpx
import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from monitord.api import ApiServer
from monitord.api.auth import ALL_ACTIONS
from monitord.api.schemas import Action
from monitord.app import Daemon
from monitord.config.models import ApiSettings
from monitord.present.actions import ACTIONS
from monitord.store import Store
from tests.support.apilab import CLIENTS, Api, api_config
from tests.support.ticketlab import T0

H = dt.timedelta(hours=1)


def field_of(response: httpx.Response) -> list[Any]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


async def test_health_needs_no_token_and_everything_else_does(api: Api) -> None:
    assert (await api.call("GET", "/healthz", None)).json() == {"status": "ok"}
    for path in ["/api/v1/tickets", "/api/v1/tickets/1", "/api/v1/devices", "/api/v1/faults"]:
        missing = await api.call("GET", path, None)
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        for header in [f"Bearer {api.tokens['eng']}x", f"Basic {api.tokens['eng']}", "Bearer "]:
            wrong = await api.client.get(path, headers={"Authorization": header})
            assert wrong.status_code == 401, header
    posted = await api.client.post("/api/v1/tickets", json={"site": "s1", "by": "x", "text": "y"})
    assert posted.status_code == 401


async def test_a_customer_sees_only_its_own_contract(api: Api) -> None:
    ours, theirs = await api.down("nvr"), await api.down("cam-x")
    listed = await api.call("GET", "/api/v1/tickets", "cust")
    assert [t["id"] for t in listed.json()] == [ours]
    assert [t["id"] for t in (await api.call("GET", "/api/v1/tickets", "other-cust")).json()] == [
        theirs
    ]
    assert {t["id"] for t in (await api.call("GET", "/api/v1/tickets", "mgr")).json()} == {
        ours,
        theirs,
    }
    assert (await api.call("GET", f"/api/v1/tickets/{theirs}", "cust")).status_code == 404
    assert (await api.call("GET", f"/api/v1/tickets/{ours}", "cust")).json()["id"] == ours
    forbidden = await api.call("GET", "/api/v1/tickets?contract=seed-004", "cust")
    assert forbidden.status_code == 403
    assert (await api.act(theirs, "comment", "cust")).status_code == 404
    assert [f["id"] for f in (await api.call("GET", "/api/v1/faults", "cust")).json()] == [ours]
    devices = (await api.call("GET", "/api/v1/devices", "other-cust")).json()
    assert [d["id"] for d in devices] == ["cam-x"]


async def test_a_customer_may_only_verify_and_comment(api: Api) -> None:
    ticket = await api.down("nvr")
    for kind in sorted(ALL_ACTIONS - {"verify", "comment"}):
        refused = await api.act(ticket, kind, "cust")
        assert refused.status_code == 403, kind
    assert (await api.act(ticket, "comment", "cust")).status_code == 201
    early = await api.act(ticket, "verify", "cust")  # allowed to the role, not yet possible
    assert early.status_code == 409
    hotline = {"site": "s1", "by": "wang", "text": "camera 3 is dark"}
    assert (await api.call("POST", "/api/v1/tickets", "cust", json=hotline)).status_code == 403
    events = (await api.call("GET", f"/api/v1/tickets/{ticket}")).json()["events"]
    assert [e["kind"] for e in events] == ["opened", "comment"]


async def test_a_bad_body_is_422_naming_the_field(api: Api) -> None:
    ticket = await api.down("nvr")
    path = f"/api/v1/tickets/{ticket}/events"
    assert field_of(await api.act(ticket, "fly")) == [["body", "kind"]]
    assert field_of(await api.call("POST", path, json={"kind": "ack"})) == [["body", "by"]]
    extra = await api.call("POST", path, json={"kind": "ack", "by": "li", "txt": "typo"})
    assert field_of(extra) == [["body", "txt"]]
    assert field_of(await api.call("POST", path, content=b"not json")) == [["body"]]
    hotline = {"site": "s1", "by": "li", "text": "call"}
    assert field_of(
        await api.call("POST", "/api/v1/tickets", json={**hotline, "site": "nowhere"})
    ) == [["body", "site"]]
    assert field_of(
        await api.call("POST", "/api/v1/tickets", json={**hotline, "device": "cam-x"})
    ) == [["body", "device"]]  # a device of another site
    assert field_of(await api.call("POST", "/api/v1/tickets", json={**hotline, "class": "Z"})) == [
        ["body", "class"]
    ]
    assert field_of(await api.call("GET", "/api/v1/tickets?status=nope")) == [
        ["query", "status", 0]
    ]
    assert (await api.call("GET", "/api/v1/tickets/999")).status_code == 404
    assert len(api.store.tickets.events(ticket)) == 1  # nothing was written


async def test_an_invalid_transition_is_409_with_the_message(api: Api) -> None:
    ticket = await api.down("nvr")
    refused = await api.act(ticket, "close")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "'closed' is not possible when the ticket is open (possible when verified)"
    )
    assert (await api.act(ticket, "resume")).json()["detail"] == "the ticket is not paused"


@pytest.mark.parametrize(
    ("zone", "on_site_within", "late"), [("city", 2 * H, True), ("county", 24 * H, False)]
)
async def test_an_engineer_drives_a_ticket_from_opened_to_closed(
    store: Store, monkeypatch: pytest.MonkeyPatch, zone: str, on_site_within: dt.timedelta,
    late: bool,
) -> None:  # fmt: skip
    api = Api(store, monkeypatch, zone)
    ticket = await api.down("nvr")  # seed 000: NVR down is class A
    api.clock.set_wall(T0 + 0.5 * H)
    shown = (await api.call("GET", f"/api/v1/tickets/{ticket}")).json()
    assert (shown["class"], shown["rule"], shown["status"]) == ("A", "nvr-down", "open")
    assert (shown["zone"], shown["timezone"]) == (zone, "Asia/Shanghai")
    assert shown["url"] == f"https://noc.example/api/v1/tickets/{ticket}"
    deadlines = {d["milestone"]: d for d in shown["deadlines"]}
    assert set(deadlines) == {"on_site", "plan"}
    on_site, plan = deadlines["on_site"], deadlines["plan"]
    assert on_site["due"] == (T0 + on_site_within).isoformat()
    assert on_site["due_local"] == (T0 + on_site_within).astimezone(dt.timezone(8 * H)).isoformat()
    assert on_site["remaining_seconds"] == (on_site_within - 0.5 * H).total_seconds()
    assert (on_site["met_at"], on_site["breached"]) == (None, False)
    assert plan["due"] == (T0 + 48 * H).isoformat() and plan["remaining_seconds"] == 47.5 * 3600

    steps = [("ack", "eng", 1), ("onsite", "eng", 3), ("diagnose", "eng", 4), ("plan", "eng", 5),
             ("stage", "eng", 6), ("resolve", "eng", 7), ("verify", "cust", 8),
             ("close", "eng", 9)]  # fmt: skip
    statuses = []
    for kind, who, hours in steps:
        api.clock.set_wall(T0 + hours * H)
        done = await api.act(ticket, kind, who)
        assert done.status_code == 201, done.text
        statuses.append(done.json()["status"])
    assert statuses == ["acknowledged", "on_site", "diagnosed", "planned", "in_progress",
                        "resolved", "verified", "closed"]  # fmt: skip

    api.clock.set_wall(T0 + 100 * H)
    final = (await api.call("GET", f"/api/v1/tickets/{ticket}")).json()
    deadlines = {d["milestone"]: d for d in final["deadlines"]}
    assert deadlines["on_site"]["met_at"] == (T0 + 3 * H).isoformat()
    assert deadlines["on_site"]["breached"] is late  # 3 h: late in the city, fine in a county
    assert deadlines["plan"]["met_at"] == (T0 + 5 * H).isoformat()
    assert deadlines["plan"]["breached"] is False
    assert all(d["remaining_seconds"] is None for d in final["deadlines"])
    events = final["events"]
    assert [e["kind"] for e in events][1:] == [
        "acknowledged", "on_site", "diagnosis", "plan", "stage", "resolved", "verified", "closed"
    ]  # fmt: skip
    assert events[7]["by"] == "cust-person" and events[7]["data"]["api_client"] == "cust"
    assert events[2]["at_local"] == "2026-06-01T13:00:00+08:00"
    closed = (await api.call("GET", "/api/v1/tickets?status=closed&class=A")).json()
    assert [t["id"] for t in closed] == [ticket] and "events" not in closed[0]
    assert (await api.call("GET", "/api/v1/tickets?class=B")).json() == []
    assert (await api.call("GET", "/api/v1/faults")).json() == []  # closed: no longer a fault
    await api.client.aclose()


async def test_a_hotline_ticket_is_due_a_first_reply_in_30_minutes(api: Api) -> None:
    body = {
        "site": "s1",
        "by": "li",
        "text": "Camera 3 shows black\nsince noon",
        "device": "cam-03",
    }
    opened = await api.call("POST", "/api/v1/tickets", "eng", json=body)
    assert opened.status_code == 201, opened.text
    data = opened.json()
    assert opened.headers["location"] == f"/api/v1/tickets/{data['id']}"
    assert (data["fault"], data["class"], data["title"]) == (
        "hotline",
        None,
        "Camera 3 shows black",
    )
    assert data["impacted_devices"] == ["cam-03"] and data["events"][0]["by"] == "li"
    due = {d["milestone"]: d["due"] for d in data["deadlines"]}
    assert due == {
        "first_reply": (T0 + dt.timedelta(minutes=30)).isoformat(),
        "closed": (T0 + dt.timedelta(days=7)).isoformat(),
    }
    api.clock.set_wall(T0 + dt.timedelta(minutes=20))
    acked = await api.act(data["id"], "ack", "mgr")
    [first_reply] = [d for d in acked.json()["deadlines"] if d["milestone"] == "first_reply"]
    assert first_reply["met_at"] == (T0 + dt.timedelta(minutes=20)).isoformat()
    assert first_reply["breached"] is False
    assert (await api.call("GET", "/api/v1/faults")).json() == []  # a call is not a fault


async def test_devices_show_their_state_and_since(api: Api) -> None:
    from monitord.store.records import OperationEvent, SavedState

    since = T0 - 2 * H
    api.store.states.record_change(
        OperationEvent("nvr", since, "state", "up", "down", "no reply"),
        SavedState("nvr", "down", since, since, "no reply"),
    )
    devices = {d["id"]: d for d in (await api.call("GET", "/api/v1/devices?site=s1")).json()}
    assert "cam-x" not in devices and len(devices) == 14
    nvr = devices["nvr"]
    assert (nvr["state"], nvr["since"]) == ("down", since.isoformat())
    assert nvr["since_local"] == "2026-06-01T08:00:00+08:00"
    assert devices["cam-01"]["state"] == "pending"


async def test_faults_are_the_active_fault_tickets_with_their_root_state(api: Api) -> None:
    ticket = await api.down("sw")
    [fault] = (await api.call("GET", "/api/v1/faults")).json()
    assert (fault["id"], fault["root_device"], fault["status"]) == (ticket, "sw", "open")
    assert fault["impacted_devices"][0] == "sw" and "deadlines" in fault


async def test_the_openapi_document_lists_the_endpoints(api: Api) -> None:
    doc = (await api.call("GET", "/api/v1/openapi.json", None)).json()
    assert set(doc["paths"]) == {
        "/healthz",
        "/api/v1/tickets",
        "/api/v1/tickets/{ticket_id}",
        "/api/v1/tickets/{ticket_id}/events",
        "/api/v1/devices",
        "/api/v1/faults",
        "/api/v1/inspections",
        "/api/v1/inspections/{task_id}",
        "/api/v1/inspections/{task_id}/results",
        "/api/v1/followups",
        "/api/v1/warranty",
        "/api/v1/maintenance",
        "/api/v1/maintenance/{window_id}/end",
        "/api/v1/reports/monthly",
        "/api/v1/reports/monthly/devices",
        "/api/v1/reports/tickets/{ticket_id}",
        "/api/v1/reports/log",
    }
    assert set(doc["paths"]["/api/v1/tickets"]) == {"get", "post"}
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    kinds = doc["components"]["schemas"]["EventIn"]["properties"]["kind"]["enum"]
    assert set(kinds) == set(ACTIONS)


def test_the_api_actions_are_the_cli_actions() -> None:
    assert set(get_args(Action)) == set(ACTIONS) == ALL_ACTIONS


async def test_a_token_never_appears_in_logs_or_responses(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    with capture_logs() as logs:
        ticket = await api.down("nvr")
        for who in CLIENTS:
            await api.call("GET", "/api/v1/tickets", who)
            await api.act(ticket, "close", who)  # 409 or 403
            await api.act(ticket, "comment", who, text=None)  # 422
        await api.act(ticket, "ack")
        await api.client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {'x' * 20}"})
        # A reload with a token whose secret cannot be read: logged by its name only.
        monkeypatch.delenv("MONITORD_TEST_TOKEN_1")
        api.config = api.config.model_copy()
        assert (await api.call("GET", "/api/v1/tickets", "mgr")).status_code == 401
        assert (await api.call("GET", "/api/v1/tickets", "eng")).status_code == 200
    assert any(e["event"] == "ticket event via api" for e in logs)
    assert any(e.get("client") == "mgr" and "unavailable" in e["event"] for e in logs)
    seen = repr(logs) + "".join(
        r.text + repr(r.headers) + repr(r.request.url) for r in api.responses
    )
    assert api.tokens and api.responses
    for value in api.tokens.values():
        assert value not in seen


async def test_the_server_runs_in_the_loop_and_stops_quickly(api: Api) -> None:
    server = ApiServer(api.store, lambda: api.config, api.clock)
    await server.start()
    try:
        url = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/healthz")).status_code == 200
            auth = {"Authorization": f"Bearer {api.tokens['eng']}"}
            assert (await client.get("/api/v1/tickets", headers=auth)).json() == []
            # A client that stays connected must not hold the daemon's shutdown up.
            busy = await asyncio.open_connection("127.0.0.1", server.port)
            started = time.monotonic()
    finally:
        await server.stop()
    assert time.monotonic() - started < 2.5
    busy[1].close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = api.config.api.model_copy(update={"port": port})
        clash = ApiServer(api.store, lambda: api.config.model_copy(update={"api": settings}),
                          api.clock)  # fmt: skip
        with pytest.raises(OSError):
            await clash.start()


async def test_the_daemon_serves_the_api_and_stops_within_5_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = secrets.token_urlsafe(32)
    monkeypatch.setenv("MONITORD_TEST_TOKEN_0", token)
    database = f"sqlite:///{tmp_path / 'monitord.db'}"
    config = api_config(database, "city", devices=[], state_dir=tmp_path, metrics={"port": 0})
    daemon = Daemon(tmp_path / "monitord.yaml", config)
    ready = asyncio.Event()
    running = asyncio.create_task(daemon.run(ready.set))
    await asyncio.wait_for(ready.wait(), 20)
    assert daemon.api_port
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{daemon.api_port}") as client:
        auth = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/v1/devices", headers=auth)).json() == []
    started = time.monotonic()
    daemon.stop()
    await asyncio.wait_for(running, 5)
    assert time.monotonic() - started < 5


def test_api_settings() -> None:
    assert (ApiSettings().enabled, ApiSettings().listen, ApiSettings().port) == (
        False,
        "127.0.0.1",
        9109,
    )
    with pytest.raises(ValidationError, match="needs 'contract'"):
        ApiSettings.model_validate(
            {"tokens": [{"name": "c", "role": "customer", "token": {"env": "X"}}]}
        )
    with pytest.raises(ValidationError, match="token"):
        ApiSettings.model_validate({"tokens": [{"name": "c", "role": "engineer", "token": "s3"}]})
