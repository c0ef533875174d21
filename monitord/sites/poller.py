"""`monitord poller run`: the site poller's daemon.

The same ICMP loop as the centre (`checks/icmp/watch.Fleet`, the same `HealthTracker`: one
code path for SOFT->HARD, flapping and topology) and the same watches (checks/base.py
WATCHES: SNMP with traps, TCP, ONVIF with RTSP), with one difference: what they confirm is
written to the site's journal instead of the centre's store. The uplink task
ships the journal in order and prunes what the centre acknowledged; while no centre answers
it keeps everything, and polling goes on from the last configuration it was given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from monitord import __version__, log, sdnotify
from monitord.checks.base import WATCHES, Deps, Watch, WatchKind
from monitord.checks.icmp.client import Pinger
from monitord.checks.icmp.metrics import DaemonMetrics
from monitord.checks.icmp.watch import Fleet
from monitord.clock import Clock, SystemClock
from monitord.config import Config
from monitord.health.states import State
from monitord.health.tracker import Transition
from monitord.prevention.history import HistoryRecorder, hour_of
from monitord.scheduler import Scheduler
from monitord.sites.identity import CONFIG, JOURNAL, PINS, SECRETS, Identity, write_private
from monitord.sites.journal import CAP, Cut, Journal
from monitord.sites.link import Link, LinkDown, LinkRefused
from monitord.sites.orders import Orders
from monitord.sites.sitestore import SiteStore
from monitord.sites.skew import MAX_ROUND_TRIP
from monitord.sites.wire import (
    MAX_BATCH,
    MAX_ROLLUPS,
    MINOR,
    ROLLUPS_MINOR,
    ConfigOut,
    PushIn,
    Rollup,
)
from monitord.sites.wire import Clock as WireClock
from monitord.store.records import MetricHour
from monitord.supervise import Backoff, Supervisor, retry

_log = log.get("monitord.poller")
_FOLLOW_RETRY = 5.0  # seconds before a failed long poll is tried again
# An hour is shipped this long after it ended: the history recorder flushes every 5 minutes,
# so by then every sample of it is in the journal (a later one is let go).
_CLOSE_AFTER = dt.timedelta(minutes=10)


class JournalWriter:
    """The poller's `StateWriter`: a transition is durable once it is in the journal."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    def checked(self, device_id: str, at: dt.datetime) -> None:
        pass  # last-check times stay at the site

    async def record(self, t: Transition) -> None:
        seq = await asyncio.to_thread(self._journal.append, t)
        _log.info(
            "journaled", seq=seq, device=t.device_id, to_state=t.to_state.value,
            at=t.at.isoformat(),
        )  # fmt: skip


class Uplink:
    """One pass: push the oldest unacknowledged entries (or a heartbeat), prune, follow
    configuration changes."""

    def __init__(
        self, journal: Journal, link: Link, clock: Clock, heartbeat: float, revision: str
    ) -> None:
        self._journal, self._link, self._clock = journal, link, clock
        self._heartbeat, self.revision = heartbeat, revision
        self._last = float("-inf")
        self._down = False
        self._sample: WireClock | None = None
        self.new_config: ConfigOut | None = None

    async def step(self) -> float:
        pending = await asyncio.to_thread(self._journal.pending, MAX_BATCH)
        hours = [] if pending else await self._finished_hours()  # state changes go first
        if not pending and not hours and self._clock.monotonic() - self._last < self._heartbeat:
            return 0.5
        sent = self._clock.now()
        body = PushIn(sent_at=sent, version=__version__, entries=tuple(pending))
        if self._link.minor >= 1:  # a 1.0 centre refuses keys it does not know
            backlog = await asyncio.to_thread(self._journal.backlog)
            body = body.model_copy(update={"backlog": backlog, "clock": self._sample})
        if self._link.minor >= ROLLUPS_MINOR:
            dropped = await asyncio.to_thread(self._journal.dropped)
            body = body.model_copy(
                update={"rollups": tuple(r for _, r in hours) or None, "dropped": dropped}
            )
        try:
            out = await self._link.push(body)
        except LinkDown as exc:
            if not self._down:
                _log.warning("centre unreachable; journaling", error=str(exc))
            self._down = True
            return min(self._heartbeat, 5.0)
        except LinkRefused as exc:
            _log.error("centre refused the poller", error=str(exc))
            return self._heartbeat
        if self._down:
            _log.info("centre reachable again", centre=self._link.centre)
        self._down, self._last = False, self._clock.monotonic()
        if out.received_at is not None and out.answered_at is not None:
            # The four times of this exchange go with the next push: the centre's offset.
            # A slow exchange (one that waited out a cut line) measures the delay, not the
            # clock: the last quick one stays the sample.
            sample = WireClock(t0=sent, t1=out.received_at, t2=out.answered_at,
                               t3=self._clock.now())  # fmt: skip
            trip = (sample.t3 - sample.t0) - (sample.t2 - sample.t1)
            if trip.total_seconds() <= MAX_ROUND_TRIP:
                self._sample = sample
        await asyncio.to_thread(self._journal.acknowledge, out.acked)
        if body.rollups:
            await asyncio.to_thread(self._journal.shipped, [i for i, _ in hours])
        if out.revision != self.revision:
            self.new_config = await self._link.configuration()
            self.revision = self.new_config.revision
        return 0.0 if len(pending) == MAX_BATCH or len(hours) == MAX_ROLLUPS else 0.5

    async def _finished_hours(self) -> list[tuple[int, Rollup]]:
        """Closed hours to ship; to a centre older than wire 1.3 none (they are let go, as
        before: it has nowhere to put them), and before the first answer none yet."""
        await asyncio.to_thread(
            self._journal.close_hours, hour_of(self._clock.now() - _CLOSE_AFTER)
        )
        hours = await asyncio.to_thread(self._journal.finished, MAX_ROLLUPS)
        if hours and 0 < self._link.minor < ROLLUPS_MINOR:
            await asyncio.to_thread(self._journal.shipped, [i for i, _ in hours])
            return []
        return hours if self._link.minor >= ROLLUPS_MINOR else []


