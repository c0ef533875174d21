"""One discovery run of a site as plain data, for whoever runs it away from a terminal: a
site poller (a "discover" command) or the centre for a `local` site (the console).

The one adapter onto what `monitord discover` calls (cli/discover.py: scope, run, propose),
so when those move (monitord/discovery/plan.py) only this file changes. The answer is the
CLI's `--json` change set, each change with its `record` too, so it can be applied.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import Any, Final

from monitord.config import Config
from monitord.discovery.propose import Position, propose
from monitord.discovery.run import Status, discover
from monitord.discovery.scope import Scope, ScopeError, networks

EVERY: Final = 0.5  # seconds between two looks at a run's progress


class PlanError(Exception):
    """The run cannot start (`reason`: an i18n key, as the CLI's refusals)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}{': ' + detail if detail else ''}")
        self.reason, self.detail = reason, detail


def scope_of(config: Config, site_id: str, ranges: Sequence[str]) -> Scope:
    site = next((s for s in config.sites if s.id == site_id), None)
    if site is None:
        raise PlanError("no_site", site_id)
    if site.discovery is None:
        raise PlanError("no_discovery", site_id)
    try:
        allowed = networks(site.discovery.ranges)
        scope = Scope(networks(ranges) if ranges else allowed)
    except ScopeError as exc:
        raise PlanError("outside_ranges", str(exc)) from None
    outside = scope.within(allowed)
    if outside:
        raise PlanError("outside_ranges", ", ".join(str(n) for n in outside))
    return scope


async def plan(
    config: Config, site_id: str, ranges: Sequence[str], last: Mapping[str, Position],
    status: Status, now: Callable[[], dt.datetime],
) -> dict[str, Any]:  # fmt: skip
    scope = scope_of(config, site_id, ranges)
    site = next(s for s in config.sites if s.id == site_id)
    assert site.discovery is not None
    found = await discover(site.discovery, scope, now, status)
    items = propose(found, site_id, config.devices, last=dict(last), gaps=True)
    return {
        "site": site_id, "sent": found.sent,
        "refused": list(found.wsd.refused), "refused_count": found.wsd.refused_count,
        "changes": [{"change": i.change, "device": i.device, "address": i.address,
                     "detail": i.detail, "notes": list(i.notes), "record": _plain(i.record)}
                    for i in items],
    }  # fmt: skip


def progress(status: Status) -> dict[str, Any]:
    """What the terminal shows (cli/discover_view.py), as data."""
    return {
        "stage": status.stage, "ranges": status.ranges, "addresses": status.addresses,
        "probed": status.probed, "found": status.found, "walked": status.walked,
    }  # fmt: skip


async def watched(
    run: Callable[[Status], Any], every: float = EVERY
) -> AsyncGenerator[dict[str, Any], None]:
    """Run `run(status)` (a coroutine function), yielding its progress whenever it moved,
    then its answer last (under the key "result"); leaving early cancels the run."""
    status = Status()
    task = asyncio.ensure_future(run(status))
    shown: dict[str, Any] = {}
    try:
        while True:
            done, _ = await asyncio.wait([task], timeout=every)
            now = progress(status)
            if now != shown and not done:
                shown = now
                yield {"progress": now}
            if done:
                yield {"progress": progress(status), "result": task.result()}
                return
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)  # dates, addresses: as the YAML writer would spell them
