"""Tickets in the store, on SQLite and PostgreSQL alike (see tests/support/db.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from monitord.store import ActiveTicketExists, Store, StoreError, TicketConflict
from monitord.store import tickets as tickets_module
from monitord.store.migrate import alembic_config, head_revision
from monitord.store.records import TicketEventRecord, TicketRecord
from tests.support.ticket_records import CAM, KEY, NVR, SITES, SW, T0, draft, event, opened

BEIJING = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def fleet(store: Store) -> Store:
    # Tickets refer to sites and devices.
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    return store


def close(store: Store, ticket: TicketRecord, at: dt.datetime) -> TicketRecord:
    return store.tickets.append_event(
        ticket.id, ticket.version, event("closed", at), {"status": "closed"}
    )


def raw(url: str, query: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query), params)]
    finally:
        engine.dispose()


def sql_time(url: str, at: dt.datetime) -> object:
    # For raw SQL: SQLite keeps SQLAlchemy's naive UTC text, PostgreSQL takes the instant.
    if url.startswith("sqlite"):
        return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at


def count(url: str, table: str) -> int:
    (row,) = raw(url, f"SELECT count(*) FROM {table}")
    return int(row[0])


# --- opening: one active ticket per dedup key ---


def test_open_assigns_id_and_version_and_stores_the_first_event(fleet: Store) -> None:
    ticket, created = fleet.tickets.open(draft(), opened(fault="down"))
    assert created
    assert ticket.id > 0
    assert ticket == dataclasses.replace(draft(), id=ticket.id, version=1)
    found = fleet.tickets.get(ticket.id)
    assert found is not None
    assert found[0] == ticket
    assert found[1] == [TicketEventRecord(ticket.id, 1, T0, "opened", "monitord",
                                          "switch-down -> B", {"fault": "down"})]  # fmt: skip
    assert fleet.tickets.events(ticket.id) == found[1]
    assert fleet.tickets.active(KEY) == ticket
    assert fleet.tickets.get(ticket.id + 1000) is None
    assert fleet.tickets.events(ticket.id + 1000) == []


def test_opening_twice_returns_the_active_ticket(fleet: Store, database_url: str) -> None:
    first, created = fleet.tickets.open(draft(), opened())
    later = T0 + dt.timedelta(minutes=5)
    again, created_again = fleet.tickets.open(draft(at=later, title="other"), opened(later))
    assert (created, created_again) == (True, False)
    assert again == first
    assert fleet.tickets.recent() == [first]
    assert count(database_url, "ticket_events") == 1


def test_after_closing_the_same_key_opens_a_new_ticket(fleet: Store, database_url: str) -> None:
    first, _ = fleet.tickets.open(draft(), opened())
    assert fleet.tickets.last_closed(KEY) is None
    closed_at = T0 + dt.timedelta(hours=2)
    closed = close(fleet, first, closed_at)
    assert (closed.status, closed.version, closed.updated_at) == ("closed", 2, closed_at)
    assert fleet.tickets.active(KEY) is None
    assert fleet.tickets.last_closed(KEY) == closed

    later = T0 + dt.timedelta(days=1)
    second, created = fleet.tickets.open(draft(at=later), opened(later))
    assert created
    assert second.id != first.id
    assert fleet.tickets.active(KEY) == second
    assert fleet.tickets.last_closed(KEY) == closed
    assert fleet.tickets.recent() == [second, closed]  # newest first

    # The most recently closed one wins.
    closed_second = close(fleet, second, later + dt.timedelta(hours=1))
    assert fleet.tickets.last_closed(KEY) == closed_second
    rows = raw(database_url, "SELECT id, closed_at FROM tickets ORDER BY id")
    assert [r[0] for r in rows] == [first.id, second.id]
    assert all(r[1] is not None for r in rows)


def test_reopening_clears_closed_at_unless_another_ticket_is_active(
    fleet: Store, database_url: str
) -> None:
    first, _ = fleet.tickets.open(draft(), opened())
    closed = close(fleet, first, T0 + dt.timedelta(hours=1))
    reopened = fleet.tickets.append_event(
        first.id, closed.version, event("reopened", T0 + dt.timedelta(hours=2)), {"status": "open"}
    )
    assert (reopened.status, reopened.version) == ("open", 3)
    assert fleet.tickets.active(KEY) == reopened
    assert raw(database_url, "SELECT closed_at FROM tickets")[0][0] is None

    # Closed again, a new ticket takes the key; the old one may not come back beside it.
    closed = close(fleet, reopened, T0 + dt.timedelta(hours=3))
    second, _ = fleet.tickets.open(draft(at=T0 + dt.timedelta(hours=4)), opened())
    with pytest.raises(ActiveTicketExists, match=f"ticket {first.id} cannot become 'open'"):
        fleet.tickets.append_event(
            first.id, closed.version, event("reopened", T0 + dt.timedelta(hours=5)),
            {"status": "open"},
        )  # fmt: skip
    assert not isinstance(ActiveTicketExists("x"), TicketConflict)  # retrying cannot help
    assert fleet.tickets.get(first.id) == (closed, fleet.tickets.events(first.id))
    assert len(fleet.tickets.events(first.id)) == closed.version == 4
    assert fleet.tickets.active(KEY) == second


def test_tickets_without_a_device_and_other_keys_coexist(fleet: Store) -> None:
    hotline = draft("C-2/hotline/1", root_device=None, ticket_class=None, rule="manual",
                    contract="C-2", site_id="s2", fault_kind="report")  # fmt: skip
    a, _ = fleet.tickets.open(draft(), opened())
    b, created = fleet.tickets.open(hotline, opened(T0 + dt.timedelta(seconds=1)))
    assert created
    assert (b.root_device, b.ticket_class) == (None, None)
    assert {t.id for t in fleet.tickets.recent()} == {a.id, b.id}


def test_open_refuses_unknown_sites_and_devices_and_closed_drafts(fleet: Store) -> None:
    with pytest.raises(StoreError, match=f"cannot open a ticket for {KEY}: "):
        fleet.tickets.open(draft(site_id="nowhere"), opened())
    with pytest.raises(StoreError, match="cannot open a ticket"):
        fleet.tickets.open(draft(root_device="ghost"), opened())
    with pytest.raises(ValueError, match="cannot be opened closed"):
        fleet.tickets.open(draft(status="closed"), opened())
    assert fleet.tickets.recent() == []


def test_open_is_all_or_nothing(
    fleet: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(
        ticket_id: int, seq: int, e: TicketEventRecord, idem: str | None = None
    ) -> sa.Executable:
        return sa.text("SELECT * FROM no_such_table")

    monkeypatch.setattr(tickets_module, "_insert_event", fail)
    with pytest.raises(StoreError, match="cannot open a ticket"):
        fleet.tickets.open(draft(), opened())
    monkeypatch.undo()
    assert fleet.tickets.recent() == []
    assert count(database_url, "ticket_events") == 0
    assert fleet.tickets.open(draft(), opened())[1]  # the key is still free


def test_concurrent_opens_make_exactly_one_ticket(store: Store, database_url: str) -> None:
    """Eight writers, each with its own engine like separate processes, open one fault."""
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    writers = [Store.open(database_url) for _ in range(8)]
    start = threading.Barrier(len(writers))

    def open_one(writer: Store) -> tuple[TicketRecord, bool]:
        start.wait()
        return writer.tickets.open(draft(), opened())

    try:
        with ThreadPoolExecutor(max_workers=len(writers)) as pool:
            results = list(pool.map(open_one, writers))
    finally:
        for writer in writers:
            writer.close()
    assert sum(created for _, created in results) == 1
    assert len({ticket for ticket, _ in results}) == 1
    assert len(store.tickets.recent()) == 1
    assert count(database_url, "ticket_events") == 1


def test_open_waits_for_a_racer_and_returns_its_ticket(fleet: Store, database_url: str) -> None:
    """A racer has inserted the same key but not committed: we must wait, then defer."""
    engine = sa.create_engine(database_url)
    result: list[tuple[TicketRecord, bool]] = []
    try:
        with engine.connect() as racer:
            racer.execute(
                sa.text(
                    "INSERT INTO tickets (dedup_key, contract, site_id, root_device, fault_kind,"
                    " ticket_class, rule, status, paused, recovered, title, impacted, opened_at,"
                    " updated_at, version) VALUES (:key, 'C-1', 's1', 'sw1', 'down', 'B',"
                    " 'switch-down', 'open', false, false, 'racer', '[]', :at, :at, 1)"
                ),
                {"key": KEY, "at": sql_time(database_url, T0)},
            )
            waiting = threading.Thread(
                target=lambda: result.append(fleet.tickets.open(draft(), opened()))
            )
            waiting.start()
            time.sleep(0.5)
            assert waiting.is_alive()  # blocked by the racer's uncommitted row / write lock
            racer.commit()
            waiting.join(30)
    finally:
        engine.dispose()
    ((ticket, created),) = result
    assert not created
    assert ticket.title == "racer"
    assert [t.title for t in fleet.tickets.recent()] == ["racer"]


# --- appending: versions, gapless seq, atomicity ---


def test_appends_number_events_without_gaps(fleet: Store) -> None:
    ticket, _ = fleet.tickets.open(draft(), opened())
    steps: list[tuple[str, dict[str, Any]]] = [
        ("acknowledged", {"status": "acknowledged"}),
        ("on_site", {"status": "on_site"}),
        ("comment", {}),
        ("paused", {"paused": True}),
    ]
    for n, (kind, changes) in enumerate(steps, start=1):
        at = T0 + dt.timedelta(minutes=n)
        ticket = fleet.tickets.append_event(ticket.id, ticket.version, event(kind, at), changes)
        assert (ticket.version, ticket.updated_at) == (n + 1, at)
    events = fleet.tickets.events(ticket.id)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.kind for e in events] == ["opened", "acknowledged", "on_site", "comment", "paused"]
    assert (ticket.status, ticket.paused, ticket.recovered) == ("on_site", True, False)
    assert ticket.opened_at == T0


def test_every_changeable_field_is_written(fleet: Store) -> None:
    ticket, _ = fleet.tickets.open(draft(), opened())
    changes: dict[str, Any] = {
        "status": "acknowledged", "paused": True, "recovered": True, "ticket_class": "A",
        "rule": "manual", "impacted": ("sw1", "cam1", "nvr1"), "title": "Depot dark",
    }  # fmt: skip
    updated = fleet.tickets.append_event(ticket.id, 1, event("comment", T0), changes)
    expected = dataclasses.replace(ticket, **changes, version=2)
    assert updated == expected
    assert fleet.tickets.active(KEY) == expected


def test_stale_version_conflicts_and_writes_nothing(fleet: Store) -> None:
    ticket, _ = fleet.tickets.open(draft(), opened())
    ticket = fleet.tickets.append_event(ticket.id, 1, event("acknowledged", T0),
                                       {"status": "acknowledged"})  # fmt: skip
    before = fleet.tickets.get(ticket.id)
    with pytest.raises(TicketConflict, match=f"ticket {ticket.id} is at version 2, not 1"):
        fleet.tickets.append_event(ticket.id, 1, event("on_site", T0), {"status": "on_site"})
    with pytest.raises(TicketConflict, match="ticket 9999 does not exist"):
        fleet.tickets.append_event(9999, 1, event("comment", T0), {})
    assert issubclass(TicketConflict, StoreError)
    assert fleet.tickets.get(ticket.id) == before


def test_concurrent_appends_keep_seq_gapless(fleet: Store) -> None:
    ticket, _ = fleet.tickets.open(draft(), opened())

    def add_comments(n: int) -> None:
        # Read, append, and on a conflict read again: what the ticketing layer does.
        for i in range(5):
            while True:
                current = fleet.tickets.active(KEY)
                assert current is not None
                try:
                    fleet.tickets.append_event(
                        current.id, current.version, event("comment", T0, f"{n}.{i}"), {}
                    )
                    break
                except TicketConflict:
                    continue

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add_comments, range(8)))
    events = fleet.tickets.events(ticket.id)
    assert [e.seq for e in events] == list(range(1, 42))
    assert len({e.text for e in events[1:]}) == 40
    final = fleet.tickets.active(KEY)
    assert final is not None and final.version == 41


def test_event_and_row_change_together(
    fleet: Store, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket, _ = fleet.tickets.open(draft(), opened())
    before = fleet.tickets.get(ticket.id)

    def fail(
        ticket_id: int, seq: int, e: TicketEventRecord, idem: str | None = None
    ) -> sa.Executable:
        return sa.text("SELECT * FROM no_such_table")

    monkeypatch.setattr(tickets_module, "_insert_event", fail)
    with pytest.raises(StoreError, match=f"cannot append an event to ticket {ticket.id}"):
        fleet.tickets.append_event(ticket.id, 1, event("closed", T0), {"status": "closed"})
    monkeypatch.undo()
    assert fleet.tickets.get(ticket.id) == before
    assert raw(database_url, "SELECT closed_at FROM tickets")[0][0] is None
    # The version was not used up: the same append now succeeds.
    assert close(fleet, ticket, T0).version == 2


def test_append_refuses_bad_changes_and_naive_times(fleet: Store) -> None:
    ticket, _ = fleet.tickets.open(draft(), opened())
    before = fleet.tickets.get(ticket.id)
    with pytest.raises(ValueError, match=r"cannot change: \['contract', 'version'\]"):
        fleet.tickets.append_event(ticket.id, 1, event("comment", T0),
                                  {"version": 7, "contract": "C-2"})  # fmt: skip
    with pytest.raises(ValueError, match="not a str"):
        fleet.tickets.append_event(ticket.id, 1, event("impact", T0), {"impacted": "cam1"})
    with pytest.raises(ValueError, match="naive"):
        fleet.tickets.append_event(ticket.id, 1, event("comment", T0.replace(tzinfo=None)), {})
    with pytest.raises(ValueError, match="naive"):
        fleet.tickets.open(draft("other", at=T0.replace(tzinfo=None)), opened())
    assert fleet.tickets.get(ticket.id) == before
    assert len(fleet.tickets.recent()) == 1


# --- values and queries ---


def test_json_and_datetimes_round_trip(fleet: Store) -> None:
    at = dt.datetime(2025, 3, 1, 16, 30, 0, 123456, tzinfo=BEIJING)
    data = {"现场": "北门岗亭", "devices": ["cam1", "sw1"], "nested": {"count": 2, "ok": True}}
    ticket, _ = fleet.tickets.open(
        draft(at=at, title="北门摄像机离线", impacted=("cam1", "摄像机-2")), opened(at, **data)
    )
    found = fleet.tickets.get(ticket.id)
    assert found is not None
    record, (first,) = found
    assert record.title == "北门摄像机离线"
    assert record.impacted == ("cam1", "摄像机-2")
    assert first.data == data
    for value in (record.opened_at, record.updated_at, first.at):
        assert value.tzinfo is dt.UTC
        assert value == dt.datetime(2025, 3, 1, 8, 30, 0, 123456, tzinfo=dt.UTC)
    later = at + dt.timedelta(hours=1)
    updated = fleet.tickets.append_event(
        ticket.id, 1, event("impact", later, "影响扩大", impacted=["nvr1"]), {"impacted": ["nvr1"]}
    )
    assert updated.impacted == ("nvr1",)
    assert updated.updated_at.tzinfo is dt.UTC
    assert fleet.tickets.events(ticket.id)[1] == TicketEventRecord(
        ticket.id, 2, later, "impact", "operator", "影响扩大", {"impacted": ["nvr1"]}
    )


def test_tickets_filter_by_status_and_contract_newest_first(fleet: Store) -> None:
    made = []
    for n in range(4):
        contract = "C-1" if n % 2 == 0 else "C-2"
        ticket, _ = fleet.tickets.open(
            draft(f"{contract}/dev{n}/down", at=T0 + dt.timedelta(hours=n), contract=contract),
            opened(),
        )
        made.append(ticket)
    made[0] = close(fleet, made[0], T0 + dt.timedelta(hours=5))
    newest_first = made[::-1]
    assert fleet.tickets.recent() == newest_first
    assert fleet.tickets.recent(limit=2) == newest_first[:2]
    assert fleet.tickets.recent(statuses={"closed"}) == [made[0]]
    assert fleet.tickets.recent(statuses=["open"], contract="C-1") == [made[2]]
    assert fleet.tickets.recent(contract="C-2") == [made[3], made[1]]
    assert fleet.tickets.recent(statuses=()) == []


# --- migration ---


def test_head_round_trips_to_0001(store: Store, database_url: str) -> None:
    assert store.current_revision() == head_revision() == "0020"
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "0001")
        tables = set(sa.inspect(engine).get_table_names())
        assert not {"tickets", "ticket_events", "outbox", "inspection_tasks",
                    "inspection_results", "followup_visits", "metric_hours",
                    "maintenance_windows"} & tables  # fmt: skip
    finally:
        engine.dispose()
    assert store.current_revision() == "0001"
    store.upgrade()
    assert store.current_revision() == head_revision()


def test_a_database_made_by_0001_upgrades_with_its_data(database_url: str) -> None:
    store = Store.open(database_url)  # creates the SQLite file
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
            connection.execute(
                sa.text(
                    "INSERT INTO sites (id, name, timezone, zone, contract, updated_at)"
                    " VALUES ('s1', 'North depot', 'Asia/Shanghai', 'city', 'C-1', :at)"
                ),
                {"at": sql_time(database_url, T0)},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO devices (id, site_id, name, kind, address, parents,"
                    " criticality, first_seen, updated_at) VALUES ('sw1', 's1', 'Core switch',"
                    " 'switch', '10.0.0.2', '[]', 'normal', :at, :at)"
                ),
                {"at": sql_time(database_url, T0)},
            )
        assert store.current_revision() == "0001"
        store.upgrade()
        assert store.current_revision() == head_revision()
        assert store.devices.get("sw1") == SW
        ticket, created = store.tickets.open(draft(), opened())
        assert created
        assert store.tickets.active(KEY) == ticket
    finally:
        engine.dispose()
        store.close()
