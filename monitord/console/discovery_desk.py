"""The console's discovery runs: at most one per site, each a supervised task of the daemon,
its progress read live, its change set kept until someone applies (part of) it.

A run's proposal exists only once the probing and the proposing have both finished: a run
cancelled or failed part way leaves none (the same rule as Ctrl-C on the terminal). Where it
probes is its runner's (discovery/runner.py): here, or at the site's poller, whose progress
and change set are then shown and applied here alike - the centre holds the configuration,
and the poller gets the applied change with its next configuration. Each run is kept in the
store (store.discovery) as it starts, ends and is applied: a proposal reviewed after a
restart of the daemon is still the one that run made, and applies without probing again
(`monitord discover`'s runs are kept there too, and shown here when newer); a run the
restart cut short is shown cancelled, with nothing proposed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from monitord import log
from monitord.config import Config
from monitord.console.host import Host
from monitord.discovery import kept
from monitord.discovery.apply import Applied
from monitord.discovery.kept import APPLIED, DONE
from monitord.discovery.plan import ChangeSetError, Plan, Proposal, apply_items, writable
from monitord.discovery.propose import Item
from monitord.discovery.run import Status
from monitord.discovery.runner import Runner, RunRefused
from monitord.store.errors import StoreError
from monitord.store.records import DiscoveryRun

if TYPE_CHECKING:
    from monitord.store import Store

_log = log.get("monitord.console")
RUNNING: Final = "running"
FINISHED: Final = frozenset({DONE, "failed", "cancelled", APPLIED})


@dataclass(slots=True)
class Run:
    id: str
    site: str
    by: str  # the console user who started it
    started: dt.datetime
    status: Status = field(default_factory=Status)
    state: str = RUNNING
    items: tuple[Item, ...] | None = None  # set only when the whole run is done
    error: str = ""
    reason: str = ""  # why it failed where it ran, an i18n key ("cmd_silent", ...)
    where: str = "centre"  # who probes: "centre" or the site poller's id
    finished: dt.datetime | None = None
    applied: Applied | None = None
    reloaded: bool | None = None
    task: asyncio.Task[None] | None = None


class ApplyRefused(Exception):
    """Why an apply was not done: a console word's key (the run moved on, nothing picked)."""


