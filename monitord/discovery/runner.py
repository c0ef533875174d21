"""Where a discovery run probes: multicast and SADP are L2-local, so a run must happen on the
site's own segments - in this process for a `local` site, at the site's poller otherwise.

The console asks `runner_for(site)`; a poller site's runner says it is not available until
the command channel to site pollers lands (another engineer's work). Then `runner_for`
returns a runner that sends the plan down that channel - a one-line swap here; nothing
probes a poller site's ranges from the centre meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from monitord.config.models import Site
from monitord.discovery.plan import Plan, probe
from monitord.discovery.run import Found, Status


class Runner(Protocol):
    @property
    def available(self) -> bool: ...

    async def run(self, p: Plan, now: Callable[[], dt.datetime], status: Status) -> Found: ...


class RunnerUnavailable(Exception):
    """The site's runner cannot take a run (a poller site, before the command channel)."""


class LocalRunner:
    """In this process: the daemon polls the site itself, so it sits on the site's segments."""

    available = True

    async def run(self, p: Plan, now: Callable[[], dt.datetime], status: Status) -> Found:
        return await probe(p, now, status)


class PollerRunner:
    """At the site's poller; refused until there is a channel to send it the run."""

    available = False

    def __init__(self, poller: str) -> None:
        self.poller = poller

    async def run(self, p: Plan, now: Callable[[], dt.datetime], status: Status) -> Found:
        raise RunnerUnavailable(f"site {p.site.id}: runs at poller {self.poller}")


def runner_for(site: Site) -> Runner:
    return LocalRunner() if site.poller == "local" else PollerRunner(site.poller)
