"""The centre's side of the poller link: apply a poller's journal, hand out its configuration.

A poller's confirmed transitions join the same path as the daemon's own: written to the
store first (with the acknowledged sequence, one transaction), then the centre's health
tracker takes the state and the ticket desk acts on it, with the event's original time.
Entries at or below the acknowledged sequence are skipped (dedup by poller and sequence);
entries after a gap wait for the gap to be filled, so the history is applied in order.
Entries replayed after a silence reach the store at once but the desk only when the
journal is drained: sites/gap.py settles the silence's gap as a whole.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Protocol

from monitord import log
from monitord.clock import Clock
from monitord.config import Config
from monitord.health.tracker import HealthTracker, Transition
from monitord.sites.commands import COMMANDS_MINOR, Commands
from monitord.sites.enrolment import poller_config, revision
from monitord.sites.gap import GapReplay
from monitord.sites.skew import SKEWED, clock_findings, corrected, offset, skewed
from monitord.sites.wire import (
    ConfigOut,
    Dropped,
    Entry,
    EventEntry,
    FactsEntry,
    PushIn,
    PushOut,
    Rollup,
    StateEntry,
)
from monitord.store import Store
from monitord.store.fencing import FenceToken, fenced
from monitord.store.pollers import Learnt, PollerRecord
from monitord.store.records import MetricHour, OperationEvent, SavedState

_log = log.get("monitord.sites")
_RELOOK = 5.0  # seconds between looks at a long-polled configuration
# Pushes applied at once; the others wait their turn (not refused: a refused poller looks
# silent). The store has one writer on SQLite anyway, and each push holds a worker thread
# while it waits for it: more at once left no thread for a person's request, whose p99
# went over 5 s while 200 pollers replayed (bench/pollers.py).
PUSH_SLOTS = 2
# A push that waited this long for a place is answered as a heartbeat (seen, nothing
# applied, the acknowledged sequence as it is): a poller's request times out after 10 s,
# and answers nobody reads were all a queue of 200 replaying pollers produced.
SLOT_WAIT = 3.0
HEARTBEAT_BYTES = 4096  # a push body this small (no or few entries) needs no place


class Desk(Protocol):
    async def on_transition(self, t: Transition, tracker: HealthTracker) -> None: ...


class NotYours(Exception):
    """A poller wrote a device outside the sites it was enrolled for."""


class Standby(Exception):
    """Centre HA: this centre does not hold the lease, so it applies no journal."""


class PollerCentre:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        config: Callable[[], Config],
        tracker: HealthTracker,
        desk: Desk | None,
        heard_again: Callable[[PollerRecord], Awaitable[None]] | None = None,
        gap: GapReplay | None = None,
    ) -> None:
        self._store, self._clock, self._config = store, clock, config
        self._tracker, self._desk, self._heard_again = tracker, desk, heard_again
        self._gap = gap or GapReplay(store, clock, config, tracker, desk)
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(PUSH_SLOTS)
        self.slot_wait = SLOT_WAIT  # seconds a push waits for a place (a test shortens it)
        self._revisions: dict[tuple[str, str | None, int], tuple[Config, float, str]] = {}
        self._changed = asyncio.Event()  # set (and replaced) when the configuration changes
        self.waiting = 0  # long polls held now
        self._holding: dict[str, asyncio.Event] = {}  # poller -> its held request's release
        self.commands = Commands(store, clock, config)  # handed out with the long poll
        # poller -> its oldest entry not yet acknowledged, as of its last push (None: drained)
        self.oldest: dict[str, dt.datetime | None] = {}
        # Centre HA (centre/leader.py): the fencing token while this centre leads; None
        # here means HA is off and every push is applied.
        self.leader: Callable[[], FenceToken | None] | None = None
        # What each poller's journal cap dropped, as it last said (wire 1.3): its metric.
        self.dropped: dict[str, Dropped] = {}

    def config_changed(self) -> None:
        """The daemon reloaded its configuration: answer the waiting pollers now."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def configuration_after(
        self, poller: PollerRecord, minor: int, known: str, wait: float
    ) -> ConfigOut | None:
        """A long poll: its configuration as soon as its revision is not `known`, or None
        after `wait` seconds. Woken by `config_changed`; it also looks again every few
        seconds, since a secret's file may change without a reload. To a 1.2 poller it
        also answers as soon as commands wait for it (sites/commands.py): the one held
        connection carries them, so nothing else needs to be open."""
        deadline = self._clock.monotonic() + wait
        # One held request per poller: a new one (a reconnect, a duplicate) answers the old.
        superseded = self._holding.pop(poller.id, None)
        if superseded is not None:
            superseded.set()
        mine = self._holding[poller.id] = asyncio.Event()
        self.waiting += 1
        try:
            return await self._wait_for_change(poller, minor, known, deadline, mine)
        finally:
            self.waiting -= 1
            if self._holding.get(poller.id) is mine:
                del self._holding[poller.id]

    async def _wait_for_change(
        self, poller: PollerRecord, minor: int, known: str, deadline: float, mine: asyncio.Event
    ) -> ConfigOut | None:
        orders = minor >= COMMANDS_MINOR
        while True:
            out = self.configuration(poller, minor)
            if orders and self.commands.waiting(poller.id):
                commands, cancel = self.commands.take(poller.id)
                update = {"commands": commands or None, "cancel": cancel or None}
                if out.revision == known:
                    update["config"] = None  # unchanged: the orders alone
                return out.model_copy(update=update)
            left = deadline - self._clock.monotonic()
            if out.revision != known or left <= 0 or mine.is_set():
                return out if out.revision != known else None
            waits = [
                asyncio.ensure_future(self._changed.wait()),
                asyncio.ensure_future(mine.wait()),
                asyncio.ensure_future(self._clock.sleep(min(left, _RELOOK))),
            ]
            if orders:
                waits.append(asyncio.ensure_future(self.commands.wake(poller.id).wait()))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()

    def configuration(self, poller: PollerRecord, minor: int = 0) -> ConfigOut:
        """Its configuration; from wire 1.1 on with its watches and their secrets."""
        projected = poller_config(self._config(), poller.sites, watches=minor >= 1,
                                  discovery=minor >= COMMANDS_MINOR)  # fmt: skip
        return ConfigOut(
            poller=poller.id, revision=revision(projected, poller.key), config=projected
        )

    async def push(self, poller: PollerRecord, body: PushIn, minor: int = 0) -> PushOut:
        """Apply a push; under HA only on the leader, each write fenced by its epoch (a
        standby raises `Standby`, and the poller fails over to the next centre URL)."""
        if self.leader is None:
            return await self._push(poller, body, minor)
        token = self.leader()
        if token is None:
            raise Standby
        with fenced(token):
            return await self._push(poller, body, minor)

    @asynccontextmanager
    async def place(self) -> AsyncIterator[bool]:
        """One of PUSH_SLOTS for a push with entries: True once it has one, False after
        SLOT_WAIT seconds without (then answer with `held_back`, before reading its body:
        parsing 500 entries only to put them aside was most of a busy centre's work)."""
        try:
            async with asyncio.timeout(self.slot_wait):
                await self._slots.acquire()
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            self._slots.release()

    async def held_back(self, poller: PollerRecord, minor: int) -> PushOut:
        """A push that found no place, answered as a heartbeat: seen (its version, offset
        and backlog as they were), nothing applied, `acked` as it is; it sends them again."""
        if self.leader is not None and self.leader() is None:
            raise Standby
        now = self._clock.now()
        fresh = await asyncio.to_thread(self._store.pollers.get, poller.id)
        version = fresh.version if fresh is not None else None
        await asyncio.to_thread(self._store.pollers.seen, poller.id, now, version)
        acked = fresh.acked_seq if fresh is not None else 0
        revised = self._revision(poller, minor)
        if minor < 1:
            return PushOut(acked=acked, revision=revised)
        return PushOut(acked=acked, revision=revised, received_at=now,
                       answered_at=self._clock.now())  # fmt: skip

    async def _push(self, poller: PollerRecord, body: PushIn, minor: int) -> PushOut:
        config = self._config()
        by_id = config.by_id()
        for name in (*(e.device for e in body.entries), *(r.device for r in body.rollups or ())):
            device = by_id.get(name)
            if device is not None and device.site not in poller.sites:
                raise NotYours(name)
        now = self._clock.now()
        skew, noise = offset(body, now)
        entries = [self._on_our_clock(poller.id, e, skew, noise, now) for e in body.entries]
        lock = self._locks.setdefault(poller.id, asyncio.Lock())
        async with lock:  # one batch of a poller at a time: the sequence is its order
            fresh = await asyncio.to_thread(self._store.pollers.get, poller.id)
            await self._clock_finding(poller, fresh, skew, noise, now, config)
            await asyncio.to_thread(
                self._store.pollers.seen, poller.id, now, body.version, skew, body.backlog
            )
            if fresh is not None and fresh.silent and self._heard_again:
                await self._heard_again(fresh)  # before the replay: it starts from the truth
            gap = fresh is not None and fresh.silent_since is not None
            acked = fresh.acked_seq if fresh is not None else 0
            batch = _contiguous(entries, acked)
            # A device removed from the configuration since the poller journaled it: its
            # entries are acknowledged and dropped, so they cannot wedge the journal.
            known = [e for e in batch if e.device in by_id]
            if len(known) < len(batch):
                gone = sorted({e.device for e in batch if e.device not in by_id})
                _log.warning("poller reported devices no longer configured", poller=poller.id,
                             devices=gone[:10])  # fmt: skip
            if batch:
                upto = batch[-1].seq
                applied = await asyncio.to_thread(
                    self._store.pollers.apply_batch,
                    poller.id,
                    acked,
                    upto,
                    [_change(e) for e in known if not isinstance(e, FactsEntry)],
                    [_learnt(e) for e in known if isinstance(e, FactsEntry)],
                )
                if applied == upto:
                    await self._act(poller.id, known, told=not gap)
                acked = applied
            if body.rollups and not body.entries:  # after every state change, as sent
                hours = [_hour(r) for r in body.rollups if r.device in by_id]
                await asyncio.to_thread(self._store.metric_history.put, hours)
            if body.dropped is not None:
                self._note_dropped(poller, body.dropped)
            self.oldest[poller.id] = _oldest(body, entries, acked)
            if gap and _drained(body, acked):
                after = await asyncio.to_thread(self._store.pollers.get, poller.id)
                if after is not None:
                    await self._gap.settle(after)
        revised = self._revision(poller, minor)
        if minor < 1:
            return PushOut(acked=acked, revision=revised)
        return PushOut(acked=acked, revision=revised, received_at=now,
                       answered_at=self._clock.now())  # fmt: skip

    async def _clock_finding(
        self, poller: PollerRecord, fresh: PollerRecord | None, skew: float, noise: float,
        now: dt.datetime, config: Config,
    ) -> None:  # fmt: skip
        """A clock past SKEWED is a finding on the poller (`monitord pollers list`) and a
        line in the operation record of each device of its sites, once when it crosses
        and once when it comes back; a coarse estimate (noise past SKEWED) decides nothing."""
        if noise >= SKEWED:
            return
        before = fresh.clock_offset if fresh is not None else None
        on = skewed(skew)
        if on == skewed(before):  # no crossing (a first, good measurement included)
            return
        if on:
            _log.warning("site poller's clock is off; its times are corrected",
                         poller=poller.id, offset_s=round(skew, 3))  # fmt: skip
        else:
            _log.info("site poller's clock is right again", poller=poller.id,
                      offset_s=round(skew, 3))  # fmt: skip
        devices = sorted(d.id for d in config.devices_at(poller.sites))
        lines = clock_findings(poller.id, devices, skew, now, on)
        await asyncio.to_thread(self._store.states.record_events, lines)

    def _note_dropped(self, poller: PollerRecord, dropped: Dropped) -> None:
        before = self.dropped.get(poller.id)
        self.dropped[poller.id] = dropped
        if before is not None and dropped.rollups <= before.rollups:
            return
        lost = dropped.rollups - (before.rollups if before is not None else 0)
        _log.warning("site poller's journal dropped rollups at its cap", poller=poller.id,
                     sites=list(poller.sites), rollups=lost, total=dropped.rollups,
                     bytes=dropped.bytes, oldest=_iso_hour(dropped.oldest_hour),
                     newest=_iso_hour(dropped.newest_hour))  # fmt: skip

    def _revision(self, poller: PollerRecord, minor: int) -> str:
        """The revision a push answers with, worked out again only when the configuration
        changed or every _RELOOK seconds (a secret's file may change without a reload, as
        the long poll looks again): projecting and hashing a poller's configuration at
        every heartbeat was most of a centre's steady work with 200 pollers."""
        config, now = self._config(), self._clock.monotonic()
        key = (poller.id, poller.key, minor)
        kept = self._revisions.get(key)
        if kept is not None and kept[0] is config and now - kept[1] < _RELOOK:
            return kept[2]
        revised = self.configuration(poller, minor).revision
        self._revisions[key] = (config, now, revised)
        return revised

    @staticmethod
    def _on_our_clock(
        poller_id: str, e: Entry, skew: float, noise: float, now: dt.datetime
    ) -> Entry:
        fixed, future = corrected(e, skew, now, noise)
        if future:
            _log.warning("future-dated entry re-dated to its arrival", poller=poller_id,
                         seq=e.seq, device=e.device, at=e.at.isoformat(),
                         offset_s=round(skew, 3))  # fmt: skip
        return fixed

    async def _act(self, poller_id: str, batch: Sequence[Entry], told: bool = True) -> None:
        """The batch to the tracker and the log; to the desk unless it is a gap's replay
        (`told` False: the gap is settled when the journal is drained)."""
        for e in batch:
            if not isinstance(e, StateEntry):
                self._told(poller_id, e)
                continue
            t = _transition(e)
            self._tracker.restore(t.device_id, t.to_state, t.at)
            _log.info(
                "device state changed",
                device=t.device_id,
                poller=poller_id,
                from_state=t.from_state.value,
                to_state=t.to_state.value,
                at=t.at.isoformat(),
                reason=t.reason,
            )
            if self._desk is not None and told:
                await self._desk.on_transition(t, self._tracker)

    @staticmethod
    def _told(poller_id: str, e: Entry) -> None:
        # As health/journal.Journal logs a local watch's lines (without the values).
        if isinstance(e, EventEntry) and e.event == "finding":
            _log.info("finding changed", device=e.device, poller=poller_id, at=e.at.isoformat(),
                      from_status=e.from_state, to_status=e.to_state, summary=e.reason)  # fmt: skip
        elif isinstance(e, EventEntry):
            _log.warning("device event", device=e.device, poller=poller_id, kind=e.event,
                         at=e.at.isoformat(), reason=e.reason)  # fmt: skip


