"""The store's contract, on SQLite and PostgreSQL alike (see tests/support/db.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from monitord.store import InventoryDiff, Store, StoreError
from monitord.store import states as states_module
from monitord.store.migrate import alembic_config, head_revision, newest_file_revision
from monitord.store.records import DeviceRecord, OperationEvent, SavedState, SiteRecord
from monitord.store.schema import Base
from tests.support.archive import CAM, SITES, SW, T0

TABLES = {"alembic_version", "sites", "devices", "device_state", "operation_events"}
NVR = DeviceRecord("nvr1", "s2", "Recorder", "nvr", "10.0.1.5", parents=("sw1",))


def state_event(device_id: str, at: dt.datetime, to: str = "down") -> OperationEvent:
    return OperationEvent(device_id, at, "state", "up", to, "ICMP: no reply", {"loss": 1.0})


def saved(device_id: str, at: dt.datetime, state: str = "down") -> SavedState:
    return SavedState(device_id, state, at, at, "ICMP: no reply")


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    return store


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- schema and migrations ---


def test_fresh_database_is_migrated_to_head_and_upgrade_is_idempotent(database_url: str) -> None:
    store = Store.open(database_url)
    try:
        assert store.current_revision() is None
        store.upgrade()
        assert store.current_revision() == head_revision() == newest_file_revision() == "0020"
        assert tables(database_url) >= TABLES
        store.upgrade()
        assert store.current_revision() == head_revision()
    finally:
        store.close()


def test_migrations_match_the_models(store: Store, database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_back(store: Store, database_url: str) -> None:
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert tables(database_url) <= {"alembic_version"}
    finally:
        engine.dispose()
    store.upgrade()
    assert tables(database_url) >= TABLES


# --- the equipment archive ---


def test_sync_adds_then_is_a_no_op(store: Store) -> None:
    assert store.devices.sync(SITES, [SW, CAM, NVR], T0) == InventoryDiff(
        added=("sw1", "cam1", "nvr1")
    )
    assert store.devices.sync(SITES, [SW, CAM, NVR], T0 + dt.timedelta(hours=1)) == (
        InventoryDiff()
    )
    assert store.devices.all() == [CAM, NVR, SW]
    assert store.devices.get("cam1") == CAM
    assert store.devices.get("nope") is None
    assert store.devices.sites() == SITES
    assert store.states.operation_record("cam1") == []


def test_changed_archive_fields_are_written_and_recorded(fleet: Store) -> None:
    new = dataclasses.replace(CAM, firmware="V5.8.0", location=None)
    later = T0 + dt.timedelta(days=1)
    assert fleet.devices.sync(SITES, [SW, new, NVR], later) == InventoryDiff(changed=("cam1",))
    assert fleet.devices.get("cam1") == new
    (entry,) = fleet.states.operation_record("cam1")
    assert (entry.kind, entry.at, entry.from_state, entry.to_state) == (
        "archive",
        later,
        None,
        None,
    )
    assert entry.reason == "firmware: V5.7.1 -> V5.8.0; location: Gate, pole 2 -> -"
    assert entry.observation == {
        "changes": {"firmware": ["V5.7.1", "V5.8.0"], "location": ["Gate, pole 2", None]}
    }


def test_removed_device_keeps_its_archive_and_returns(fleet: Store) -> None:
    fleet.states.record_change(state_event("nvr1", T0), saved("nvr1", T0))
    gone = T0 + dt.timedelta(days=2)
    assert fleet.devices.sync(SITES, [SW, CAM], gone) == InventoryDiff(removed=("nvr1",))
    assert [d.id for d in fleet.devices.all()] == ["cam1", "sw1"]
    assert [d.id for d in fleet.devices.all(include_removed=True)] == ["cam1", "nvr1", "sw1"]
    assert fleet.devices.get("nvr1") == NVR
    assert "nvr1" in fleet.states.load()
    assert fleet.devices.sync(SITES, [SW, CAM], gone) == InventoryDiff()

    back = gone + dt.timedelta(days=1)
    assert fleet.devices.sync(SITES, [SW, CAM, NVR], back) == InventoryDiff(added=("nvr1",))
    assert [d.id for d in fleet.devices.all()] == ["cam1", "nvr1", "sw1"]
    assert [(e.at, e.reason) for e in fleet.states.operation_record("nvr1")] == [
        (back, "back in the configuration"),
        (gone, "removed from the configuration"),
        (T0, "ICMP: no reply"),
    ]


def test_sites_are_updated_in_place(fleet: Store) -> None:
    renamed = SiteRecord("s2", "Hill station (new)", "Asia/Urumqi", "county", "C-2025-02")
    fleet.devices.sync([SITES[0], renamed], [SW, CAM, NVR], T0)
    assert fleet.devices.sites() == [SITES[0], renamed]


def test_a_sync_among_some_devices_leaves_the_others_as_they_are(fleet: Store) -> None:
    """A reload syncs only what changed since the last sync (`among`)."""
    moved = dataclasses.replace(CAM, address="10.0.0.99")
    later = T0 + dt.timedelta(days=1)
    # cam1 changed, nvr1 left the configuration; sw1 is not among them, so its absence
    # from `devices` is not a removal
    diff = fleet.devices.sync(SITES, [moved], later, among={"cam1", "nvr1"})
    assert diff == InventoryDiff(changed=("cam1",), removed=("nvr1",))
    assert fleet.devices.all() == [moved, SW]
    assert fleet.devices.get("sw1") == SW
    renamed = dataclasses.replace(SW, name="renamed")  # `devices` are always compared
    assert fleet.devices.sync(SITES, [renamed], later, among=()) == InventoryDiff(changed=("sw1",))
    back = fleet.devices.sync(SITES, [NVR, CAM], later, among={"nvr1", "cam1", "new"})
    assert back == InventoryDiff(added=("nvr1",), changed=("cam1",))


def test_sync_refuses_duplicates_and_unknown_sites(store: Store) -> None:
    with pytest.raises(ValueError, match="duplicate device ids: sw1"):
        store.devices.sync(SITES, [SW, SW], T0)
    orphan = DeviceRecord("x1", "no-such-site", "X", "camera", "10.9.9.9")
    with pytest.raises(StoreError, match="synchronise the inventory"):
        store.devices.sync(SITES, [orphan], T0)
    assert store.devices.all(include_removed=True) == []
    assert store.devices.sites() == []


# --- states and the operation record ---


def test_state_change_round_trip_in_utc(fleet: Store) -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    at = dt.datetime(2025, 3, 1, 16, 0, 0, 123456, tzinfo=beijing)
    fleet.states.record_change(state_event("cam1", at), saved("cam1", at))
    state = fleet.states.load()["cam1"]
    assert state == saved("cam1", at)
    assert state.since.tzinfo is dt.UTC
    assert state.since == dt.datetime(2025, 3, 1, 8, 0, 0, 123456, tzinfo=dt.UTC)
    (entry,) = fleet.states.operation_record("cam1")
    assert entry == state_event("cam1", at)
    assert entry.at.tzinfo is dt.UTC

    up = at + dt.timedelta(minutes=5)
    fleet.states.record_change(state_event("cam1", up, to="up"), saved("cam1", up, "up"))
    assert fleet.states.load() == {"cam1": saved("cam1", up, "up")}


def test_changes_in_one_batch_keep_their_order_and_the_last_state_wins(fleet: Store) -> None:
    # A storm's batch: several changes of one device, Chinese text, no last check yet.
    minute = dt.timedelta(minutes=1)
    first = OperationEvent("sw1", T0, "state", "up", "down", "交换机无响应", {"loss": 1.0})
    changes = [
        (first, SavedState("sw1", "down", T0, None, "交换机无响应")),
        (state_event("cam1", T0), saved("cam1", T0)),
        (state_event("sw1", T0 + minute, to="up"), saved("sw1", T0 + minute, "up")),
    ]
    fleet.states.record_changes(changes)
    record = fleet.states.operation_record("sw1")
    assert record == [changes[2][0], first]  # newest first: ids follow the batch's order
    assert fleet.states.load() == {"sw1": changes[2][1], "cam1": changes[1][1]}
    naive = T0.replace(tzinfo=None)
    with pytest.raises(ValueError, match="naive datetime"):
        fleet.states.record_changes([(state_event("nvr1", naive), saved("nvr1", naive))])


def test_state_change_is_all_or_nothing(fleet: Store) -> None:
    broken = SavedState("cam1", None, T0, T0, "no state")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="record a state change of cam1"):
        fleet.states.record_change(state_event("cam1", T0), broken)
    assert fleet.states.operation_record("cam1") == []
    assert fleet.states.load() == {}


def test_state_change_is_all_or_nothing_when_the_upsert_fails(
    fleet: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(dialect: str) -> sa.Executable:
        return sa.text("SELECT * FROM no_such_table")

    monkeypatch.setattr(states_module, "_upsert_state", fail)
    with pytest.raises(StoreError):
        fleet.states.record_change(state_event("cam1", T0), saved("cam1", T0))
    monkeypatch.undo()
    assert fleet.states.operation_record("cam1") == []
    assert fleet.states.load() == {}


def test_touch_checks_updates_only_known_states(fleet: Store) -> None:
    fleet.states.record_change(state_event("cam1", T0), saved("cam1", T0))
    later = T0 + dt.timedelta(seconds=30)
    fleet.states.touch_checks({"cam1": later, "sw1": later, "ghost": later})
    fleet.states.touch_checks({})
    states = fleet.states.load()
    assert states == {"cam1": SavedState("cam1", "down", T0, later, "ICMP: no reply")}


def test_operation_record_is_newest_first_and_limited(fleet: Store) -> None:
    for minute in (3, 1, 2):
        fleet.states.record_event(state_event("sw1", T0 + dt.timedelta(minutes=minute)))
    fleet.states.record_event(state_event("cam1", T0))
    assert [e.at.minute for e in fleet.states.operation_record("sw1")] == [3, 2, 1]
    assert [e.at.minute for e in fleet.states.operation_record("sw1", limit=2)] == [3, 2]


def test_observation_keeps_json_and_survives_odd_values(fleet: Store) -> None:
    observation = {
        "rtt_ms": {"min": 0.4, "max": 2.5},
        "note": "门口摄像机",
        "when": dt.date(2025, 1, 2),
    }
    fleet.states.record_event(OperationEvent("cam1", T0, "state", None, "up", "ok", observation))
    (entry,) = fleet.states.operation_record("cam1")
    assert entry.observation == {**observation, "when": "2025-01-02"}


def test_naive_datetimes_are_refused(fleet: Store) -> None:
    naive = dt.datetime(2025, 3, 1, 8, 0)
    with pytest.raises(ValueError, match="naive"):
        fleet.states.record_event(state_event("cam1", naive))
    with pytest.raises(ValueError, match="naive"):
        fleet.states.record_change(state_event("cam1", T0), saved("cam1", naive))
    with pytest.raises(ValueError, match="naive"):
        fleet.states.touch_checks({"cam1": naive})
    with pytest.raises(ValueError, match="naive"):
        fleet.devices.sync(SITES, [SW], naive)
    assert fleet.states.operation_record("cam1") == []
    assert fleet.states.load() == {}


def test_events_of_unknown_devices_are_refused(fleet: Store) -> None:
    with pytest.raises(StoreError, match="record an event of ghost"):
        fleet.states.record_event(state_event("ghost", T0))


def test_concurrent_writers_from_threads(fleet: Store) -> None:
    def write(n: int) -> None:
        device = ("sw1", "cam1", "nvr1")[n % 3]
        at = T0 + dt.timedelta(seconds=n)
        fleet.states.record_change(state_event(device, at), saved(device, at))
        fleet.states.touch_checks({device: at})
        fleet.states.load()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, range(120)))
    assert sum(len(fleet.states.operation_record(d, 1000)) for d in ("sw1", "cam1", "nvr1")) == 120
    assert len(fleet.states.load()) == 3


# --- opening and errors ---


def test_sqlite_creates_its_directory_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "monitord.db"
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    store.close()
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_sqlite_in_memory_works_across_threads() -> None:
    store = Store.open("sqlite://")
    store.upgrade()
    store.devices.sync(SITES, [SW], T0)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda n: store.states.record_event(state_event("sw1", T0)), range(20)))
    assert len(store.states.operation_record("sw1")) == 20
    store.close()


def test_sqlite_path_that_cannot_be_created(tmp_path: Path) -> None:
    # Under a regular file: no directory can be made there, even by root.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    url = f"sqlite:///{blocker}/state/monitord.db"
    with pytest.raises(StoreError, match="cannot create the database directory") as caught:
        Store.open(url)
    assert url in str(caught.value)


def test_sqlite_read_only_file_fails_at_open(tmp_path: Path) -> None:
    path = tmp_path / "monitord.db"
    Store.open(f"sqlite:///{path}").close()
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    with pytest.raises(StoreError, match="readonly") as caught:
        Store.open(url)
    assert str(caught.value).startswith(f"{url}: cannot open the database: ")


def test_refused_postgresql_never_shows_the_password() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"postgresql+psycopg://monitord:Sup3r-s3cret@127.0.0.1:{port}/monitord"
    with pytest.raises(StoreError) as caught:
        Store.open(url)
    error = caught.value
    redacted = f"postgresql+psycopg://monitord:***@127.0.0.1:{port}/monitord"
    assert str(error).startswith(f"{redacted}: cannot open the database: ")
    assert "refused" in str(error).lower()
    everything = "".join(traceback.format_exception(error)) + repr(error)
    assert "Sup3r-s3cret" not in everything


@pytest.mark.postgres
def test_password_is_redacted_in_repr_and_errors(pg_url: str) -> None:
    # The throw-away cluster trusts every connection, so any password is accepted.
    url = pg_url.replace("postgres@", "postgres:Sup3r-s3cret@", 1)
    store = Store.open(url)
    try:
        assert "Sup3r-s3cret" not in repr(store) + store.url_redacted
        assert store.url_redacted.startswith("postgresql+psycopg://postgres:***@")
        store.upgrade()
        with pytest.raises(StoreError) as caught:
            store.states.record_event(state_event("ghost", T0))
        assert "Sup3r-s3cret" not in "".join(traceback.format_exception(caught.value))
    finally:
        store.close()


def test_bad_urls() -> None:
    with pytest.raises(StoreError, match="invalid database URL") as caught:
        Store.open("not a url:pw@@")
    assert "pw" not in str(caught.value)
    with pytest.raises(StoreError, match="unsupported database"):
        Store.open("mysql://u:pw@localhost/db")


def test_linked_identities_are_one_user_each_and_list_by_user(store: Store) -> None:
    li = store.accounts.add_user("li", "Li", "engineer", None, (), "x", T0)
    wu = store.accounts.add_user("wu", "Wu", "dispatcher", None, (), "x", T0)
    assert store.accounts.link_identity("wecom", "zhangsan", li.id, T0)
    assert not store.accounts.link_identity("wecom", "zhangsan", wu.id, T0)  # taken
    assert store.accounts.link_identity("feishu", "zhangsan", wu.id, T0)  # another provider
    assert store.accounts.link_identity("dingtalk", "u-1", li.id, T0)
    found = store.accounts.identity_user("wecom", "zhangsan")
    assert found is not None and found.name == "li"
    assert [(i.user_name, i.provider, i.subject) for i in store.accounts.identities()] == [
        ("li", "dingtalk", "u-1"), ("li", "wecom", "zhangsan"), ("wu", "feishu", "zhangsan")
    ]  # fmt: skip
    assert store.accounts.unlink_identity("wecom", "zhangsan")
    assert not store.accounts.unlink_identity("wecom", "zhangsan")
    assert store.accounts.identity_user("wecom", "zhangsan") is None


def test_centres_started_side_by_side_sync_one_archive(database_url: str) -> None:
    """Two centres on one database (centre HA) start at once: both synchronise the same new
    sites and devices, and neither fails on the other's rows (it did, on PostgreSQL)."""
    first, second = Store.open(database_url), Store.open(database_url)
    try:
        first.upgrade()
        for n in range(12):
            sites = [SiteRecord(f"r{n}-{i}", "S", "Asia/Shanghai", "city", None) for i in range(3)]
            devices = [
                DeviceRecord(f"r{n}-d{i}", sites[i % 3].id, f"D{i}", "camera", f"10.{n}.0.{i}")
                for i in range(30)
            ]
            with ThreadPoolExecutor(max_workers=2) as pool:
                done = [pool.submit(s.devices.sync, sites, devices, T0) for s in (first, second)]
                diffs = [d.result() for d in done]
            assert sorted(len(d.added) for d in diffs) == [0, 30]
    finally:
        first.close()
        second.close()
