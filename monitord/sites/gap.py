"""A site's gap, settled once its journal is replayed: the true history, told once.

While a poller is silent its site journals on. When the line returns the poller is
`replaying` (store/pollers.py: a push after `silent_since`, so a restarted centre knows
it too): the centre applies the replayed entries to the store as ever, but tells the
ticket desk nothing yet (sites/centre.py). Once the poller's journal is drained,
`GapReplay.settle` reads the gap back from the store and:

- a fault still active opens its ticket at the fault's own time (the SLA clocks run from
  there, as the contract says), its messages saying it is told late and why;
- a fault that began and ended inside the gap opens no ticket and pages nobody: it is in
  the operation record and in availability already (the replayed states), and all of a
  site's go to its on-call person in one message (one outbox row, keyed by poller, site
  and the gap's start);
- a fault from before the silence that ended inside it marks its ticket recovered then;
- the "site link lost" ticket gets `recovered`, naming how many entries were replayed.

Everything is read from the store and written idempotently (tickets by dedup key, the
summary by its outbox key, a recovery once), and the gap is closed last, so a centre
killed anywhere in here settles the gap again, to the same end, at the poller's next push.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol
from zoneinfo import ZoneInfo

from monitord import log
from monitord.clock import Clock
from monitord.config import Config
from monitord.config.models import Site
from monitord.health.faults import fault_kind
from monitord.health.states import State
from monitord.health.tracker import HealthTracker, Transition
from monitord.notify.oncall import Directory, address
from monitord.present.i18n import POLLERS, word
from monitord.sites.silence import link_key
from monitord.store import Store
from monitord.store.pollers import PollerRecord
from monitord.store.records import OperationEvent, OutboxRecord, SavedState
from monitord.ticketing import tickets
from monitord.ticketing.lifecycle import EventKind
from monitord.ticketing.ports import MessageRenderer

_log = log.get("monitord.sites")


class Desk(Protocol):
    """What the gap needs of the ticket desk (as sites/centre.Desk)."""

    async def on_transition(self, t: Transition, tracker: HealthTracker) -> None: ...


@dataclass(frozen=True, slots=True)
class Episode:
    """A fault of one device in the gap: `start` None if it began before the silence,
    `end` None if it is still active."""

    device: str
    state: State
    start: dt.datetime | None
    end: dt.datetime | None
    began: Transition | None = None  # the move that began it (None: before the gap)
    ended: Transition | None = None  # the move that ended it
    changed: Transition | None = None  # the last change of kind on the way (down -> degraded)


def _fault(state: str | None) -> State | None:
    try:
        s = State(state) if state else None
    except ValueError:
        return None
    return s if s is not None and fault_kind(s) is not None else None


def episodes(device: str, before: str | None, moves: Sequence[OperationEvent]) -> list[Episode]:
    """The faults of `device` in the gap, from its state before it and its replayed moves."""
    out: list[Episode] = []
    state = _fault(before)
    start: dt.datetime | None = None
    began: Transition | None = None
    changed: Transition | None = None
    for e in moves:
        to = _fault(e.to_state)
        t = Transition(device, e.at, State(e.from_state or "pending"), State(e.to_state or
                       "pending"), e.reason, {})  # fmt: skip
        if state is None and to is not None:
            start, began, changed = e.at, t, None
        elif state is not None and to is None:
            out.append(Episode(device, state, start, e.at, began, t, changed))
            start, began, changed = None, None, None
        elif state is not None and to is not None:
            changed = t
        state = to
    if state is not None:
        out.append(Episode(device, state, start, None, began, None, changed))
    return out


class GapReplay:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Callable[[], Config],
        tracker: HealthTracker,
        desk: Desk | None,
        messages: Callable[[], MessageRenderer | None] = lambda: None,
    ) -> None:
        self._store, self._clock, self._config = store, clock, config
        self._tracker, self._desk, self._messages = tracker, desk, messages

    async def settle(self, p: PollerRecord) -> None:
        """Settle the gap of `p` (read after its last batch was applied): see the module."""
        since = p.silent_since
        if since is None:
            return
        config, until = self._config(), self._clock.now()
        sites = [s for s in config.sites if s.id in p.sites]
        devices = {d.id: d for d in config.devices if d.site in p.sites}
        before = await asyncio.to_thread(self._store.history.states_before, devices, since)
        moves = await asyncio.to_thread(
            self._store.history.operation_events, devices, since, until, ("state",)
        )
        saved = await asyncio.to_thread(self._store.states.load, list(devices))
        for device, s in saved.items():  # after a restart the tracker shows them unknown
            self._tracker.restore(device, State(s.state), s.since)
        by_device: dict[str, list[OperationEvent]] = {}
        for e in moves:
            by_device.setdefault(e.device_id, []).append(e)
        found = [
            ep for d in sorted(devices) for ep in episodes(d, before.get(d), by_device.get(d, []))
        ]
        site_of = {d.id: d.site for d in devices.values()}
        contract_of = {s.id: s.contract for s in sites}
        found = await asyncio.to_thread(lambda: [
            self._unheard(ep, contract_of.get(site_of[ep.device]), saved.get(ep.device))
            for ep in found])  # fmt: skip
        for ep in found:
            late = {"poller": p.id, "site": site_of[ep.device], "from": since.isoformat(),
                    "until": until.isoformat()}  # fmt: skip
            await self._tell(ep, late)
        over = [ep for ep in found if ep.start is not None and ep.end is not None]
        replayed = self._replayed(p, sites)
        for site in sites:
            mine = [ep for ep in over if site_of[ep.device] == site.id]
            await asyncio.to_thread(self._summary, p, site, since, until, mine, config)
            await asyncio.to_thread(self._link_recovered, p, site, since, until, replayed)
        closed = await asyncio.to_thread(self._store.pollers.conclude, p.id, since)
        if closed:
            _log.info("site gap settled", poller=p.id, since=since.isoformat(),
                      until=until.isoformat(), replayed=replayed, still_down=sum(
                          1 for ep in found if ep.end is None and ep.start is not None),
                      over=len(over))  # fmt: skip

    def _unheard(self, ep: Episode, contract: str | None, saved: SavedState | None) -> Episode:
        """A fault dated before the silence, still active, that no ticket knows: its entry
        came only with the replay (journaled after the last push that arrived, or dated a
        moment early by a clock within the noise of the correction). It is told as one
        that began in the gap would be, from the time of its state."""
        if ep.start is not None or ep.end is not None or ep.changed is not None:
            return ep
        if contract is None or saved is None or State(saved.state) != ep.state:
            return ep
        if self._store.tickets.active(tickets.dedup_key(contract, ep.device)) is not None:
            return ep
        began = Transition(ep.device, saved.since, State.UP, ep.state, saved.reason, {})
        return replace(ep, began=began)

    async def _tell(self, ep: Episode, late: dict[str, str]) -> None:
        if self._desk is None:
            return
        if ep.end is None and ep.began is not None:  # still active: its ticket, told late
            t = ep.began
            now = self._tracker.state(ep.device) or ep.state
            moved = Transition(t.device_id, t.at, t.from_state, now, t.reason, {"delayed": late})
            await self._desk.on_transition(moved, self._tracker)
        elif ep.start is None and ep.ended is not None:  # from before the gap: recovered
            await self._desk.on_transition(ep.ended, self._tracker)
        elif ep.start is None and ep.changed is not None:  # from before, changed its kind
            await self._desk.on_transition(ep.changed, self._tracker)
        # Began and ended inside the gap: no ticket, no page (the summary tells it).

    def _replayed(self, p: PollerRecord, sites: Sequence[Site]) -> int | None:
        """Entries acknowledged since the silence began (the link ticket knows where)."""
        for site in sites:
            if site.contract is None:
                continue
            ticket = self._store.tickets.active(self._link_key(p, site))
            found = self._store.tickets.get(ticket.id) if ticket else None
            if found is not None and found[1]:
                acked = found[1][0].data.get("acked")
                if isinstance(acked, int):
                    return p.acked_seq - acked
        return None

    @staticmethod
    def _link_key(p: PollerRecord, site: Site) -> str:
        return link_key(site.contract or "", p.id, site.id)

    def _link_recovered(
        self, p: PollerRecord, site: Site, since: dt.datetime, until: dt.datetime,
        replayed: int | None,
    ) -> None:  # fmt: skip
        if site.contract is None:
            return
        ticket = self._store.tickets.active(self._link_key(p, site))
        if ticket is None or ticket.recovered:
            return
        tz = ZoneInfo(site.timezone)
        text = word(POLLERS, "link_replayed", "en").format(
            n="?" if replayed is None else replayed, from_=_hhmm(since, tz, until),
            until=_hhmm(until, tz, since),
        )  # fmt: skip
        tickets.append(self._store, ticket.id, EventKind.RECOVERED, tickets.SYSTEM, until, text,
                       {"replayed": replayed}, self._messages())  # fmt: skip

    def _summary(
        self, p: PollerRecord, site: Site, since: dt.datetime, until: dt.datetime,
        over: Sequence[Episode], config: Config,
    ) -> None:  # fmt: skip
        if not over:
            return
        to = _on_call(config, site, until)
        if to is None:
            _log.warning("nobody to tell of the faults inside a site's gap", poller=p.id,
                         site=site.id, faults=len(over))  # fmt: skip
            return
        channel, recipient, language, short = to
        tz = ZoneInfo(site.timezone)
        names = {d.id: d.name for d in config.devices}
        span = {"site": site.id, "from_": _hhmm(since, tz, until), "until": _hhmm(until, tz, since),
                "n": len({ep.device for ep in over})}  # fmt: skip
        subject = word(POLLERS, "gap_subject", language).format(**span)
        lines = [word(POLLERS, "gap_head", language).format(**span)]
        for ep in over:
            assert ep.start is not None and ep.end is not None
            lines.append("- " + word(POLLERS, "gap_line", language).format(
                device=ep.device, name=names.get(ep.device, ep.device), state=ep.state.value,
                start=_hhmm(ep.start, tz, since), end=_hhmm(ep.end, tz, since),
            ))  # fmt: skip
        body = subject if short else "\n".join(lines)
        # One row per (poller, site, gap): written again after a restart, it inserts nothing.
        key = f"gap/{p.id}/{site.id}/{since.isoformat()}"
        record = OutboxRecord(channel, recipient, subject, body, key=key)
        self._store.outbox.enqueue([record], until)


def _hhmm(at: dt.datetime, tz: ZoneInfo, other: dt.datetime) -> str:
    """hh:mm in the site's zone; with the date when the gap crosses a day."""
    local = at.astimezone(tz)
    same = local.date() == other.astimezone(tz).date()
    return local.strftime("%H:%M" if same else "%m-%d %H:%M")


def _on_call(config: Config, site: Site, at: dt.datetime) -> tuple[str, str, str, bool] | None:
    """(channel, address, language, short) of the site's on-call person now; without a
    rotation, its contract's first recipient."""
    types = {c.name: c.type for c in config.notify.channels}
    person = Directory.from_config(config).on_call(site.contract or "", site.id, at)
    if person is not None:
        for name, kind in types.items():
            found = address(person, name, kind)
            if found is not None:
                return name, found, person.language, kind == "sms"
    recipients = config.notify.recipients
    for r in (*recipients.get(site.contract or "", ()), *recipients.get("*", ())):
        return r.channel, r.to, r.language, types.get(r.channel) == "sms"
    return None
