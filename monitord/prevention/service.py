"""The daemon's preventive pass: create owed inspections, look at follow-ups and warranties.

Every `prevention.check_every` seconds (and at start): inspection tasks owed up to now are
created (missed periods included, once), overdue inspections and follow-up visits are
logged once per process, warranty tickets are opened (one per site and month), and the
counts are left on `board` for /metrics. Nothing depends on when the pass runs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from monitord import log
from monitord.clock import Clock
from monitord.config.models import Config
from monitord.prevention import followups, inspections, warranty
from monitord.store import Store, StoreError
from monitord.store.records import FollowUpVisit, InspectionTask
from monitord.supervise import repeat
from monitord.ticketing.ports import RendererFor

_log = log.get("monitord.prevention")


@dataclass(slots=True)
class SiteCounts:
    inspections_due: int = 0  # open, not yet past due
    inspections_overdue: int = 0
    followups_due: int = 0  # the current window still needs its visit
    followups_overdue: int = 0  # windows that ended without a visit
    warranty_expiring: int = 0  # devices whose cover ends within the horizon


@dataclass(frozen=True, slots=True)
class Board:
    at: dt.datetime | None = None
    sites: dict[tuple[str, str], SiteCounts] = field(default_factory=dict)  # (contract, site)


class PreventionService:
    def __init__(
        self, store: Store, clock: Clock, config: Config, *, messages: RendererFor
    ) -> None:
        self._store, self._clock, self._messages_for = store, clock, messages
        self.board = Board()
        self.passes_failed = 0
        self._warned: set[tuple[str, str]] = set()
        self.apply(config)

    def apply(self, config: Config) -> None:
        self.config = config
        self.messages = self._messages_for(config)

    async def run(self) -> None:
        await repeat(self.step, self._clock)

    async def step(self) -> float:
        """One preventive pass; returns the seconds until the next."""
        try:
            await asyncio.to_thread(self.tick, self._clock.now())
        except StoreError as exc:
            self.passes_failed += 1
            _log.error("preventive pass failed; retrying later", error=str(exc))
        return self.config.prevention.check_every

    def tick(self, now: dt.datetime) -> Board:
        config = self.config
        created = inspections.generate(self._store, config, now)
        for t in created:
            _log.info("inspection task created", task=t.id, site=t.site_id, kind=t.kind,
                      period=t.period, due=t.due_at.isoformat())  # fmt: skip
        contract_of = {s.id: s.contract or "" for s in config.sites}
        counts: dict[tuple[str, str], SiteCounts] = defaultdict(SiteCounts)
        overdue: dict[str, list[InspectionTask]] = defaultdict(list)
        for task in self._store.inspections.tasks(open_only=True, limit=10_000_000):
            c = counts[(task.contract, task.site_id)]
            if task.overdue(now):
                c.inspections_overdue += 1
                overdue[task.site_id].append(task)
            else:
                c.inspections_due += 1
        for site, late in overdue.items():
            # Once per site and newest overdue task: a long downtime logs a line per site.
            newest = max(late, key=lambda t: t.id)
            self._warn_once("inspection", f"{site}/{newest.id}", "inspections overdue",
                            site=site, overdue=len(late), tasks=[t.id for t in late][:20],
                            oldest_due=min(t.due_at for t in late).isoformat())  # fmt: skip
        self._followups(config, now, counts)
        settings = config.prevention
        ending = warranty.expiring(config, now, settings.warranty_horizon)
        for cover in ending:
            counts[(contract_of.get(cover.site, ""), cover.site)].warranty_expiring += 1
        if settings.warranty_tickets:
            for ticket in warranty.open_monthly_tickets(
                self._store, config, now, settings.warranty_horizon, self.messages, ending
            ):
                _log.warning("warranty ticket opened", ticket=ticket.id, site=ticket.site_id,
                             devices=len(ticket.impacted))  # fmt: skip
        self.board = Board(now, dict(counts))
        return self.board

    def _followups(
        self, config: Config, now: dt.datetime, counts: dict[tuple[str, str], SiteCounts]
    ) -> None:
        visits_at: dict[str, list[FollowUpVisit]] = defaultdict(list)
        for visit in self._store.followups.visits():
            visits_at[visit.site_id].append(visit)
        for site in config.sites:
            cadence = followups.cadence_of(config, site)
            if cadence is None or site.acceptance_date is None:
                continue
            visits = visits_at[site.id]
            c = counts[(site.contract or "", site.id)]
            missed = []
            for w in followups.site_states(site, cadence, visits, now):
                if w.state == "due":
                    c.followups_due += 1
                elif w.state == "overdue":
                    missed.append(w.window)
            c.followups_overdue = len(missed)
            if missed:
                last = missed[-1]
                self._warn_once("followup", f"{site.id}/{last.start}", "follow-up visit overdue",
                                site=site.id, missed=len(missed),
                                window_start=last.start.isoformat(),
                                window_end=last.end.isoformat())  # fmt: skip

    def _warn_once(self, what: str, key: str, message: str, **fields: object) -> None:
        if (what, key) not in self._warned:
            self._warned.add((what, key))
            _log.warning(message, **fields)
