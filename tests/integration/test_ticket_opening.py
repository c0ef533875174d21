"""One way to open a ticket (`tickets.open_ticket`), rendering through the injected port.

The renderer here is a stand-in for notify's `Routing`: ticketing's port is ours, not a
peer's wire format, so a small class that records what it was asked is the honest test.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path

from monitord.config.contracts import FaultKind, TicketClass
from monitord.store import Store
from monitord.store.records import OutboxRecord, TicketRecord
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind, TicketEvent
from monitord.ticketing.ports import MessageRenderer
from tests.support.ticket_records import CAM, NVR, SITES, SW, T0

TICKETING = Path(__file__).parents[2] / "monitord" / "ticketing"


class Recorder:
    """Renders one mail per event and remembers the ticket and log it was given."""

    def __init__(self) -> None:
        self.asked: list[tuple[TicketRecord, list[TicketEvent]]] = []

    def render(self, ticket: TicketRecord, log: Sequence[TicketEvent]) -> list[OutboxRecord]:
        self.asked.append((ticket, list(log)))
        return [OutboxRecord("mail", "ops@example.org", f"#{ticket.id}", log[-1].kind.value)]


def request(**overrides: object) -> tickets.TicketRequest:
    values: dict[str, object] = {
        "key": tickets.dedup_key("C-1", FaultKind.INSPECTION.value, "7/door/cam1"),
        "contract": "C-1",
        "site": "s1",
        "kind": FaultKind.INSPECTION,
        "ticket_class": TicketClass.C,
        "rule": "inspection-failed",
        "title": "inspection failed: door",
        "text": "inspection 7: door",
        "device": "cam1",
        "by": "li",
    }
    return tickets.TicketRequest(**(values | overrides))  # type: ignore[arg-type]


def test_ticketing_imports_nothing_of_notify() -> None:
    files = sorted(TICKETING.glob("*.py"))
    assert files
    imported = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
    assert "monitord.store" in imported  # the walk does see the imports
    assert sorted(m for m in imported if m.startswith("monitord.notify")) == []


def test_open_ticket_renders_once_with_the_new_id_and_is_idempotent(store: Store) -> None:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    renderer = Recorder()
    port: MessageRenderer = renderer
    ticket, created = tickets.open_ticket(store, request(), T0, port)
    assert created
    [(seen, log)] = renderer.asked
    assert seen.id == ticket.id > 0  # rendered after the row got its id
    assert [e.kind for e in log] == [EventKind.OPENED]
    assert (ticket.root_device, ticket.impacted, ticket.ticket_class) == ("cam1", ("cam1",), "C")
    [message] = store.outbox.messages()
    assert (message.ticket_id, message.subject, message.body) == (
        ticket.id,
        f"#{ticket.id}",
        "opened",
    )

    again, created = tickets.open_ticket(store, request(text="again"), T0, port)
    assert (again.id, created) == (ticket.id, False)
    assert len(store.outbox.messages()) == 1  # the active ticket answered; nothing sent twice


def test_the_opened_event_says_what_each_kind_of_ticket_said_before(store: Store) -> None:
    store.devices.sync(SITES, [SW, CAM, NVR], T0)
    inspection, _ = tickets.open_ticket(store, request(), T0, None)
    call, _ = tickets.open_ticket(
        store,
        request(
            key=tickets.dedup_key("C-1", "hotline", "1", "wang"),
            kind=FaultKind.HOTLINE,
            ticket_class=None,
            rule="manual",
            device=None,
            data={"hotline": True},
        ),
        T0,
        None,
    )
    datas = {}
    for t in (inspection, call):
        found = store.tickets.get(t.id)
        assert found is not None
        datas[t.fault_kind] = found[1][0].data
    assert datas["inspection"] == {
        "class": "C", "rule": "inspection-failed", "fault": "inspection", "impacted": ["cam1"],
    }  # fmt: skip
    # A call has no class yet and no fault kind in its event: its flag says what it is.
    assert datas["hotline"] == {"rule": "manual", "impacted": [], "hotline": True}
    assert call.ticket_class is None and call.root_device is None