class DiscoveryDesk:
    def __init__(self, store: Store | None = None) -> None:
        self.runs: dict[str, Run] = {}  # the newest run per site
        self.store = store
        self._applying = asyncio.Lock()  # one writer of devices.d/ at a time

    def current(self, site: str) -> Run | None:
        return self.runs.get(site)

    async def recall(self, site: str) -> Run | None:
        """The site's newest run: this process's, or a newer one the store kept (a run
        before a restart, or `monitord discover`'s); one applied elsewhere shows applied."""
        mine = self.runs.get(site)
        if self.store is None or (mine is not None and mine.state == RUNNING):
            return mine
        try:
            row = await asyncio.to_thread(self.store.discovery.latest, site)
        except StoreError as exc:
            _log.warning("discovery runs unreadable", site=site, error=str(exc))
            return mine
        if self.runs.get(site) is not mine:
            return self.runs.get(site)  # a run started meanwhile
        if row is None:
            return mine
        if mine is not None and row.id == mine.id:
            if row.state == APPLIED and mine.state == DONE:
                mine.state, mine.applied = row.state, kept.applied_of(row.applied)
            return mine
        if mine is not None and row.started <= mine.started:
            return mine
        run = _run(row)
        if row.state == RUNNING:
            # The process that ran it has gone, and the run with it. Shown, not written: a
            # second centre on the same database may be running it still.
            run.state, run.finished = "cancelled", run.started
        self.runs[site] = run
        return run

    async def _applied_elsewhere(self, run: Run) -> bool:
        """`monitord discover --apply --run` applied this run meanwhile (the store says so)."""
        if self.store is None:
            return False
        try:
            row = await asyncio.to_thread(self.store.discovery.get, run.id)
        except StoreError:
            return False  # the apply below is still the one reviewed; only the mark is late
        if row is None or row.state != APPLIED:
            return False
        run.state, run.applied = row.state, kept.applied_of(row.applied)
        return True

    async def _keep(self, run: Run) -> None:
        if self.store is None:
            return
        try:
            await asyncio.to_thread(self.store.discovery.save, _record(run))
        except StoreError as exc:  # the run still shows here; only a restart would lose it
            _log.warning("discovery run not kept", site=run.site, run=run.id, error=str(exc))

    def start(
        self, p: Plan, runner: Runner, host: Host, now: Callable[[], dt.datetime], user: str
    ) -> tuple[Run, bool]:
        """The site's run: a new one, or the one still running (and False)."""
        running = self.runs.get(p.site.id)
        if running is not None and running.state == RUNNING:
            return running, False
        run = Run(kept.new_id(), p.site.id, user, now(), where=runner.where)
        self.runs[p.site.id] = run
        run.task = host.spawn(f"discovery-{p.site.id}", self._body(run, p, runner, now))
        return run, True

    async def _body(
        self, run: Run, p: Plan, runner: Runner, now: Callable[[], dt.datetime]
    ) -> None:
        try:
            await self._keep(run)
            done = await runner.run(p, now, run.status)
        except asyncio.CancelledError:
            run.state, run.finished = "cancelled", now()
            await asyncio.shield(self._keep(run))
            raise
        except RunRefused as exc:  # the poller could not take it or did not finish it
            run.state, run.finished, run.reason = "failed", now(), exc.reason
            _log.warning("discovery run refused", site=run.site, by=run.by, where=exc.where,
                         error=exc.reason)  # fmt: skip
            await self._keep(run)
            return
        except Exception as exc:
            run.state, run.finished, run.error = "failed", now(), f"{type(exc).__name__}: {exc}"
            await self._keep(run)
            raise  # the supervisor logs and counts it
        run.items, run.state, run.finished = done.items, DONE, now()
        await self._keep(run)
        _log.info("discovery run done", site=run.site, by=run.by, where=done.where,
                  changes=len(done.items), sent=done.sent)  # fmt: skip

    def cancel(self, site: str) -> bool:
        run = self.runs.get(site)
        if run is None or run.state != RUNNING or run.task is None:
            return False
        run.task.cancel()
        return True

    async def apply(
        self, site: str, run_id: str, picks: Sequence[int], host: Host, config: Config,
        principal: Mapping[str, str],
    ) -> Run:  # fmt: skip
        """Write the picked changes of the site's reviewed run, then reload the daemon."""
        async with self._applying:
            run = await self.recall(site)
            if run is None or run.id != run_id or run.state != DONE or run.items is None:
                raise ApplyRefused("disc_stale")
            if await self._applied_elsewhere(run):
                raise ApplyRefused("disc_stale")
            items = run.items
            chosen = [items[i] for i in sorted(set(picks)) if 0 <= i < len(items)]
            chosen = [i for i in chosen if writable(i)]
            if not chosen:
                raise ApplyRefused("disc_pick_none")
            done, entry = await asyncio.to_thread(
                apply_items, host.config_path, config, site, chosen, principal
            )
            _log.info("discovered changes applied", **_loggable(entry))
            run.applied, run.state = done, APPLIED
            await self._keep(run)  # applied: never applied twice, not after a restart either
            run.reloaded = await host.reload() if done.added or done.updated else None
            await self._keep(run)
            return run


def _record(run: Run) -> DiscoveryRun:
    proposal = None if run.items is None else Proposal(run.items, where=run.where).data(run.site)
    applied = None if run.applied is None else kept.applied_data(run.applied)
    return DiscoveryRun(run.id, run.site, run.by, run.where, run.state, run.started,
                        run.finished, run.reason, run.error, proposal, applied, run.reloaded)  # fmt: skip


def _run(row: DiscoveryRun) -> Run:
    run = Run(row.id, row.site, row.by, row.started, state=row.state, error=row.error,
              reason=row.reason, where=row.where, finished=row.finished,
              reloaded=row.reloaded, applied=kept.applied_of(row.applied))  # fmt: skip
    if row.proposal is not None:
        try:
            run.items = Proposal.of(row.proposal, row.site, row.where).items
        except ChangeSetError as exc:  # a row damaged by hand: nothing to apply from it
            run.state, run.error = "failed", str(exc)[:500]
    return run


def _loggable(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "changes"} | {
        "changes": [f"{c['change']} {c['device']}" for c in entry.get("changes", [])]
    }