class PollerDaemon:
    def __init__(
        self, state_dir: Path, clock: Clock | None = None, heartbeat: float = 5.0,
        speaks: int = MINOR, journal_cap: int = CAP,
    ) -> None:  # fmt: skip
        self.state_dir, self.clock, self.heartbeat = state_dir, clock or SystemClock(), heartbeat
        self.journal_cap = journal_cap  # bytes
        self.speaks = speaks  # the wire's minor version (an older one only in tests)
        self._stop = asyncio.Event()
        self.orders: Orders | None = None  # the centre's commands, while running

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        identity = Identity.load(self.state_dir)
        registry = CollectorRegistry()
        supervisor = Supervisor(self.clock, registry)
        async with AsyncExitStack() as stack:
            journal = Journal(self.state_dir / JOURNAL, self.journal_cap)
            stack.callback(journal.close)
            link = Link(list(identity.centres), identity.token, self.state_dir / PINS,
                        speaks=self.speaks)  # fmt: skip
            stack.push_async_callback(link.close)
            given = await self._configuration(link)
            config = _as_config(given, self.state_dir)
            pinger = await Pinger.open(None)
            stack.callback(pinger.close)
            scheduler = Scheduler(
                self.clock,
                lambda device: fleet.check(device),
                config.max_in_flight,
                on_beat=partial(supervisor.beat, "scheduler"),
            )
            writer = JournalWriter(journal)
            metrics = DaemonMetrics(registry)
            fleet = Fleet(config, pinger, self.clock, metrics, writer, scheduler.check_soon)
            for device, (state, since) in journal.states().items():
                fleet.tracker.restore(device, State(state), since)
            scheduler.set_devices(fleet.intervals())
            # The centre's watches, unchanged, writing to the journal (sites/sitestore.py);
            # the hourly history they gather goes into the journal's rollups.
            history = HistoryRecorder(JournalHours(journal, identity.poller, identity.sites),
                                      config.history.retention)  # fmt: skip
            deps = Deps(config, SiteStore(journal), self.clock, registry,
                        scheduler.check_soon, history, {})  # fmt: skip
            watches: dict[str, Watch] = {}
            stack.push_async_callback(_stop_all, watches)
            for kind in WATCHES:
                if kind.wanted(config) and (opened := await _open(kind, deps)) is not None:
                    watches[kind.name] = opened
            uplink = Uplink(journal, link, self.clock, self.heartbeat, given.revision)
            current = [config]  # the latest, for the centre's commands
            orders = self.orders = Orders(link, lambda: current[0], self.clock)
            stack.push_async_callback(orders.close)

            async def adopt(new: ConfigOut) -> None:
                self._save(new)
                changed = current[0] = _as_config(new, self.state_dir)
                fleet.apply(changed)
                for kind in WATCHES:
                    running = watches.get(kind.name)
                    if running is not None:
                        running.apply(changed)
                    elif kind.wanted(changed):
                        opened = await _open(kind, replace(deps, config=changed))
                        if opened is not None:
                            watches[kind.name] = opened
                            supervisor.service(kind.name, opened.run)
                scheduler.set_devices(fleet.intervals())
                _log.info("configuration changed", revision=new.revision,
                          devices=len(fleet.devices))  # fmt: skip

            async def follow_step() -> float:
                """Long-poll the centre (wire 1.1): a change there reaches the site within
                a round trip, not at the next heartbeat."""
                if link.minor < 1:
                    return self.heartbeat  # a 1.0 centre: the push answers carry revisions
                try:
                    new = await link.changed_configuration(uplink.revision)
                except LinkDown:
                    return _FOLLOW_RETRY
                except LinkRefused:
                    return _FOLLOW_RETRY * 12
                if new is not None and (new.commands or new.cancel):
                    orders.take(new.commands or (), new.cancel or ())  # run beside polling
                if new is not None and new.config is not None and new.revision != uplink.revision:
                    uplink.revision = new.revision
                    await adopt(new)
                return 0.0

            async def uplink_step() -> float:
                wait = await uplink.step()
                if uplink.new_config is not None:
                    new, uplink.new_config = uplink.new_config, None
                    await adopt(new)
                return wait

            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop)
                stack.callback(loop.remove_signal_handler, sig)
            sup = await stack.enter_async_context(supervisor)
            sup.service("scheduler", scheduler.run, critical=True)
            sup.periodic("uplink", uplink_step)
            sup.periodic("config-follow", follow_step)
            for name, watch in watches.items():
                sup.service(name, watch.run)
            sup.periodic("history", partial(history.step, self.clock, 300.0), first_after=300.0)
            _log.info(
                "poller started", poller=identity.poller, devices=len(fleet.devices),
                backlog=journal.backlog(),
            )  # fmt: skip
            watchdog = sdnotify.watchdog_interval()
            if watchdog is not None:
                sup.feed_watchdog(watchdog)  # only while the ICMP loop makes progress
            sdnotify.notify("READY=1")
            await self._stop.wait()
            _log.info("poller stopping")
            await sup.cancel("scheduler", *watches)
            await _stop_all(watches)
            await sup.cancel_all()

    async def _configuration(self, link: Link) -> ConfigOut:
        """From the centre; while none answers, the last one it gave (keep polling)."""
        cached = self.state_dir / CONFIG
        try:
            given = await link.configuration()
        except LinkDown as exc:
            if cached.exists():
                _log.warning(
                    "centre unreachable; polling from the last configuration", error=str(exc)
                )
                return ConfigOut.model_validate_json(cached.read_text())

            def failed(exc: Exception) -> None:
                _log.warning("centre unreachable and no configuration yet", error=str(exc))

            given = await retry(link.configuration, self.clock, Backoff(5, 60), LinkDown, failed)
        self._save(given)
        return given

    def _save(self, given: ConfigOut) -> None:
        kept = given.model_copy(update={"commands": None, "cancel": None})  # not for a restart
        write_private(self.state_dir / CONFIG, kept.model_dump_json(exclude_none=True))


