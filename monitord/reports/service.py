"""The reports as the CLI and the API ask for them: from a request's words to a document.

Both faces call these; they differ only in how they show errors and write the result.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from monitord.config import Config
from monitord.config.contracts import Contract
from monitord.reports import logs, monthly, monthly_view, period, ticket_record
from monitord.reports.agreed import AgreedWindows
from monitord.reports.document import Document
from monitord.reports.recorded import ContractWarranty, RecordedTasks, service_entries
from monitord.store import Store


class ReportInputError(ValueError):
    """A request that names something unknown or malformed; `option` says which input."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def contract_of(config: Config, contract_id: str) -> Contract:
    found = next((c for c in config.contracts if c.id == contract_id), None)
    if found is None:
        known = ", ".join(c.id for c in config.contracts) or "none configured"
        raise ReportInputError("contract", f"{contract_id!r} is not a contract ({known})")
    return found


def monthly_document(
    store: Store,
    config: Config,
    contract_id: str,
    month: str,
    lang: str | None,
    now: dt.datetime,
    warranty_days: int = 90,
) -> Document:
    """The monthly report (R2) in `lang`, else the contract's language, every device inline."""
    report = monthly_report(store, config, contract_id, month, lang, now, warranty_days)
    return monthly_view.document(report, now)


def monthly_report(
    store: Store,
    config: Config,
    contract_id: str,
    month: str,
    lang: str | None,
    now: dt.datetime,
    warranty_days: int = 90,
) -> monthly.MonthlyReport:
    """The monthly report's figures, for a document and its appendix (reports.appendix)."""
    contract = contract_of(config, contract_id)
    tz = monthly.report_timezone(contract, store.devices.sites())
    try:
        span = period.month(month, tz, now)
    except period.PeriodError as exc:
        raise ReportInputError("month", str(exc)) from None
    return monthly.build(
        store,
        contract,
        span,
        lang or contract.language,
        AgreedWindows(config, store),
        RecordedTasks(config, store),
        warranty_days,
        ContractWarranty(config),
    )


def ticket_document(
    store: Store, config: Config, ticket_id: int, lang: str | None, now: dt.datetime
) -> tuple[str, Document] | None:
    """(its contract, its record) (R1); None if there is no such ticket."""
    found = store.tickets.get(ticket_id)
    if found is None:
        return None
    ticket, events = found
    device = store.devices.archive(ticket.root_device) if ticket.root_device else None
    site = next((s for s in store.devices.sites() if s.id == ticket.site_id), None)
    contract = next((c for c in config.contracts if c.id == ticket.contract), None)
    zone, tz = (site.zone, site.timezone) if site else ("city", "UTC")
    ends = ContractWarranty(config).end(device) if device else None
    chosen = lang or (contract.language if contract else "zh")
    doc = ticket_record.document(ticket, events, contract, zone, tz, device, ends, chosen, now)
    return ticket.contract, doc


@dataclass(frozen=True, slots=True)
class LogExport:
    rows: list[logs.Entry]
    contracts: frozenset[str | None]  # of the sites covered: who may see it
    tz: str
    lang: str
    scope: str
    span: period.Period

    def csv(self) -> str:
        return logs.to_csv(self.rows, self.tz, self.lang)

    def document(self) -> Document:
        return logs.document(self.rows, self.scope, self.span, self.lang)


def log_export(
    store: Store,
    config: Config,
    site_id: str | None,
    contract_id: str | None,
    since: str,
    until: str,
    lang: str | None,
    now: dt.datetime,
) -> LogExport:
    """The service and operation logs (R3) of one site or of every site of a contract."""
    if (site_id is None) == (contract_id is None):
        raise ReportInputError("site", "give exactly one of --site or --contract")
    every = store.devices.sites()
    sites = [s for s in every if s.id == site_id or (contract_id and s.contract == contract_id)]
    if not sites:
        what = ("site", site_id) if site_id else ("contract", contract_id)
        raise ReportInputError(
            what[0], f"{what[1]!r}: no such {what[0]} in the store (has the daemon run?)"
        )
    contract_key = contract_id or sites[0].contract
    contract = next((c for c in config.contracts if c.id == contract_key), None)
    tz = monthly.report_timezone(contract, every) if contract else sites[0].timezone
    try:
        span = period.days(since, until, tz, now)
    except period.PeriodError as exc:
        raise ReportInputError("from", str(exc)) from None
    ids = {s.id for s in sites}
    rows = logs.entries(store, sites, span, service_entries(store, ids, span.start, span.end))
    scope = f"site {site_id}" if site_id else f"contract {contract_id}"
    chosen = lang or (contract.language if contract else "zh")
    return LogExport(rows, frozenset(s.contract for s in sites), tz, chosen, scope, span)
