"""The read-only commands' reader (store/peek.py) answers what the store's repositories
answer, on the same SQLite database, and steps aside where it cannot."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import JSON, Date

from monitord.cli import main
from monitord.cli.context import Context
from monitord.config import Config
from monitord.inventory.archive import device_record, site_records
from monitord.store import Store
from monitord.store import peek as peek_module
from monitord.store.peek import DATES, INSTANTS, JSONS, Peek, StoreReader, open_sqlite
from monitord.store.records import OperationEvent, SavedState
from monitord.store.schema import Base, UTCDateTime
from tests.support.db import sqlite_only
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0, draft, event, opened
from tests.support.ticketlab import config_data

database_url = sqlite_only  # peek reads SQLite only; PostgreSQL is the Store's (below)

TABLES = ("devices", "device_state", "sites", "tickets", "ticket_events")


def test_the_value_conversions_are_the_schemas_column_types() -> None:
    for kind, names in ((UTCDateTime, INSTANTS), (Date, DATES), (JSON, JSONS)):
        typed = {
            c.name
            for t in TABLES
            for c in Base.metadata.tables[t].columns
            if isinstance(c.type, kind)
        }
        assert typed == names, (kind, typed ^ names)


@pytest.fixture
def seeded(store: Store) -> Store:
    built = dataclasses.replace(CAM, install_date=dt.date(2024, 5, 6), vendor="Hik")
    store.devices.sync(SITES, [SW, built, NVR], T0)
    later = T0 + dt.timedelta(minutes=5)
    store.states.record_change(
        OperationEvent("sw1", later, "state", "UP", "DOWN", "no echo", {"lost": 3}),
        SavedState("sw1", "DOWN", later, later, "no echo"),
    )
    store.states.record_change(
        OperationEvent("cam1", T0, "state", None, "UP", "echo"),
        SavedState("cam1", "UP", T0, None, "echo"),
    )
    first, _ = store.tickets.open(draft(), opened(T0, rule="switch-down"))
    store.tickets.append_event(first.id, first.version, event("ack", later, "看到了"), {})
    second, _ = store.tickets.open(
        draft("C-2/nvr1/down", later, contract="C-2", site_id="s2", root_device="nvr1"),
        opened(later),
    )
    store.tickets.append_event(
        second.id, second.version, event("closed", later), {"status": "closed"}
    )
    return store


def test_every_read_is_the_repositorys(seeded: Store, database_url: str) -> None:
    peek = open_sqlite(database_url)
    assert isinstance(peek, Peek)
    through = StoreReader(seeded)
    try:
        assert peek.devices() == through.devices() and len(peek.devices()) == 3
        assert peek.states() == through.states() and peek.states()["sw1"].state == "DOWN"
        assert peek.sites() == through.sites()
        for statuses, contract in ((None, None), (["open", "acked"], None), (None, "C-2")):
            assert peek.recent(statuses, contract) == through.recent(statuses, contract)
        assert len(peek.recent(None, None)) == 2
        for ticket_id in (1, 2, 99):
            assert peek.ticket(ticket_id) == through.ticket(ticket_id)
            assert peek.events(ticket_id) == through.events(ticket_id)
        found = peek.ticket(1)
        assert found is not None and found[1][1].text == "看到了"
        assert found[0].opened_at.tzinfo is dt.UTC
    finally:
        peek.close()


def test_it_steps_aside_for_what_it_does_not_read(seeded: Store, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state' / 'monitord.db'}"
    assert open_sqlite(url) is not None
    for other in (
        "postgresql://monitord@localhost/monitord",
        "sqlite://",
        "sqlite:///:memory:",
        f"sqlite:///{tmp_path / 'missing.db'}",
        f"{url}?mode=ro",
    ):
        assert open_sqlite(other) is None, other
    with sqlite3.connect(tmp_path / "state" / "monitord.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0001'")
    assert open_sqlite(url) is None  # an older schema: the Store upgrades it first


def test_the_commands_print_the_same_through_either_reader(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(Context, "now", lambda self: T0 + dt.timedelta(hours=3))
    config = tmp_path / "monitord.yaml"
    data = config_data(database_url, zone="county")
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    fleet = Config.model_validate(data)
    store = Store.open(database_url)
    store.upgrade()
    store.devices.sync(site_records(fleet), [device_record(d) for d in fleet.devices], T0)
    ticket = draft("seed-000/nvr/down", contract="seed-000", root_device="nvr", impacted=("nvr",))
    first, _ = store.tickets.open(ticket, opened(T0))
    store.tickets.append_event(first.id, first.version, event("acknowledged", T0), {})
    store.close()
    commands = [
        ["devices", "--json"],
        ["devices"],
        ["tickets"],
        ["tickets", "--json"],
        ["ticket", "show", str(first.id)],
        ["ticket", "show", str(first.id), "--json"],
    ]
    runner = CliRunner()

    def outputs() -> list[str]:
        out = []
        for args in commands:
            result = runner.invoke(main, ["-c", str(config), *args], catch_exceptions=False)
            assert result.exit_code == 0, result.output
            out.append(result.output)
        return out

    real = peek_module.open_sqlite
    monkeypatch.setattr(peek_module, "open_sqlite", lambda url: None)
    through_store = outputs()  # the first also writes the snapshot
    opened_peeks: list[Peek | None] = []

    def spy(url: str) -> Peek | None:
        opened_peeks.append(real(url))
        return opened_peeks[-1]

    monkeypatch.setattr(peek_module, "open_sqlite", spy)
    assert outputs() == through_store
    assert len(opened_peeks) == len(commands) and all(opened_peeks)  # peek read them all
    assert '"contract": "seed-000"' in through_store[3] and '"id": "sw"' in through_store[0]
    assert json.loads(through_store[5])["deadlines"]  # the contract's clocks, from the config
