"""The daemon's escalation pass: fires due steps of open tickets' policies, each once.

A step is an `escalated` event appended against the ticket version it was computed from,
with its messages in the same transaction (see notify/escalation.py for why a step can
never follow the acknowledgement). Tickets whose log has not changed since the last pass
and whose next step is not yet due are not read again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from monitord import log
from monitord.clock import Clock
from monitord.notify.escalation import Due, due_steps, pages, unreachable
from monitord.notify.messages import Routing, messages_for
from monitord.store import Store, StoreError, TicketConflict
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.supervise import repeat
from monitord.ticketing.lifecycle import EventKind, Status, TicketEvent

_log = log.get("monitord.escalation")
SYSTEM = "monitord"
_ATTEMPTS = 10  # steps fired plus conflicts met, per ticket and pass


class EscalationCounters:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        labels = ["policy", "step"]
        self.fired = Counter(
            "monitord_escalations_fired",
            "Escalation steps fired after their delay without acknowledgement (step 1 = first)",
            labels,
            registry=registry,
        )
        self.unreached = Counter(
            "monitord_escalation_unreached",
            "Escalation targets a fired step could not page (nobody on call, no address)",
            labels,
            registry=registry,
        )
        self.unresolved = Gauge(
            "monitord_escalation_targets_unresolved",
            "Policy targets that name nobody for some contract or site (see the log)",
            registry=registry,
        )


class Escalator:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        routing: Callable[[], Routing],
        registry: CollectorRegistry | None = None,
        every: float = 5.0,
    ) -> None:
        self._store, self._clock, self._routing, self._every = store, clock, routing, every
        self.counters = EscalationCounters(registry)
        # Ticket id -> (version read, when its next step falls due).
        self._known: dict[int, tuple[int, dt.datetime | None]] = {}
        self._known_for: Routing | None = None  # a reload may change every policy

    async def run(self) -> None:
        await repeat(self.step, self._clock)

    async def step(self) -> float:
        """One pass over open tickets; returns the seconds until the next."""
        try:
            await asyncio.to_thread(self.tick, self._clock.now())
        except StoreError as exc:
            _log.error("cannot check escalations; retrying", error=str(exc))
        return self._every

    def tick(self, now: dt.datetime) -> int:
        """One pass over open tickets; returns how many steps it fired."""
        routing = self._routing()
        if routing is not self._known_for:
            self._known, self._known_for = {}, routing
            self._check(routing)
        if not routing.paging.policies:
            return 0
        fired = 0
        known: dict[int, tuple[int, dt.datetime | None]] = {}
        for ticket in self._store.tickets.recent([Status.OPEN.value], None, 10_000):
            if routing.paging.policy_for(ticket) is None:
                continue
            seen = self._known.get(ticket.id)
            if (
                seen is not None
                and seen[0] == ticket.version
                and (seen[1] is None or seen[1] > now)
            ):
                known[ticket.id] = seen
                continue
            done, upcoming, version = self._escalate(ticket.id, routing, now)
            fired += done
            known[ticket.id] = (version, upcoming)
        self._known = known
        return fired

    def _check(self, routing: Routing) -> None:
        """At start and after a reload: say which steps would page nobody."""
        problems = unreachable(routing.paging)
        self.counters.unresolved.set(len(problems))
        if problems:
            _log.warning("escalation steps that would page nobody", problems=problems)

    def _escalate(
        self, ticket_id: int, routing: Routing, now: dt.datetime
    ) -> tuple[int, dt.datetime | None, int]:
        """Fire the ticket's due steps; (steps fired, next due, version last read)."""
        fired = 0
        read = self._read(ticket_id)
        for _ in range(_ATTEMPTS):
            if read is None:
                return fired, None, 0
            ticket, events = read
            due, upcoming = due_steps(routing.paging, ticket, events, now)
            if not due:
                return fired, upcoming, ticket.version
            try:
                read = self._fire(ticket, events, due[0], routing, now)
            except TicketConflict:
                read = self._read(ticket_id)  # someone wrote first (an acknowledgement?)
                continue
            fired += 1
        return fired, now, 0  # still changing under us: look again next pass

    def _read(self, ticket_id: int) -> tuple[TicketRecord, list[TicketEvent]] | None:
        found = self._store.tickets.get(ticket_id)
        if found is None:
            return None
        ticket, records = found
        return ticket, [TicketEvent(r.at, EventKind(r.kind), r.by, r.text, r.data) for r in records]

    def _fire(
        self,
        ticket: TicketRecord,
        events: list[TicketEvent],
        due: Due,
        routing: Routing,
        now: dt.datetime,
    ) -> tuple[TicketRecord, list[TicketEvent]]:
        """Write the step; returns the ticket and its log as they now are."""
        step = due.step + 1
        late = (now - due.at).total_seconds()
        text = f"escalation step {step} of policy {due.policy}: not acknowledged"
        data = {"policy": due.policy, "step": due.step, "anchor": due.anchor_seq}
        event = TicketEventRecord(
            ticket.id, ticket.version + 1, now, EventKind.ESCALATED.value, SYSTEM, text, data
        )
        log_after = [*events, TicketEvent(now, EventKind.ESCALATED, SYSTEM, text, data)]
        # Written only if the ticket is still at the version whose log said "not acknowledged".
        written = self._store.tickets.append_event(
            ticket.id,
            ticket.version,
            event,
            {},
            lambda t: messages_for(t, log_after, routing),
        )
        self.counters.fired.labels(due.policy, str(step)).inc()
        paged, missed = pages(routing.paging, ticket, due.step, now)
        _log.warning(
            "escalated",
            ticket=ticket.id,
            policy=due.policy,
            step=step,
            people=sorted({p.person for p in paged}),
            late_seconds=round(late, 1),
        )
        for m in missed:
            self.counters.unreached.labels(due.policy, str(step)).inc()
            _log.error(
                "escalation step reaches nobody",
                ticket=ticket.id,
                policy=due.policy,
                step=step,
                target=m.target,
                channel=m.channel,
            )
        return written, log_after
