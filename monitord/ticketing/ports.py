"""What ticketing needs from the rest of the daemon, stated here so it imports none of it.

Ticketing sits below notify in the flow (a ticket event causes messages), yet an event and
its messages must be written in one transaction. So ticketing asks for a `MessageRenderer`
and the daemon's builders (`app.py`, the CLI, the API) hand it notify's: `notify.messages.
Routing` has the `render` method. The desk reads health through `HealthView`, the three
questions it asks, not through the tracker that changes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from monitord.config.models import Config, Device
from monitord.health.faults import Fault
from monitord.health.states import State
from monitord.store.records import OutboxRecord, TicketRecord
from monitord.ticketing.lifecycle import TicketEvent


class MessageRenderer(Protocol):
    """The outbox rows for the last event of a ticket's log (pure; called in the write)."""

    def render(self, ticket: TicketRecord, log: Sequence[TicketEvent]) -> list[OutboxRecord]: ...


# A renderer for a configuration: long-lived components build a new one at every reload.
RendererFor = Callable[[Config], MessageRenderer]


class HealthView(Protocol):
    """What the ticket desk reads of health (`health.tracker.HealthTracker` answers it)."""

    def state(self, device_id: str) -> State | None: ...

    def fault(self, device: Device, config: Config) -> Fault | None: ...

    def roots(self, device_id: str) -> list[str]: ...
