"""Tickets opened by the preventive side: a failed inspection item, a quality problem named
at a follow-up visit, warranties ending at a site. Opened like any ticket (a dedup key, the
contract's clocks for its class, messages in the same transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.notify.messages import Routing, messages_for
from monitord.store import Store
from monitord.store.records import TicketEventRecord, TicketRecord
from monitord.ticketing.lifecycle import EventKind, Status, TicketEvent


@dataclass(frozen=True, slots=True)
class Finding:
    """What the ticket is about; `key` makes it unique within the contract and kind."""

    kind: FaultKind
    key: str
    site: str
    title: str
    text: str
    ticket_class: TicketClass = TicketClass.C
    device: str | None = None
    impacted: Sequence[str] = ()
    rule: str = ""


def dedup_key(contract: Contract, finding: Finding) -> str:
    return f"{contract.id}/{finding.kind.value}/{finding.key}"


def open_for(
    store: Store,
    contract: Contract,
    finding: Finding,
    by: str,
    at: dt.datetime,
    routing: Routing | None = None,
) -> tuple[TicketRecord, bool]:
    """(the ticket, True if opened now); while a ticket with the key is active, that one."""
    key = dedup_key(contract, finding)
    rule = finding.rule or finding.kind.value
    impacted = list(finding.impacted) or ([finding.device] if finding.device else [])
    data = {"class": finding.ticket_class.value, "rule": rule, "fault": finding.kind.value,
            "impacted": impacted}  # fmt: skip
    first = TicketEventRecord(0, 1, at, EventKind.OPENED.value, by, finding.text, data)
    draft = TicketRecord(
        id=0,
        dedup_key=key,
        contract=contract.id,
        site_id=finding.site,
        root_device=finding.device,
        fault_kind=finding.kind.value,
        ticket_class=finding.ticket_class.value,
        rule=rule,
        status=Status.OPEN.value,
        paused=False,
        recovered=False,
        title=finding.title[:120],
        impacted=tuple(impacted),
        opened_at=at,
        updated_at=at,
        version=1,
    )
    event = TicketEvent(at, EventKind.OPENED, by, finding.text, data)
    outbox = (lambda t: messages_for(t, [event], routing)) if routing else (lambda _: [])
    return store.open_ticket(draft, first, outbox)
