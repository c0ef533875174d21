"""The outbox in the store (SQLite and PostgreSQL): written with its event, claimed once."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from monitord.store import Store, StoreError
from monitord.store import tickets as tickets_module
from monitord.store.records import OutboxRecord, TicketRecord
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0, draft, event, opened

LEASE = dt.timedelta(minutes=5)
MAIL = OutboxRecord("mail", "ops@example.com", "opened", "body")
HOOK = OutboxRecord("hook", "", "opened", "body")


@pytest.fixture
def fleet(store: Store) -> Store:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    return store


def open_one(store: Store) -> TicketRecord:
    ticket, created = store.tickets.open(draft(), opened(), [MAIL, HOOK])
    assert created
    return ticket


def test_messages_are_written_with_the_opening_event(fleet: Store) -> None:
    ticket = open_one(fleet)
    rows = sorted(fleet.outbox.messages(), key=lambda m: m.id)
    assert [m.idempotency_key for m in rows] == [
        f"{ticket.id}/1/mail/ops@example.com",
        f"{ticket.id}/1/hook/",
    ]
    assert {(m.state, m.attempts, m.created_at, m.not_before) for m in rows} == {
        ("pending", 0, T0, T0)
    }
    assert all(m.ticket_id == ticket.id for m in rows)


def test_a_callable_sees_the_written_ticket(fleet: Store) -> None:
    seen: list[TicketRecord] = []

    def make(ticket: TicketRecord) -> list[OutboxRecord]:
        seen.append(ticket)
        return [OutboxRecord("mail", "a@example.com", f"#{ticket.id}", "b")]

    ticket, _ = fleet.tickets.open(draft(), opened(), make)
    assert seen == [ticket]
    later = T0 + dt.timedelta(minutes=1)
    fleet.tickets.append_event(ticket.id, 1, event("comment", later), {}, make)
    keys = {m.idempotency_key for m in fleet.outbox.messages()}
    assert keys == {f"{ticket.id}/1/mail/a@example.com", f"{ticket.id}/2/mail/a@example.com"}


def test_nothing_is_written_when_the_event_fails(
    fleet: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> sa.Executable:
        return sa.text("SELECT * FROM no_such_table")

    monkeypatch.setattr(tickets_module, "_insert_event", fail)
    with pytest.raises(StoreError):
        fleet.tickets.open(draft(), opened(), [MAIL])
    monkeypatch.undo()
    assert fleet.tickets.recent() == [] and fleet.outbox.messages() == []
    ticket = open_one(fleet)
    monkeypatch.setattr(tickets_module, "_insert_event", fail)
    with pytest.raises(StoreError):
        fleet.tickets.append_event(ticket.id, 1, event("comment", T0), {}, [MAIL])
    monkeypatch.undo()
    assert len(fleet.outbox.messages()) == 2 and fleet.tickets.events(ticket.id)[-1].seq == 1


def test_the_event_is_not_written_when_its_messages_fail(fleet: Store) -> None:
    ticket = open_one(fleet)

    def broken(_: TicketRecord) -> list[OutboxRecord]:
        raise RuntimeError("template error")

    with pytest.raises(RuntimeError):
        fleet.tickets.append_event(ticket.id, 1, event("comment", T0), {}, broken)
    assert len(fleet.tickets.events(ticket.id)) == 1
    assert fleet.tickets.get(ticket.id) is not None
    assert fleet.tickets.get(ticket.id)[0].version == 1  # type: ignore[index]


def test_claim_is_exclusive_until_the_lease_expires(fleet: Store) -> None:
    open_one(fleet)
    first = fleet.outbox.claim(T0, 10, LEASE)
    assert [m.state for m in first] == ["sending", "sending"]
    assert {m.attempts for m in first} == {1}
    assert fleet.outbox.claim(T0 + dt.timedelta(minutes=4), 10, LEASE) == []
    # The claimer died: after its lease the rows are claimable again (sent at most twice).
    again = fleet.outbox.claim(T0 + LEASE, 10, LEASE)
    assert sorted(m.id for m in again) == sorted(m.id for m in first)
    assert {m.attempts for m in again} == {2}


def test_outcomes(fleet: Store) -> None:
    open_one(fleet)
    mail, hook = fleet.outbox.claim(T0, 10, LEASE)
    fleet.outbox.mark_sent(mail.id, T0)
    later = T0 + dt.timedelta(minutes=1)
    fleet.outbox.mark_retry(hook.id, later, "HTTP 503")
    assert fleet.outbox.claim(T0 + dt.timedelta(seconds=59), 10, LEASE) == []
    (retried,) = fleet.outbox.claim(later, 10, LEASE)
    assert retried.id == hook.id and retried.last_error == "HTTP 503"
    fleet.outbox.mark_failed(hook.id, "HTTP 404")
    by_id = {m.id: m for m in fleet.outbox.messages()}
    assert (by_id[mail.id].state, by_id[mail.id].sent_at) == ("sent", T0)
    assert (by_id[hook.id].state, by_id[hook.id].last_error) == ("failed", "HTTP 404")
    assert fleet.outbox.claim(T0 + dt.timedelta(days=2), 10, LEASE) == []
    assert [m.id for m in fleet.outbox.messages(states=["failed"])] == [hook.id]
    counts, oldest = fleet.outbox.summary()
    assert counts == {("mail", "sent"): 1, ("hook", "failed"): 1} and oldest is None
    # A late outcome from a claimer whose lease ran out does not undo a finished row.
    fleet.outbox.mark_retry(mail.id, later, "late")
    assert fleet.outbox.messages(states=["sent"])[0].id == mail.id


def test_enqueue_needs_a_key_and_keys_are_unique(fleet: Store) -> None:
    with pytest.raises(ValueError, match="key"):
        fleet.outbox.enqueue([MAIL], T0)
    keyed = OutboxRecord("mail", "a@example.com", "test", "body", key="test/1")
    fleet.outbox.enqueue([keyed, keyed], T0)
    fleet.outbox.enqueue([keyed], T0)
    assert [m.idempotency_key for m in fleet.outbox.messages()] == ["test/1"]
    _, oldest = fleet.outbox.summary()
    assert oldest == T0


def test_racing_claimers_never_share_a_row(fleet: Store, database_url: str) -> None:
    records = [OutboxRecord("mail", f"r{i}@example.com", "s", "b") for i in range(60)]
    fleet.tickets.open(draft(), opened(), records)
    others = [Store.open(database_url) for _ in range(3)]
    stores = [fleet, *others]
    start = threading.Barrier(len(stores))

    def claim(store: Store) -> list[int]:
        start.wait()
        got: list[int] = []
        while batch := store.outbox.claim(T0, 7, LEASE):
            got += [m.id for m in batch]
        return got

    try:
        with ThreadPoolExecutor(len(stores)) as pool:
            claimed = list(pool.map(claim, stores))
    finally:
        for s in others:
            s.close()
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 60


def test_claims_follow_ticketings_urgency_table(fleet: Store) -> None:
    """The claim's order is `ticketing/urgency.py` `rank`, whatever order rows were written in."""
    from monitord.ticketing.urgency import RANKS, rank

    classes: list[str | None] = ["D", "C", None, "B", "A", "Z"]  # Z: a class the table lacks
    assert set(RANKS) <= set(classes)
    by_key: dict[str, str | None] = {}
    for i, cls in enumerate(classes):
        key = f"C-1/dev{i}/down"
        mail = OutboxRecord("mail", "ops@example.com", f"m{i}", "body")
        ticket, _ = fleet.tickets.open(draft(key, ticket_class=cls), opened(), [mail])
        by_key[f"{ticket.id}/1/mail/ops@example.com"] = cls
    claimed = [m.idempotency_key for _, ms in fleet.outbox.claim_groups(
        T0, LEASE, len(classes), lambda cs, _h, _n: [(c.idempotency_key, [c.id]) for c in cs]
    ) for m in ms]  # fmt: skip
    ranks = [rank(by_key[k]) for k in claimed]
    assert len(claimed) == len(classes)
    assert ranks == sorted(ranks)
    assert [by_key[k] for k in claimed][-2:] == ["C", "D"]
