"""The report's inspection, follow-up and warranty figures from what the prevention side keeps.

Counted over [since, until) where `until` is the period's end or now:
- inspections: due = tasks due in the period (a deadline at its very end included); done = tasks completed in it; overdue = tasks
  due by `until` and not completed by then (the backlog, whenever it was due);
- follow-ups: due = visit windows whose last day falls in the period; done = visits made in
  it, with their mean satisfaction score (0-100); overdue = windows that ended by `until`
  without a visit.
"""

from __future__ import annotations

import datetime as dt
import statistics

from monitord.config.models import Config
from monitord.prevention import followups, warranty
from monitord.prevention.schedule import local_day
from monitord.reports.logs import SERVICE, Entry
from monitord.reports.sources import TaskCounts
from monitord.store import Store
from monitord.store.records import DeviceRecord


class RecordedTasks:
    def __init__(self, config: Config, store: Store) -> None:
        self._config, self._store = config, store

    def inspections(self, contract: str, since: dt.datetime, until: dt.datetime) -> TaskCounts:
        tasks = self._store.inspections.tasks(contract=contract, limit=1_000_000)
        done_by_end = [t.completed_at is not None and t.completed_at < until for t in tasks]
        return TaskCounts(
            due=sum(since < t.due_at <= until for t in tasks),
            done=sum(t.completed_at is not None and since <= t.completed_at < until for t in tasks),
            overdue=sum(
                t.due_at <= until and not done for t, done in zip(tasks, done_by_end, strict=True)
            ),
        )

    def follow_ups(
        self, contract: str, since: dt.datetime, until: dt.datetime
    ) -> TaskCounts | None:
        sites = [s for s in self._config.sites if s.contract == contract]
        cadences = {s.id: followups.cadence_of(self._config, s) for s in sites}
        if not any(cadences.values()):
            return None  # the contract asks for no visits
        visits = self._store.followups.visits(contract=contract, until=until)
        due = overdue = 0
        for site in sites:
            cadence = cadences[site.id]
            if cadence is None:
                continue
            first = local_day(since, site.timezone)
            last = local_day(until - dt.timedelta(microseconds=1), site.timezone)
            mine = [v for v in visits if v.site_id == site.id]
            for state in followups.site_states(site, cadence, mine, until):
                end = state.window.end - dt.timedelta(days=1)
                due += first <= end <= last
                overdue += state.state == "overdue"
        made = [v for v in visits if since <= v.visited_at < until]
        scores = [v.score for v in made if v.score is not None]
        return TaskCounts(
            due=due,
            done=len(made),
            overdue=overdue,
            mean_score=statistics.fmean(scores) if scores else None,
            scored=len(scores),
        )


class ContractWarranty:
    """The later of the project warranty (years from acceptance) and the manufacturer's."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._devices = {d.id: d for d in config.devices}

    def end(self, device: DeviceRecord) -> dt.date | None:
        configured = self._devices.get(device.id)
        if configured is None:
            return device.warranty_end
        return warranty.coverage(self._config, configured).end


def service_entries(
    store: Store, site_ids: set[str], since: dt.datetime, until: dt.datetime
) -> list[Entry]:
    """Inspection results and follow-up visits at these sites, for the service log (R3)."""
    out: list[Entry] = []
    for site in sorted(site_ids):
        for task, r in store.inspections.results(site, since, until):
            label = _item_label(task.items, r.item)
            detail = f"{task.period} {task.kind}: {label}: {r.result} {r.note}".strip()
            out.append(
                Entry(r.at, SERVICE, site, r.ticket_id, r.device_id or "", "inspection", r.by,
                      detail)
            )  # fmt: skip
        for v in store.followups.visits(site=site, since=since, until=until):
            parts = [f"score {v.score}" if v.score is not None else "", v.problems, v.suggestions]
            out.append(
                Entry(v.visited_at, SERVICE, site, v.ticket_id, "", "follow_up", v.by,
                      "; ".join(p for p in parts if p))
            )  # fmt: skip
    return out


def _item_label(items: tuple[dict[str, str], ...], item: str) -> str:
    found = next((i for i in items if i["id"] == item), None)
    return f"{found['zh']} / {found['en']}" if found else item
