"""A discovery run from start to applied change set, the one path the CLI, the console and
the site pollers share: which ranges a run may probe (`plan`), the probing (`probe`), the
change set it proposes (`proposal`) and writing the reviewed part of it (`apply_items`).

A run away from a terminal - a site poller's "discover" order, or the centre's for a `local`
site (sites/commands.py) - is `run_as_data`: its progress (`progress`) and its change set
(`Proposal.data`, each change with its record) as plain data, the command channel's wire;
the centre turns them back into a Status (`follow`) and a Proposal (`Proposal.of`) to show
and apply, so a run at a poller reads exactly like one here.

Nothing here prints or renders: `monitord discover` and the console's discovery page put
their own words on the same results, so a run started from either proposes the same.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from monitord.config import Config
from monitord.config.discovery import DiscoverySettings
from monitord.config.models import Device, Site
from monitord.discovery.apply import UPDATES, Applied, apply
from monitord.discovery.propose import Item, Position, propose
from monitord.discovery.run import Found, Status, discover
from monitord.discovery.scope import Scope, ScopeError, networks
from monitord.store import Store

EVERY: Final = 0.5  # seconds between two looks at a run's progress (`watched`)
# What apply.merge writes: a new device, and the changes it has fields to update for.
WRITABLE: Final = frozenset({"new", *UPDATES})
_MANY: Final = 20_000  # changes (and refused replies) taken from a run elsewhere, at most


class PlanError(Exception):
    """A run that may not start: `key` is the CLI catalogue's word for why, `subject` what."""

    def __init__(self, subject: str, key: str | None = None) -> None:
        super().__init__(subject)
        self.subject, self.key = subject, key


class ChangeSetError(Exception):
    """A change set from elsewhere that is not one (which change, and what is wrong)."""


@dataclass(frozen=True, slots=True)
class Plan:
    site: Site
    settings: DiscoverySettings
    scope: Scope
    devices: tuple[Device, ...] = ()  # the configured ones the change set is against


@dataclass(frozen=True, slots=True)
class Proposal:
    """A finished run's change set and what the run saw of refused replies; `where` ran it."""

    items: tuple[Item, ...]
    sent: int = 0
    refused: tuple[str, ...] = ()
    refused_count: int = 0
    where: str = "centre"

    def data(self, site: str, records: bool = True) -> dict[str, Any]:
        """`monitord discover --json`'s shape; with `records`, each change also carries its
        record and its words' key and values, all it needs to be shown and applied."""
        changes = []
        for i in self.items:
            change: dict[str, Any] = {"change": i.change, "device": i.device,
                                      "address": i.address, "detail": i.detail,
                                      "notes": list(i.notes)}  # fmt: skip
            if records:
                change |= {"record": _plain(i.record), "why": i.why, "args": dict(i.args)}
            changes.append(change)
        return {"site": site, "sent": self.sent, "refused": list(self.refused),
                "refused_count": self.refused_count, "changes": changes}  # fmt: skip

    @classmethod
    def of(cls, data: Mapping[str, Any], site: str, where: str) -> Proposal:
        """Back from `data()` (a site poller's answer about `site`); a malformed change, or
        one for another site, is a ChangeSetError naming it: nothing half-read is applied,
        and a poller proposes for its own site only."""
        changes, refused = data.get("changes"), data.get("refused")
        if data.get("site") != site or not isinstance(changes, list) or len(changes) > _MANY:
            raise ChangeSetError(f"{where}: not a change set of site {site}")
        items = tuple(_item(c, n, where) for n, c in enumerate(changes))
        for i in items:
            if i.record.get("site", site) != site:
                raise ChangeSetError(f"{where}: change {i.device} is for another site")
        said = tuple(str(r)[:500] for r in refused[:_MANY]) if isinstance(refused, list) else ()
        return cls(items, _count(data.get("sent")), said, _count(data.get("refused_count")),
                   where)  # fmt: skip


def plan(config: Config, site_id: str, ranges: Sequence[str] = ()) -> Plan:
    """The run `site_id` may have: its configured ranges, or `ranges` inside them."""
    site = next((s for s in config.sites if s.id == site_id), None)
    if site is None:
        raise PlanError(site_id, "no_site")
    if site.discovery is None:
        raise PlanError(site_id, "no_discovery")
    try:
        allowed = networks(site.discovery.ranges)
        scope = Scope(networks(ranges) if ranges else allowed)
    except ScopeError as exc:
        raise PlanError(str(exc)) from None
    outside = scope.within(allowed)
    if outside:
        raise PlanError(", ".join(str(n) for n in outside), "outside_ranges")
    mine = tuple(d for d in config.devices if d.site == site.id)
    return Plan(site, site.discovery, scope, mine)


