"""The daemon's ticket desk: turns HARD transitions into tickets and keeps the SLA clocks.

Every write goes through `tickets` in a thread and is retried until the store takes it. At
start the desk reconciles: every device that is a fault now has its ticket, every ticket
whose root answers again is marked recovered. With idempotent opening (the dedup key), this
is what makes "exactly once" hold across SIGKILL at any moment.

The desk reads health through `HealthView` and renders messages through the injected
`MessageRenderer` (both in ticketing/ports.py): it imports nothing of notify, and of
the tracker only its `Transition` record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from monitord import log
from monitord.clock import Clock
from monitord.config.contracts import Contract
from monitord.config.models import Config, Device
from monitord.health.faults import fault_kind
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.store import Store, StoreError
from monitord.store.records import TicketRecord
from monitord.supervise import Backoff, repeat, retry
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind, Status, TicketEvent, as_events
from monitord.ticketing.ports import HealthView, MessageRenderer
from monitord.ticketing.sla import deadlines

_log = log.get("monitord.tickets")
_RESPONSES = frozenset({EventKind.ACKNOWLEDGED, EventKind.ON_SITE})
_ACTIVE = [s.value for s in Status if s != Status.CLOSED]
_T = TypeVar("_T")
_R = TypeVar("_R", bound=MessageRenderer)
_Opened = tuple[TicketRecord, bool]
_Late = Mapping[str, Any] | None  # why a ticket opens only now (tickets.open_for_fault)


class Windows(Protocol):
    """Planned work (P5): a covered device's fault opens its ticket only after the window."""

    def covers(self, device_id: str, at: dt.datetime) -> bool: ...


@dataclass(frozen=True, slots=True)
class Board:
    """The active tickets and their nearest deadlines, as of the last clock pass."""

    at: dt.datetime
    tickets: tuple[TicketRecord, ...]
    next_due: dict[int, dt.datetime]


