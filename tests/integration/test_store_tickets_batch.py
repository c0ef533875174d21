"""The store's batched ticket writes (a storm's), on SQLite and PostgreSQL alike: each says
what its one-at-a-time counterpart says, in one transaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from monitord.store import ActiveTicketExists, Store
from monitord.store import tickets as tickets_module
from monitord.store.records import OutboxRecord, TicketRecord
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0, draft, event, opened

KEYS = ("C-1/sw1", "C-1/cam1", "C-2/nvr1")
LATER = T0 + dt.timedelta(minutes=5)


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    return store


def mail(ticket: TicketRecord) -> list[OutboxRecord]:
    return [OutboxRecord("mail", "ops@example.com", f"#{ticket.id} opened", "body")]


def test_open_many_opens_what_is_free_and_returns_what_is_active(fleet: Store) -> None:
    taken, _ = fleet.tickets.open(draft(KEYS[1], root_device="cam1"), opened())
    drafts = [
        (draft(KEYS[0], at=LATER), opened(LATER), mail),
        (draft(KEYS[1], at=LATER, root_device="cam1"), opened(LATER), mail),
        (draft(KEYS[2], at=LATER, site_id="s2", root_device="nvr1"), opened(LATER), mail),
    ]
    results = fleet.tickets.open_many(drafts)
    assert [r[1] if r else None for r in results] == [True, False, True]
    assert results[1] == (taken, False)
    for (want, first, _), result in zip(drafts, results, strict=True):
        assert result is not None
        ticket = result[0]
        assert fleet.tickets.active(want.dedup_key) == ticket
        found = fleet.tickets.get(ticket.id)
        assert found is not None and len(found[1]) == 1
        if result[1]:
            assert ticket == dataclasses.replace(want, id=ticket.id, version=1)
            assert found[1][0] == dataclasses.replace(first, ticket_id=ticket.id, seq=1)
    # Messages only for what was opened now, each naming its own ticket.
    pending = fleet.outbox.claim(LATER, 10, dt.timedelta(minutes=1))
    opened_now = sorted(r[0].id for r in results if r and r[1])
    assert sorted(int(m.subject[1:].split()[0]) for m in pending) == opened_now
    assert fleet.tickets.open_many([]) == []
    with pytest.raises(ValueError, match="one draft per dedup key"):
        fleet.tickets.open_many([drafts[0], drafts[0]])


def test_current_and_get_many_say_what_active_last_closed_and_get_say(fleet: Store) -> None:
    first, _ = fleet.tickets.open(draft(KEYS[0]), opened())
    closed = fleet.tickets.append_event(first.id, 1, event("closed", LATER), {"status": "closed"})
    again, _ = fleet.tickets.open(draft(KEYS[0], at=LATER), opened(LATER))
    other, _ = fleet.tickets.open(draft(KEYS[1], root_device="cam1"), opened())
    gone = fleet.tickets.append_event(other.id, 1, event("closed", LATER), {"status": "closed"})
    found = fleet.tickets.current([*KEYS])
    for key in KEYS:
        assert found[key] == (
            fleet.tickets.active(key),
            None if fleet.tickets.active(key) else fleet.tickets.last_closed(key),
        )
    assert found[KEYS[0]] == (again, None)
    assert found[KEYS[1]] == (None, gone)
    assert found[KEYS[2]] == (None, None)
    many = fleet.tickets.get_many([first.id, again.id, 10_000])
    assert set(many) == {first.id, again.id}
    assert many[first.id] == fleet.tickets.get(first.id)
    assert many[first.id][0] == closed


def test_append_many_writes_each_at_its_version_and_skips_a_stale_one(fleet: Store) -> None:
    a, _ = fleet.tickets.open(draft(KEYS[0]), opened())
    b, _ = fleet.tickets.open(draft(KEYS[1], root_device="cam1"), opened())
    impact = event("impact", LATER, "3 device(s) affected")
    written = fleet.tickets.append_many([
        (a.id, 1, impact, {"status": "open", "impacted": ("sw1", "cam1", "nvr1")}, mail),
        (b.id, 7, impact, {"status": "open", "impacted": ("cam1", "sw1")}, mail),
    ])  # fmt: skip
    assert written[1] is None  # b is at version 1, not 7: nothing written for it
    assert written[0] is not None
    assert (written[0].version, written[0].impacted) == (2, ("sw1", "cam1", "nvr1"))
    assert fleet.tickets.get(a.id) == (written[0], fleet.tickets.events(a.id))
    assert [e.seq for e in fleet.tickets.events(a.id)] == [1, 2]
    assert fleet.tickets.get(b.id) == (b, fleet.tickets.events(b.id))
    assert len(fleet.outbox.claim(LATER, 10, dt.timedelta(minutes=1))) == 1


def test_append_many_mixes_changes_and_refuses_a_reopening_whole(fleet: Store) -> None:
    a, _ = fleet.tickets.open(draft(KEYS[0]), opened())
    b, _ = fleet.tickets.open(draft(KEYS[1], root_device="cam1"), opened())
    closing = event("closed", LATER)
    written = fleet.tickets.append_many([
        (a.id, 1, event("impact", LATER), {"impacted": ("sw1", "cam1")}, ()),
        (b.id, 1, closing, {"status": "closed"}, mail),
        (10_000, 1, event("impact", LATER), {"impacted": ("sw1",)}, mail),  # no such ticket
    ])  # fmt: skip
    assert written[2] is None
    assert written[0] == dataclasses.replace(a, impacted=("sw1", "cam1"), version=2,
                                             updated_at=LATER)  # fmt: skip
    assert written[1] == dataclasses.replace(b, status="closed", version=2, updated_at=LATER)
    assert fleet.tickets.last_closed(KEYS[1]) == written[1]
    assert [e.kind for e in fleet.tickets.events(b.id)] == ["opened", "closed"]
    assert len(fleet.outbox.claim(LATER, 10, dt.timedelta(minutes=1))) == 1
    # Reopening b while another ticket of its key is active: nothing of the batch is written.
    c, _ = fleet.tickets.open(draft(KEYS[1], at=LATER, root_device="cam1"), opened(LATER))
    with pytest.raises(ActiveTicketExists):
        fleet.tickets.append_many([
            (a.id, 2, event("impact", LATER), {"impacted": ("sw1",)}, ()),
            (b.id, 2, event("reopened", LATER), {"status": "open"}, ()),
        ])  # fmt: skip
    assert fleet.tickets.get(a.id) == (written[0], fleet.tickets.events(a.id))
    assert len(fleet.tickets.events(a.id)) == 2
    assert fleet.tickets.active(KEYS[1]) == c


def test_append_many_splits_a_big_batch_into_bounded_statements(
    fleet: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tickets_module, "_APPENDS_PER_STATEMENT", 2)
    tickets = [fleet.tickets.open(draft(k, root_device=None), opened())[0] for k in KEYS]
    impact = event("impact", LATER, "2 device(s) affected")
    written = fleet.tickets.append_many(
        [(t.id, 1, impact, {"impacted": ("sw1", "cam1")}, ()) for t in tickets]
    )
    for before, after in zip(tickets, written, strict=True):
        assert after == dataclasses.replace(
            before, impacted=("sw1", "cam1"), version=2, updated_at=LATER
        )
        assert [e.seq for e in fleet.tickets.events(before.id)] == [1, 2]
