"""Where a discovery run probes: multicast and SADP are L2-local, so a run must happen on the
site's own segments - in this process for a `local` site, at the site's poller otherwise.

A poller site's run goes down the command channel (sites/commands.py): the poller plans,
probes and proposes with discovery/plan.py as `monitord discover` would, its progress comes
back as data and is shown as a run here is; its change set comes back with each change's
record, to be reviewed and applied at the centre, which holds the configuration. Nothing
probes a poller site's ranges from the centre.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from contextlib import aclosing
from typing import TYPE_CHECKING, Protocol

from monitord import log
from monitord.config.models import Site
from monitord.discovery.plan import (
    ChangeSetError,
    Plan,
    Proposal,
    follow,
    last_positions,
    probe,
    proposed,
)
from monitord.discovery.run import Status

if TYPE_CHECKING:
    from monitord.sites.commands import Commands
    from monitord.store import Store

_log = log.get("monitord.discovery")


class Runner(Protocol):
    @property
    def available(self) -> bool: ...

    @property
    def where(self) -> str: ...

    async def run(self, p: Plan, now: Callable[[], dt.datetime], status: Status) -> Proposal: ...


class RunnerUnavailable(Exception):
    """The site's runner cannot take a run (a poller site with no channel to its poller)."""


class RunRefused(Exception):
    """The run did not happen or did not finish where it runs: `reason` is an i18n key
    (the command channel's "cmd_silent", "cmd_timeout", ..., or the plan's "outside_ranges")."""

    def __init__(self, reason: str, where: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.reason, self.where = reason, where


class LocalRunner:
    """In this process: the daemon polls the site itself, so it sits on the site's segments."""

    available = True
    where = "centre"

    def __init__(self, store: Store | None = None) -> None:
        self.store = store  # the MAC->port history "moved" is measured against

    async def run(self, p: Plan, now: Callable[[], dt.datetime], status: Status) -> Proposal:
        found = await probe(p, now, status)
        last = {} if self.store is None else await asyncio.to_thread(
            last_positions, self.store, p.site.id)  # fmt: skip
        items = await asyncio.to_thread(proposed, found, p, last)
        return Proposal(tuple(items), found.sent, tuple(found.wsd.refused),
                        found.wsd.refused_count)  # fmt: skip


class PollerRunner:
    """At the site's poller, through the command channel; unavailable without one."""

    def __init__(self, poller: str, commands: Commands | None = None) -> None:
        self.poller, self.commands = poller, commands

    @property
    def available(self) -> bool:
        return self.commands is not None

    @property
    def where(self) -> str:
        return self.poller

    async def run(self, p: Plan, now: Callable[[], dt.datetime], status: Status) -> Proposal:
        from monitord.sites.commands import Outcome

        if self.commands is None:
            raise RunnerUnavailable(f"site {p.site.id}: runs at poller {self.poller}")
        ranges = [str(n) for n in p.scope.ranges]
        async with aclosing(self.commands.run_discover(p.site.id, ranges)) as steps:
            async for step in steps:
                if not isinstance(step, Outcome):
                    follow(status, step.data)
                elif step.error is not None:
                    raise RunRefused(step.error, step.where or self.poller)
                else:
                    try:
                        return Proposal.of(step.data, p.site.id, step.where)
                    except ChangeSetError as exc:
                        _log.warning("a poller's change set refused", error=str(exc))
                        raise RunRefused("cmd_bad_answer", self.poller) from None
        raise RunRefused("cmd_failed", self.poller)  # the channel ended without an outcome


def runner_for(site: Site, store: Store | None = None, commands: Commands | None = None) -> Runner:
    return LocalRunner(store) if site.poller == "local" else PollerRunner(site.poller, commands)
