"""A silent site poller: its devices show UNKNOWN and one "site link lost" ticket opens.

After `poller_silence` seconds without a heartbeat, every device of the poller's sites
becomes UNKNOWN in the centre's health view (a line in each device's operation record,
but not its saved state: that stays the last the poller confirmed, so the replay starts
from the truth). UNKNOWN is not a fault, so the ticket desk opens no device ticket and
nobody is paged per device; one ticket per site opens instead, classed by the site's
contract (fault `site_link_lost`). The first heartbeat afterwards puts the saved states
back and the replayed journal brings the true history; sites/gap.py settles the gap
(the tickets of faults still active, one summary of those over, that ticket recovered).

The centre's UNKNOWN lines are kind `link`, not `state`: a silence is the centre not
knowing, not the device's state, so availability (reports/monthly.py) is counted from the
poller's replayed states alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable

from monitord import log
from monitord.clock import Clock
from monitord.config import Config
from monitord.config.contracts import FaultKind
from monitord.config.models import Site
from monitord.health.faults import Fault, Impact
from monitord.health.states import State
from monitord.health.tracker import HealthTracker
from monitord.present.i18n import POLLERS, word
from monitord.sites.witness import Look, Verdict, verdict
from monitord.store import Store
from monitord.store.pollers import PollerRecord
from monitord.store.records import OperationEvent
from monitord.ticketing import tickets
from monitord.ticketing.classify import classify
from monitord.ticketing.ports import MessageRenderer

_log = log.get("monitord.sites")


def _en(key: str, **values: object) -> str:
    return word(POLLERS, key, "en").format(**values)


LINK = "link"  # the kind of the centre's silence lines in the operation record


def link_key(contract: str, poller: str, site: str) -> str:
    return tickets.dedup_key(contract, "poller", poller, site)


class SilenceWatch:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Callable[[], Config],
        tracker: HealthTracker,
        messages: Callable[[], MessageRenderer | None],
        every: float = 2.0,
        witness: Look | None = None,
    ) -> None:
        self._store, self._clock, self._config = store, clock, config
        self._tracker, self._messages, self._every = tracker, messages, every
        self._witness = witness  # pings `sites[].poller_witness` (sites/witness.py)
        self.pollers: list[PollerRecord] = []  # as read at the last pass (for /metrics)

    async def step(self) -> float:
        now, config = self._clock.now(), self._config()
        limit = dt.timedelta(seconds=config.poller_silence)
        self.pollers = await asyncio.to_thread(self._store.pollers.all)
        for p in self.pollers:
            if not p.active:
                continue
            heard = p.last_seen or p.enrolled_at
            assert heard is not None  # active: enrolled
            if p.silent_since is None and now - heard > limit:
                marked = await asyncio.to_thread(
                    self._store.pollers.mark_silent, p.id, p.last_seen, heard
                )
                if marked:  # not if a heartbeat came in the meantime
                    await self._go_silent(p, heard, config)
            elif p.silent:
                self._unknown(p, config)  # after a restart of the centre, too
            elif p.replaying and p.last_seen is not None and now - p.last_seen > limit:
                self._unknown(p, config)  # the line dropped again before the replay ended
        return self._every

    async def hold(self) -> None:
        """At start, before the desk reconciles: the devices of a silent or replaying
        poller show unknown, so no ticket opens for them at restart time; the replay
        (sites/gap.py) opens them with their fault's own time."""
        config = self._config()
        for p in await asyncio.to_thread(self._store.pollers.all):
            if p.active and p.silent_since is not None:
                self._unknown(p, config)

    def _devices(self, p: PollerRecord, config: Config, site: str | None = None) -> list[str]:
        return [d.id for d in config.devices_at((site,) if site else p.sites)]

    def _unknown(self, p: PollerRecord, config: Config) -> list[tuple[str, State]]:
        changed: list[tuple[str, State]] = []
        for device in self._devices(p, config):
            before = self._tracker.state(device)
            if before is not None and before != State.UNKNOWN:
                self._tracker.restore(device, State.UNKNOWN, self._clock.now())
                changed.append((device, before))
        return changed

    async def _go_silent(self, p: PollerRecord, since: dt.datetime, config: Config) -> None:
        now = self._clock.now()
        reason = f"poller {p.id} silent since {since.isoformat(timespec='seconds')}"
        lines = [
            OperationEvent(device, now, LINK, before.value, State.UNKNOWN.value, reason)
            for device, before in self._unknown(p, config)
        ]
        await asyncio.to_thread(self._store.states.record_events, lines)
        _log.warning(
            "site poller silent", poller=p.id, since=since.isoformat(), sites=list(p.sites)
        )
        for site in config.sites:
            if site.id not in p.sites or site.contract is None:
                continue
            contract = next((c for c in config.contracts if c.id == site.contract), None)
            if contract is None:
                continue
            devices = tuple(self._devices(p, config, site.id))
            seen = await self._look(site)
            text = _en("link_lost_text", poller=p.id, since=since.isoformat(), n=len(devices))
            data: dict[str, object] = {"poller": p.id, "acked": p.acked_seq}
            if seen is not None:
                text += " " + _en(f"witness_{seen}", address=site.poller_witness)
                data |= {"witness": seen.value, "witness_address": site.poller_witness}
            fault = Fault(p.id, site.id, FaultKind.SITE_LINK_LOST, "poller", "normal",
                          site.zone.value, Impact(devices=devices))  # fmt: skip
            ticket_class, rule = classify(fault, contract)
            request = tickets.TicketRequest(
                key=link_key(contract.id, p.id, site.id),
                contract=contract.id,
                site=site.id,
                kind=FaultKind.SITE_LINK_LOST,
                ticket_class=ticket_class,
                rule=rule,
                title=_en(f"link_lost_title_{seen}" if seen else "link_lost_title", poller=p.id),
                text=text,
                impacted=devices,
                # What was acknowledged: the recovery names how many entries the gap held.
                data=data,
            )
            # The fault began when the heartbeats stopped, not when the timer noticed.
            ticket, opened = await asyncio.to_thread(
                tickets.open_ticket, self._store, request, since, self._messages()
            )
            _log.warning("site link lost", poller=p.id, site=site.id, ticket=ticket.id,
                         opened=opened, witness=seen.value if seen else None)  # fmt: skip

    async def _look(self, site: Site) -> Verdict | None:
        """Line or box: the site's witness pinged now (None without one)."""
        if site.poller_witness is None or self._witness is None:
            return None
        return verdict(await self._witness(site.poller_witness))

    async def heard_again(self, p: PollerRecord) -> None:
        """The first heartbeat after a silence: back to the saved states (the gap's ticket
        is recovered when the replay is over: sites/gap.py)."""
        config, now = self._config(), self._clock.now()
        devices = self._devices(p, config)
        saved = await asyncio.to_thread(self._store.states.load, devices)
        lines = []
        for device in devices:
            s = saved.get(device)
            state, since = (State(s.state), s.since) if s else (State.PENDING, now)
            self._tracker.restore(device, state, since)
            lines.append(OperationEvent(device, now, LINK, State.UNKNOWN.value, state.value,
                                        _en("link_back", poller=p.id)))  # fmt: skip
        await asyncio.to_thread(self._store.states.record_events, lines)
        _log.info("site poller reports again", poller=p.id)
