"""The console's discovery runs: at most one per site, each a supervised task of the daemon,
its progress read live, its change set kept until someone applies (part of) it.

A run's proposal exists only once the probing and the proposing have both finished: a run
cancelled or failed part way leaves none (the same rule as Ctrl-C on the terminal). Where it
probes is its runner's (discovery/runner.py): here, or at the site's poller, whose progress
and change set are then shown and applied here alike - the centre holds the configuration,
and the poller gets the applied change with its next configuration. Runs
live in memory: a proposal is reviewed minutes after its run, and a restarted daemon simply
runs again - the network, not this object, is the truth.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from monitord import log
from monitord.config import Config
from monitord.console.host import Host
from monitord.discovery.apply import Applied
from monitord.discovery.plan import Plan, apply_items, writable
from monitord.discovery.propose import Item
from monitord.discovery.run import Status
from monitord.discovery.runner import Runner, RunRefused

_log = log.get("monitord.console")
RUNNING: Final = "running"
DONE: Final = "done"  # a proposal to review
FINISHED: Final = frozenset({DONE, "failed", "cancelled", "applied"})


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
    def __init__(self) -> None:
        self.runs: dict[str, Run] = {}  # the newest run per site
        self._applying = asyncio.Lock()  # one writer of devices.d/ at a time

    def current(self, site: str) -> Run | None:
        return self.runs.get(site)

    def start(
        self, p: Plan, runner: Runner, host: Host, now: Callable[[], dt.datetime], user: str
    ) -> tuple[Run, bool]:
        """The site's run: a new one, or the one still running (and False)."""
        running = self.runs.get(p.site.id)
        if running is not None and running.state == RUNNING:
            return running, False
        run = Run(secrets.token_hex(8), p.site.id, user, now(), where=runner.where)
        self.runs[p.site.id] = run
        run.task = host.spawn(f"discovery-{p.site.id}", self._body(run, p, runner, now))
        return run, True

    async def _body(
        self, run: Run, p: Plan, runner: Runner, now: Callable[[], dt.datetime]
    ) -> None:
        try:
            done = await runner.run(p, now, run.status)
        except asyncio.CancelledError:
            run.state, run.finished = "cancelled", now()
            raise
        except RunRefused as exc:  # the poller could not take it or did not finish it
            run.state, run.finished, run.reason = "failed", now(), exc.reason
            _log.warning("discovery run refused", site=run.site, by=run.by, where=exc.where,
                         error=exc.reason)  # fmt: skip
            return
        except Exception as exc:
            run.state, run.finished, run.error = "failed", now(), f"{type(exc).__name__}: {exc}"
            raise  # the supervisor logs and counts it
        run.items, run.state, run.finished = done.items, DONE, now()
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
            run = self.runs.get(site)
            if run is None or run.id != run_id or run.state != DONE or run.items is None:
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
            run.applied, run.state = done, "applied"
            run.reloaded = await host.reload() if done.added or done.updated else None
            return run


def _loggable(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != "changes"} | {
        "changes": [f"{c['change']} {c['device']}" for c in entry.get("changes", [])]
    }