class JournalHours:
    """The history recorder's store at a site: the journal's rollups (shipped to the centre
    once an hour is closed). A flush that meets the journal's cap logs what it dropped."""

    def __init__(self, journal: Journal, poller: str, sites: Sequence[str]) -> None:
        self._journal, self._poller, self._sites = journal, poller, list(sites)

    @property
    def metric_history(self) -> JournalHours:
        return self

    def add(self, rows: Sequence[MetricHour]) -> None:
        cut = self._journal.add_hours(rows)
        if cut is not None:
            _report_cut(cut, self._journal.cap, self._poller, self._sites)

    def prune(self, before_hour: int) -> int:
        return 0  # the cap bounds the journal; the centre prunes by its retention


def _report_cut(cut: Cut, cap: int, poller: str, sites: Sequence[str]) -> None:
    def at(hour: int | None) -> str | None:
        return None if hour is None else dt.datetime.fromtimestamp(hour * 3600, dt.UTC).isoformat()

    if cut.rollups:
        _log.warning("journal at its cap; the oldest rollups dropped", poller=poller,
                     sites=sites, rollups=cut.rollups, bytes=cut.bytes, cap=cap,
                     oldest=at(cut.oldest_hour), newest=at(cut.newest_hour))  # fmt: skip
    else:
        _log.error("journal over its cap with entries alone; nothing dropped", poller=poller,
                   sites=sites, cap=cap)  # fmt: skip


async def _open(kind: WatchKind, deps: Deps) -> Watch | None:
    """Open a watch; one that cannot start (the trap port taken or privileged) is logged and
    tried again at the next configuration. The centre refuses to start instead, where an
    operator sees it; a site box that stopped would leave the whole site unwatched."""
    try:
        return await kind.open(deps)
    except Exception as exc:  # noqa: BLE001 - whatever it is, ICMP and the others go on
        _log.error("watch not started", watch=kind.name, error=f"{type(exc).__name__}: {exc}")
        return None


async def _stop_all(watches: dict[str, Watch]) -> None:
    running = list(watches.values())
    watches.clear()
    for watch in running:
        await watch.stop()


def _as_config(given: ConfigOut, state_dir: Path) -> Config:
    """The poller's Config; the secrets that came with it are written to files of their own
    (0600, in a 0700 folder) and the devices refer to those, as an operator's would."""
    if given.config is None:
        raise ValueError("an answer without a configuration is not one to poll from")
    raw = dict(given.config)
    secrets = raw.pop("secrets", {})
    folder = state_dir / SECRETS
    if secrets or folder.exists():
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
        for name, value in secrets.items():
            write_private(folder / _secret_name(name), value)
        for stale in folder.iterdir():
            if stale.name not in secrets:
                stale.unlink()
    return Config.model_validate({**_refer(raw, folder), "state_dir": str(state_dir)})


def _secret_name(name: str) -> str:
    if not name.isalnum():
        raise ValueError("a secret's name from the centre must be alphanumeric")
    return name


def _refer(value: Any, folder: Path) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return {"file": str(folder / _secret_name(str(value["secret"])))}
        return {k: _refer(v, folder) for k, v in value.items()}
    if isinstance(value, list):
        return [_refer(v, folder) for v in value]
    return value