class TicketDesk(Generic[_R]):
    """`messages` builds the renderer for a configuration (notify's `Routing.from_config`
    in the daemon); `self.messages` is the current one, for others that page (escalation)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Config,
        *,
        messages: Callable[[Config], _R],
        retry_every: float = 5.0,
        on_response: Callable[[str, float], None] = lambda _kind, _seconds: None,
        windows: Windows | None = None,
    ):
        self._store, self._clock, self._retry_every = store, clock, retry_every
        # Seconds from opening to acknowledgement / arrival on site, seen once per process;
        # what happened before this process started is marked seen on the first pass.
        self._on_response = on_response
        self._responses_seen: set[tuple[int, EventKind]] = set()
        self._first_pass = True
        self._next_due: dict[int, dt.datetime] = {}
        self.board = Board(clock.now(), (), {})
        self.breaches = 0
        # Ticket writes for one root run one at a time (see `_open`).
        self._locks: dict[str, asyncio.Lock] = {}
        self._queued: dict[str, asyncio.Task[None]] = {}
        # Openings of different roots that arrive while one is written share the next
        # thread call (group commit, as the recorder does): see `_write_openings`.
        self._openings: list[tuple[tickets.FaultTicket, asyncio.Future[_Opened]]] = []
        self._opener: asyncio.Task[None] | None = None
        self._alone: set[asyncio.Task[None]] = set()  # referenced until done
        # Roots whose ticket a maintenance window held back; `release_held` opens them once
        # the window is over. A restart rebuilds the set: `reconcile` holds them again.
        self._windows = windows
        self.held: set[str] = set()
        self._messages_for = messages
        self.apply(config)

    def apply(self, config: Config) -> None:
        self.config = config
        self.devices = config.by_id()
        contracts = {c.id: c for c in config.contracts}
        self.contract_of_site: dict[str, Contract] = {
            s.id: contracts[s.contract] for s in config.sites if s.contract in contracts
        }
        self.zone_of_site = {s.id: s.zone.value for s in config.sites}
        self.messages = self._messages_for(config)  # messages go out with their events

    async def on_transition(self, t: Transition, tracker: HealthView) -> None:
        device = self.devices.get(t.device_id)
        if device is None or device.site not in self.contract_of_site:
            return
        if t.to_state == State.UP and fault_kind(t.from_state) is not None:
            # Recovered only when confirmed UP: a change of kind (down -> degraded) is the
            # same episode still going, updated on its ticket by `_open` (issue 18).
            contract = self.contract_of_site[device.site].id
            async with self._lock(device.id):
                await self._write(
                    lambda: tickets.mark_recovered(
                        self._store, contract, device.id, t.at, self.messages
                    )
                )
        if fault_kind(t.to_state) is not None:
            # A fault replayed from a site's gap says why it is told only now (sites/gap.py).
            late = t.observation.get("delayed")
            await self._open(device, tracker, t.at, late if isinstance(late, dict) else None)
        elif t.to_state == State.UNREACHABLE:
            for root in tracker.roots(device.id):
                if root in self.devices:
                    await self._open(self.devices[root], tracker, t.at)

    async def reconcile(self, tracker: HealthView) -> None:
        """Make the tickets agree with the restored states (after a crash, a reload)."""
        now = self._clock.now()
        for device in self.devices.values():
            if device.site not in self.contract_of_site:
                continue
            state = tracker.state(device.id)
            if state is not None and fault_kind(state) is not None:
                await self._open(device, tracker, now)
        for ticket in await asyncio.to_thread(self._store.tickets.recent, _ACTIVE, None, 10_000):
            if tracker.state(ticket.root_device or "") == State.UP:
                await self._write(
                    partial(
                        tickets.mark_recovered,
                        self._store,
                        ticket.contract,
                        ticket.root_device or "",
                        now,
                        self.messages,
                    )
                )

    def _lock(self, root: str) -> asyncio.Lock:
        return self._locks.setdefault(root, asyncio.Lock())

    async def _open(
        self, device: Device, tracker: HealthView, at: dt.datetime, late: _Late = None
    ) -> None:
        """Bring the root's ticket up to date with the tracker; returns once that is written.

        A storm sends many callers for one root at once (each camera that goes UNREACHABLE
        behind a dead switch). Run concurrently, their writes raced: an older, smaller
        impact could commit last, and the version conflicts made them give up and retry
        seconds later. So a root's passes run one at a time, each reading the fault when it
        starts; a caller that finds a pass queued (not started) joins it, since that pass
        will see the caller's state too.
        """
        queued = self._queued.get(device.id)
        if queued is None:
            queued = asyncio.create_task(self._open_pass(device, tracker, at, late))
            self._queued[device.id] = queued
        await asyncio.shield(queued)

    async def _open_pass(
        self, device: Device, tracker: HealthView, at: dt.datetime, late: _Late
    ) -> None:
        async with self._lock(device.id):
            if self._queued.get(device.id) is asyncio.current_task():
                del self._queued[device.id]  # from here on a change needs another pass
            await self._open_now(device, tracker, at, late)

    async def _open_now(
        self, device: Device, tracker: HealthView, at: dt.datetime, late: _Late = None
    ) -> None:
        fault = tracker.fault(device, self.config)
        if fault is None:
            return
        windows = self._windows
        if windows is not None and await asyncio.to_thread(windows.covers, device.id, at):
            if device.id not in self.held:
                _log.info("no ticket during maintenance window", device=device.id)
            self.held.add(device.id)
            return
        contract = self.contract_of_site[device.site]
        title = f"{device.name} ({device.id}): {fault.kind.value}"
        wanted = tickets.FaultTicket(fault, contract, at, title, late)
        ticket, created = await self._open_queued(wanted)
        if created:
            _log.warning(
                "ticket opened",
                ticket=ticket.id,
                ticket_class=ticket.ticket_class,
                rule=ticket.rule,
                device=device.id,
                site=device.site,
                impacted=len(ticket.impacted),
            )

    async def _open_queued(self, wanted: tickets.FaultTicket) -> _Opened:
        """`open_for_fault` for one root, written with the others queued meanwhile."""
        done: asyncio.Future[_Opened] = asyncio.get_running_loop().create_future()
        self._openings.append((wanted, done))
        if self._opener is None or self._opener.done():
            self._opener = asyncio.create_task(self._write_openings(), name="ticket-opener")
        return await asyncio.shield(done)

    async def _write_openings(self) -> None:
        """Write what is queued until nothing is; each batch retried as `_write` does.

        Each root has at most one pass in flight (its lock), so a batch holds distinct
        roots; a storm of 200 roots is a few thread calls, not 200.
        """
        while self._openings:
            batch, self._openings = self._openings, []
            wanted = [w for w, _ in batch]
            if len(batch) == 1:  # no storm: the one-by-one path, as ever
                self._open_alone(*batch[0])
                continue
            try:
                results = await self._write(
                    partial(tickets.open_for_faults, self._store, wanted, self.messages)
                )
            except Exception as exc:  # noqa: BLE001 - a bug, not the database: tell the callers
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (w, done), result in zip(batch, results, strict=True):
                if result is None:  # not the storm's simple case: the one-by-one path
                    self._open_alone(w, done)
                elif not done.done():
                    done.set_result(result)

    def _open_alone(self, w: tickets.FaultTicket, done: asyncio.Future[_Opened]) -> None:
        async def one() -> None:
            try:
                opened = await self._write(
                    partial(
                        tickets.open_for_fault,
                        self._store, w.fault, w.contract, w.at, w.title, self.messages, w.late,
                    )
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - a bug, not the database: tell the caller
                if not done.done():
                    done.set_exception(exc)
                return
            if not done.done():
                done.set_result(opened)

        task = asyncio.create_task(one(), name="ticket-opener-one")
        self._alone.add(task)
        task.add_done_callback(self._alone.discard)

    async def release_held(self, tracker: HealthView) -> None:
        """Open the tickets held back by windows that are over; a recovered root opens none."""
        now = self._clock.now()
        for device_id in sorted(self.held):
            device = self.devices.get(device_id)
            if device is None or device.site not in self.contract_of_site:
                self.held.discard(device_id)
                continue
            if self._windows is not None and await asyncio.to_thread(
                self._windows.covers, device_id, now
            ):
                continue
            self.held.discard(device_id)
            await self._open(device, tracker, now)

    async def run_clocks(self, every: float = 30.0) -> None:
        """Warn before a deadline breaches and record the breach, each exactly once."""
        await repeat(partial(self.clocks_step, every), self._clock)

    async def clocks_step(self, every: float = 30.0) -> float:
        """One pass of the SLA clocks; returns the seconds until the next."""
        try:
            await asyncio.to_thread(self.tick, self._clock.now())
        except StoreError as exc:
            _log.error("cannot check SLA clocks", error=str(exc))
        return every

    def tick(self, now: dt.datetime) -> int:
        """One pass over active tickets; returns how many events it added."""
        added = 0
        self._next_due = {}
        active = self._store.tickets.recent(_ACTIVE, None, 10_000)
        for ticket in active:
            added += self._tick_one(ticket, now)
        self._first_pass = False
        self.board = Board(now, tuple(active), dict(self._next_due))
        return added

    def _tick_one(self, ticket: TicketRecord, now: dt.datetime) -> int:
        contract = self.contract_of_site.get(ticket.site_id)
        found = self._store.tickets.get(ticket.id)
        if contract is None or found is None:
            return 0
        _, records = found
        events = as_events(records)
        self._note_responses(ticket.id, events)
        said = {(e.kind, e.data.get("milestone"), e.data.get("fraction")) for e in events}
        zone = self.zone_of_site.get(ticket.site_id, "city")
        added = 0
        for d in deadlines(events, contract, zone, now):
            if d.met_at is not None or d.due is None:
                continue
            soonest = self._next_due.get(ticket.id)
            self._next_due[ticket.id] = min(soonest, d.due) if soonest else d.due
            due = d.due.isoformat()
            if d.breached(now) and (EventKind.SLA_BREACH, d.milestone, None) not in said:
                tickets.append(
                    self._store,
                    ticket.id,
                    EventKind.SLA_BREACH,
                    tickets.SYSTEM,
                    now,
                    f"{d.milestone} deadline passed",
                    {"milestone": d.milestone, "due": due},
                    self.messages,
                )
                _log.warning("SLA breached", ticket=ticket.id, milestone=d.milestone, due=due)
                self.breaches += 1
                added += 1
                continue
            for fraction in contract.warn_at:
                key = (EventKind.SLA_WARNING, d.milestone, fraction)
                if d.elapsed_fraction(now) >= fraction and key not in said:
                    tickets.append(
                        self._store,
                        ticket.id,
                        EventKind.SLA_WARNING,
                        tickets.SYSTEM,
                        now,
                        f"{d.milestone}: {fraction:.0%} of the time used",
                        {"milestone": d.milestone, "fraction": fraction, "due": due},
                        self.messages,
                    )
                    added += 1
        return added

    def _note_responses(self, ticket_id: int, events: list[TicketEvent]) -> None:
        for e in events:
            key = (ticket_id, e.kind)
            if e.kind in _RESPONSES and key not in self._responses_seen:
                self._responses_seen.add(key)
                if not self._first_pass:
                    self._on_response(e.kind.value, (e.at - events[0].at).total_seconds())

    async def _write(self, action: Callable[[], _T]) -> _T:
        # Never drop a ticket: the database may come back (disk freed, restarted).
        return await retry(
            partial(asyncio.to_thread, action),
            self._clock,
            Backoff(self._retry_every, self._retry_every),
            StoreError,
            lambda exc: _log.error("cannot write ticket; retrying", error=str(exc)),
        )
