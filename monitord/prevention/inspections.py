"""Preventive inspections (P1): tasks per site, device kind and period, and their results.

`generate` creates every task owed up to now that the store does not hold yet: after
downtime each missed period is created once (overdue at once), never dropped and never
doubled (see `schedule`). A task's checklist is copied into it when it is made.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.config.models import Config, Site
from monitord.config.prevention import InspectionPlan
from monitord.present.i18n import both_title
from monitord.prevention.checklists import checklist
from monitord.prevention.schedule import local_day, local_midnight, period_of, periods_between
from monitord.store import Store
from monitord.store.records import InspectionResult, InspectionTask
from monitord.ticketing import tickets
from monitord.ticketing.ports import MessageRenderer


class InspectionError(ValueError):
    """A result that cannot be recorded (unknown task, item or device); says which."""


@dataclass(frozen=True, slots=True)
class Series:
    """Inspections owed for one site and device kind under one plan."""

    contract: Contract
    site: Site
    kind: str
    plan: InspectionPlan


def series(config: Config) -> list[Series]:
    """Every (site, kind) a plan covers and the site actually has devices of."""
    contracts = {c.id: c for c in config.contracts}
    kinds_at = {(d.site, d.kind.value) for d in config.devices}
    out: list[Series] = []
    for site in config.sites:
        contract = contracts.get(site.contract or "")
        if contract is None:
            continue
        for plan in contract.prevention.inspections:
            if plan.sites and site.id not in plan.sites:
                continue
            out.extend(
                Series(contract, site, kind, plan)
                for kind in plan.kinds
                if (site.id, kind) in kinds_at
            )
    return out


def owed(
    config: Config, last: dict[tuple[str, str, str], dt.date], now: dt.datetime
) -> list[InspectionTask]:
    """Tasks to create: for each series, the periods after its latest stored one up to today
    (on the site's clock); a series with none stored starts with the current period."""
    out: list[InspectionTask] = []
    for s in series(config):
        tz = s.site.timezone
        latest = last.get((s.contract.id, s.site.id, s.kind))
        after = period_of(latest, s.plan.every).end if latest is not None else None
        items = tuple({"id": i.id, "en": i.en, "zh": i.zh} for i in checklist(s.contract, s.kind))
        for p in periods_between(after, local_day(now, tz), s.plan.every):
            out.append(
                InspectionTask(
                    0,
                    s.contract.id,
                    s.site.id,
                    s.kind,
                    s.plan.name,
                    p.label,
                    p.start,
                    local_midnight(p.end, tz),
                    items,
                    now,
                )
            )
    return out


def generate(store: Store, config: Config, now: dt.datetime) -> list[InspectionTask]:
    """Create the tasks owed up to `now`; returns those created by this call.

    Only for sites the archive holds already (the daemon writes it at start and reload).
    """
    known = {s.id for s in store.devices.sites()}
    tasks = owed(config, store.inspections.last_periods(), now)
    return store.inspections.add_tasks([t for t in tasks if t.site_id in known])


def item_label(task: InspectionTask, item: str, lang: str) -> str:
    found = next((i for i in task.items if i["id"] == item), None)
    return found.get(lang, found["en"]) if found else item


def record(
    store: Store,
    config: Config,
    task_id: int,
    item: str,
    result: str,
    by: str,
    at: dt.datetime,
    note: str = "",
    device: str | None = None,
    open_ticket: bool = False,
    ticket_class: TicketClass = TicketClass.C,
    messages: MessageRenderer | None = None,
) -> tuple[InspectionTask, list[InspectionResult], int | None]:
    """Record one item's result; a failure with `open_ticket` opens its ticket first.

    Returns the task, its results and the ticket id (None without a ticket). The ticket's
    key names the task, item and device, so recording the same failure again finds it.
    """
    found = store.inspections.task(task_id)
    if found is None:
        raise InspectionError(f"inspection {task_id} does not exist")
    task = found[0]
    if item not in [i["id"] for i in task.items]:
        items = ", ".join(i["id"] for i in task.items)
        raise InspectionError(f"inspection {task_id} has no item {item!r} (items: {items})")
    if result not in ("pass", "fail"):
        raise InspectionError(f"result must be pass or fail, not {result!r}")
    if device is not None and not any(
        d.id == device and d.site == task.site_id for d in config.devices
    ):
        raise InspectionError(f"no device {device!r} at site {task.site_id!r}")
    ticket_id = None
    if result == "fail" and open_ticket:
        contract = next((c for c in config.contracts if c.id == task.contract), None)
        if contract is None:
            raise InspectionError(f"contract {task.contract!r} is not configured")
        label = f"{item_label(task, item, 'zh')} / {item_label(task, item, 'en')}"
        where = f" ({device})" if device else ""
        kind = FaultKind.INSPECTION
        request = tickets.TicketRequest(
            key=tickets.dedup_key(contract.id, kind.value, f"{task.id}/{item}/{device or '-'}"),
            contract=contract.id,
            site=task.site_id,
            kind=kind,
            ticket_class=ticket_class,
            rule="inspection-failed",
            title=f"{both_title('inspection_failed')}: {label}{where}"[:120],
            text=f"inspection {task.id} ({task.site_id}, {task.kind}, {task.period}): "
            f"{label}{where}: {note}".rstrip(": "),
            device=device,
            by=by,
        )
        ticket, _ = tickets.open_ticket(store, request, at, messages)
        ticket_id = ticket.id
    entry = InspectionResult(task_id, item, result, by, at, note, device, ticket_id)
    task, results = store.inspections.add_result(entry)
    return task, results, ticket_id