def _drained(body: PushIn, acked: int) -> bool:
    """Nothing of the poller's journal is left to replay after this push: it says its
    backlog is no more than it sent (a 1.0 poller does not say: one push), all applied."""
    sent = max((e.seq for e in body.entries), default=0)
    return (body.backlog is None or body.backlog <= len(body.entries)) and acked >= sent


def _oldest(body: PushIn, entries: Sequence[Entry], acked: int) -> dt.datetime | None:
    """The time of the poller's oldest entry still unacknowledged after this push: one it
    sent that is not applied yet, else (a backlog beyond the push) no older than the last
    it sent; None when it is drained."""
    left = [e.at for e in entries if e.seq > acked]
    if left:
        return min(left)
    if body.backlog is not None and body.backlog > len(body.entries) and entries:
        return max(e.at for e in entries)
    return None


def _contiguous(entries: Sequence[Entry], acked: int) -> list[Entry]:
    out: list[Entry] = []
    expect = acked + 1
    for e in sorted(entries, key=lambda e: e.seq):
        if e.seq < expect:
            continue  # applied before: a replay
        if e.seq > expect:
            break  # a gap: wait for the missing entries
        out.append(e)
        expect += 1
    return out


def _transition(e: StateEntry) -> Transition:
    return Transition(e.device, e.at, e.from_state, e.to_state, e.reason, dict(e.observation))


def _change(e: StateEntry | EventEntry) -> tuple[OperationEvent, SavedState | None]:
    if isinstance(e, EventEntry):  # a line of the record as a local watch writes it
        event = OperationEvent(e.device, e.at, e.event, e.from_state, e.to_state, e.reason,
                               {**e.observation, "poller_seq": e.seq})  # fmt: skip
        return event, None
    event = OperationEvent(
        device_id=e.device,
        at=e.at,
        kind="state",
        from_state=e.from_state.value,
        to_state=e.to_state.value,
        reason=e.reason,
        observation={**e.observation, "poller_seq": e.seq},
    )
    return event, SavedState(e.device, e.to_state.value, e.at, e.at, e.reason)


def _hour(r: Rollup) -> MetricHour:
    return MetricHour(r.device, r.metric, r.subject, r.hour, r.n, r.total, r.low, r.high)


def _iso_hour(hour: int | None) -> str | None:
    return None if hour is None else dt.datetime.fromtimestamp(hour * 3600, dt.UTC).isoformat()


def _learnt(e: FactsEntry) -> Learnt:
    return e.device, e.source, e.facts, e.at
