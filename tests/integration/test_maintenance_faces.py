"""Maintenance windows started and ended from the CLI and the API, acted on by the real desk."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from click.testing import CliRunner

from monitord.cli import main
from monitord.clock import FakeClock
from monitord.config import Config, ConfigError
from monitord.config.load import load
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.inventory.archive import device_record, site_records, topology
from monitord.notify.messages import Routing
from monitord.prevention.windows import WindowBook
from monitord.store import Store
from monitord.ticketing.desk import TicketDesk
from tests.support.apilab import Api
from tests.support.ticketlab import config_data


async def down(desk: TicketDesk, tracker: HealthTracker, device: str, at: dt.datetime) -> None:
    health = tracker.devices[device]
    before, health.state = health.state, State.DOWN
    await desk.on_transition(Transition(device, at, before, State.DOWN, "test", {}), tracker)


async def test_cli_start_list_end_and_the_desk_follows(tmp_path: Path, database_url: str) -> None:
    path = tmp_path / "monitord.yaml"
    data = config_data(database_url, "city")
    # The nightly window's hour is half a day from now (site time), so it never covers the
    # switch's failure below: the test runs on the real clock (the CLI's), at any hour.
    hour = (dt.datetime.now(ZoneInfo("Asia/Shanghai")).hour + 12) % 24
    data["maintenance"] = [
        {"id": "sunday", "kind": "nvr", "cron": "0 2 * * 0", "duration": "2h"},
        {"id": "nightly", "site": "s1", "cron": f"0 {hour} * * *", "duration": "1h"},
    ]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    runner = CliRunner()

    def cli(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, ["-c", str(path), *args])
        assert result.exit_code == code, result.output
        return result.output

    started = json.loads(
        cli("maintenance", "start", "sw", "--for", "30m", "--reason", "换交换机", "--by", "li",
            "--json")
    )  # fmt: skip
    assert (
        started["device"] == "sw" and started["active"] and started["timezone"] == "Asia/Shanghai"
    )
    window_id = started["id"]
    assert "维护窗口已开始" in cli("--lang", "zh", "maintenance", "start", "--site", "s1",
                                   "--kind", "camera", "--for", "1h", "--reason", "x")  # fmt: skip
    listed = cli("maintenance", "list")
    assert f"#{window_id}" in listed and "换交换机" in listed and "config:sunday" in listed
    nightly = [
        w for w in json.loads(cli("maintenance", "list", "--json")) if w["id"] == "config:nightly"
    ]
    assert nightly[0]["next_start_local"].endswith(f"T{hour:02d}:00+08:00")
    assert "next: " in listed and "(Asia/Shanghai)" in listed
    assert "unknown device 'nope'" in cli(
        "maintenance", "start", "nope", "--for", "30m", "--reason", "x", code=2
    )
    assert "--for" in cli("maintenance", "start", "sw", "--for", "soon", "--reason", "x", code=2)
    assert "no such maintenance window" in cli("maintenance", "end", "999", code=1)

    # The daemon's desk, on the same database: the switch dies during the window.
    config = Config.model_validate(data)
    store = Store.open(database_url)
    store.devices.sync(site_records(config), [device_record(d) for d in config.devices],
                         dt.datetime.now(dt.UTC))  # fmt: skip
    clock = FakeClock(dt.datetime.now(dt.UTC))
    tracker = HealthTracker({d.id: config.icmp_for(d) for d in config.devices}, topology(config))
    desk = TicketDesk(
        store,
        clock,
        config,
        windows=WindowBook(config, store, clock.monotonic, 0),
        messages=Routing.from_config,
    )
    await down(desk, tracker, "sw", clock.now())
    assert store.tickets.recent() == [] and desk.held == {"sw"}
    assert f"#{window_id}" in cli("maintenance", "end", str(window_id))
    await clock.advance(1)
    await desk.release_held(tracker)
    [ticket] = store.tickets.recent()
    assert ticket.root_device == "sw"
    listed = json.loads(cli("maintenance", "list", "--all", "--json"))
    assert [w["ended_early_at"] is not None for w in listed if w["id"] == window_id] == [True]
    store.close()


@pytest.fixture
async def api(store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    made = Api(store, monkeypatch)
    made.desk = TicketDesk(
        store,
        made.clock,
        made.config,
        windows=WindowBook(made.config, store, made.clock.monotonic, 0),
        messages=Routing.from_config,
    )
    for health in made.tracker.devices.values():
        health.state = State.UP
    yield made
    await made.client.aclose()


async def test_api_start_and_end_a_window(api: Api) -> None:
    body = {"device": "sw", "for": "30m", "reason": "replacing the switch", "by": "li"}
    assert (await api.call("POST", "/api/v1/maintenance", "cust", json=body)).status_code == 403
    bad = await api.call("POST", "/api/v1/maintenance", json={**body, "device": "nope"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "device"]
    created = await api.call("POST", "/api/v1/maintenance", json=body)
    assert created.status_code == 201, created.text
    window = created.json()
    assert (
        window["active"]
        and window["ends_at"] == (api.clock.now() + dt.timedelta(minutes=30)).isoformat()
    )
    assert [w["id"] for w in (await api.call("GET", "/api/v1/maintenance", "cust")).json()] == [
        window["id"]
    ]
    assert (await api.call("GET", "/api/v1/maintenance", "other-cust")).json() == []

    await down(api.desk, api.tracker, "sw", api.clock.now())
    assert api.store.tickets.recent() == []
    await api.clock.advance(600)
    ended = await api.call("POST", f"/api/v1/maintenance/{window['id']}/end", "mgr")
    assert ended.status_code == 200 and ended.json()["ended_early_at"] is not None
    assert (await api.call("POST", "/api/v1/maintenance/999/end")).status_code == 404
    await api.desk.release_held(api.tracker)
    [ticket] = api.store.tickets.recent()
    assert ticket.root_device == "sw" and ticket.opened_at == api.clock.now()


def test_a_window_naming_an_unknown_site_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "monitord.yaml"
    data = config_data("sqlite://", "city")
    data["maintenance"] = [{"id": "w", "site": "atlantis", "cron": "0 2 * * *", "duration": "1h"}]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"monitord.yaml:\d+: maintenance\[0\].site: unknown site"
    ):
        load(path)
