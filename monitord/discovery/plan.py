"""A discovery run from start to applied change set, the one path the CLI and the console
share: which ranges a run may probe (`plan`), the probing (`probe`), the change set it
proposes (`proposal`) and writing the reviewed part of it (`apply_items`).

Nothing here prints or renders: `monitord discover` and the console's discovery page put
their own words on the same results, so a run started from either proposes the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitord.config import Config
from monitord.config.discovery import DiscoverySettings
from monitord.config.models import Site
from monitord.discovery.apply import Applied, apply
from monitord.discovery.propose import Item, propose
from monitord.discovery.run import Found, Status, discover
from monitord.discovery.scope import Scope, ScopeError, networks
from monitord.store import Store


class PlanError(Exception):
    """A run that may not start: `key` is the CLI catalogue's word for why, `subject` what."""

    def __init__(self, subject: str, key: str | None = None) -> None:
        super().__init__(subject)
        self.subject, self.key = subject, key


@dataclass(frozen=True, slots=True)
class Plan:
    site: Site
    settings: DiscoverySettings
    scope: Scope


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
    return Plan(site, site.discovery, scope)


async def probe(p: Plan, now: Callable[[], dt.datetime], status: Status) -> Found:
    """The probing itself, here in this process (discovery/runner.py decides where)."""
    return await discover(p.settings, p.scope, now, status)


def proposal(found: Found, p: Plan, config: Config, store: Store) -> list[Item]:
    """The change set, against the configuration and the MAC->port history in the store.
    Missing devices are those configured at an address the run covered and not seen."""
    last = {mac: s.position for mac, s in store.macs.last(p.site.id).items()}
    covered = frozenset(
        d.address for d in config.devices if d.site == p.site.id and p.scope.allows(d.address)
    )
    return propose(found, p.site.id, config.devices, last=last, in_scope=covered, gaps=True)


def writable(item: Item) -> bool:
    """Whether applying `item` writes something (moved and missing are findings for people)."""
    return bool(item.record) and item.change in ("new", "address", "firmware", "parent", "facts")


def apply_items(
    config_path: Path, config: Config, site: str, items: Sequence[Item],
    principal: Mapping[str, str],
) -> tuple[Applied, dict[str, Any]]:  # fmt: skip
    """Write the reviewed `items` into the site's file and record who applied what; the
    result and the ledger's entry."""
    from monitord.discovery import ledger

    done = apply(config_path, site, items, {d.id for d in config.devices})
    return done, ledger.record(config.state_dir, site, items, done, principal)