async def probe(p: Plan, now: Callable[[], dt.datetime], status: Status) -> Found:
    """The probing itself, here in this process (discovery/runner.py decides where)."""
    return await discover(p.settings, p.scope, now, status)


def proposal(found: Found, p: Plan, config: Config, store: Store) -> list[Item]:
    """The change set, against the configuration and the MAC->port history in the store."""
    mine = tuple(d for d in config.devices if d.site == p.site.id)
    return proposed(found, replace(p, devices=mine), last_positions(store, p.site.id))


def last_positions(store: Store, site: str) -> dict[str, Position]:
    """Each MAC's (switch, port) as last recorded: what "moved" is measured against."""
    return {mac: s.position for mac, s in store.macs.last(site).items()}


def proposed(found: Found, p: Plan, last: Mapping[str, Position]) -> list[Item]:
    """The change set against the plan's devices; missing devices are those configured at
    an address the run covered and not seen."""
    covered = frozenset(d.address for d in p.devices if p.scope.allows(d.address))
    return propose(found, p.site.id, p.devices, last=dict(last), in_scope=covered, gaps=True)


async def run_as_data(
    config: Config, site_id: str, ranges: Sequence[str], last: Mapping[str, Position],
    now: Callable[[], dt.datetime], status: Status,
) -> dict[str, Any]:  # fmt: skip
    """A whole run where this process is (plan, probe, propose): its change set as data.
    Raises PlanError before anything is sent."""
    p = plan(config, site_id, ranges)
    found = await probe(p, now, status)
    items = await asyncio.to_thread(proposed, found, p, last)
    return Proposal(tuple(items), found.sent, tuple(found.wsd.refused),
                    found.wsd.refused_count).data(site_id)  # fmt: skip


def progress(status: Status) -> dict[str, Any]:
    """What the terminal shows (cli/discover_view.py), as data."""
    return {
        "stage": status.stage, "ranges": status.ranges, "addresses": status.addresses,
        "probed": status.probed, "found": status.found, "walked": status.walked,
    }  # fmt: skip


def follow(status: Status, data: Mapping[str, Any]) -> None:
    """A run elsewhere reported `data` (`progress`'s shape): shown as if it ran here."""
    status.stage = str(data.get("stage", status.stage))[:32]
    status.ranges = str(data.get("ranges", status.ranges))[:2000]
    status.addresses = _count(data.get("addresses", status.addresses))
    status.told = _count(data.get("probed", status.told))
    status.found = _count(data.get("found", status.found))
    status.walked = _count(data.get("walked", status.walked))


async def watched(
    run: Callable[[Status], Coroutine[Any, Any, dict[str, Any]]], every: float = EVERY
) -> AsyncGenerator[dict[str, Any], None]:
    """Run `run(status)`, yielding its progress whenever it moved, then its answer last
    (under the key "result"); leaving early cancels the run."""
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


def writable(item: Item) -> bool:
    """Whether applying `item` writes something (moved and missing are findings for people)."""
    return bool(item.record) and item.change in WRITABLE


def apply_items(
    config_path: Path, config: Config, site: str, items: Sequence[Item],
    principal: Mapping[str, str],
) -> tuple[Applied, dict[str, Any]]:  # fmt: skip
    """Write the reviewed `items` into the site's file and record who applied what; the
    result and the ledger's entry."""
    from monitord.discovery import ledger

    done = apply(config_path, site, items, {d.id for d in config.devices})
    return done, ledger.record(config.state_dir, site, items, done, principal)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _item(c: object, n: int, where: str) -> Item:
    if not isinstance(c, Mapping) or not all(
        isinstance(c.get(k), str) for k in ("change", "device", "address", "detail")
    ):
        raise ChangeSetError(f"{where}: change {n} lacks its kind, device, address or detail")
    record, args = c.get("record") or {}, c.get("args") or {}
    if not isinstance(record, Mapping) or not isinstance(args, Mapping):
        raise ChangeSetError(f"{where}: change {n} ({c['device']}): record or values malformed")
    return Item(c["change"], c["device"], c["address"], c["detail"], dict(record),
                tuple(str(x) for x in c.get("notes") or ()), str(c.get("why") or ""),
                {str(k): str(v) for k, v in args.items()})  # fmt: skip


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
