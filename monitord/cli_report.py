"""`monitord report monthly|ticket|log`: the customer-facing reports (R1, R2, R3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

import click

from monitord.config import Config
from monitord.config.contracts import Contract
from monitord.reports import (
    chromium,
    html,
    logs,
    markdown,
    monthly,
    monthly_view,
    period,
    ticket_record,
)
from monitord.reports.agreed import AgreedWindows
from monitord.reports.document import Document
from monitord.reports.recorded import ContractWarranty, RecordedTasks, service_entries
from monitord.reports.sources import Tasks, Warranties, Windows
from monitord.store import Store, StoreError


class _Obj(Protocol):
    lang: str

    def config(self) -> Config: ...

    def store(self, config: Config) -> Store: ...


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _lang(explicit: str | None, contract: Contract | None) -> str:
    """--lang here, else the global --lang, else the contract's language."""
    if explicit:
        return explicit
    root = click.get_current_context().find_root().params.get("lang")
    if root:
        return str(root)
    return contract.language if contract is not None else "zh"


def _sources(config: Config, store: Store) -> tuple[Windows, Tasks, Warranties]:
    return AgreedWindows(config, store), RecordedTasks(config, store), ContractWarranty(config)


def _write(doc: Document, fmt: str, output: Path | None) -> None:
    if fmt == "pdf":
        if output is None:
            raise click.UsageError("--format pdf needs -o FILE")
        try:
            chromium.render(html.render(doc), output, "pdf")
        except (chromium.RendererMissing, chromium.RenderFailed) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{output}: PDF written", err=True)
        return
    _emit(html.render(doc) if fmt == "html" else markdown.render(doc), output)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: written", err=True)


_LANG = click.option("--lang", type=click.Choice(["zh", "en"]), default=None,
                     help="Language (default: the global --lang, else the contract's).")  # fmt: skip
_OUTPUT = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                       default=None, help="Write here instead of standard output.")  # fmt: skip


@click.group("report")
def report_group() -> None:
    """Customer-facing reports: monthly (R2), one ticket's record (R1), logs (R3)."""


@report_group.command("monthly")
@click.option("--contract", "contract_id", required=True, help="The contract's id.")
@click.option("--month", required=True, help="The month, YYYY-MM (in the contract's time zone).")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "pdf"]), default="html",
              show_default=True)  # fmt: skip
@click.option("--warranty-days", default=90, show_default=True, type=click.IntRange(1, 3660),
              help="List warranties ending within this many days after the month.")  # fmt: skip
@_LANG
@_OUTPUT
@click.pass_obj
def monthly_command(
    obj: _Obj,
    contract_id: str,
    month: str,
    fmt: str,
    warranty_days: int,
    lang: str | None,
    output: Path | None,
) -> None:
    """Tickets by class, SLA compliance, MTTA/MTTR, availability, prevention, warranty."""
    config = obj.config()
    contract = next((c for c in config.contracts if c.id == contract_id), None)
    if contract is None:
        known = ", ".join(c.id for c in config.contracts) or "none configured"
        raise click.BadParameter(
            f"{contract_id!r} is not a contract ({known})", param_hint="--contract"
        )
    store = obj.store(config)
    try:
        tz = monthly.report_timezone(contract, store.sites())
        try:
            span = period.month(month, tz, _now())
        except period.PeriodError as exc:
            raise click.BadParameter(str(exc), param_hint="--month") from None
        windows, tasks, warranties = _sources(config, store)
        report = monthly.build(
            store, contract, span, _lang(lang, contract), windows, tasks, warranty_days, warranties
        )
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    _write(monthly_view.document(report, _now()), fmt, output)


@report_group.command("ticket")
@click.argument("ticket_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["md", "html", "pdf"]), default="md",
              show_default=True)  # fmt: skip
@_LANG
@_OUTPUT
@click.pass_obj
def ticket_command(
    obj: _Obj, ticket_id: int, fmt: str, lang: str | None, output: Path | None
) -> None:
    """One ticket's documents and the customer's sign-off as one record (R1)."""
    config = obj.config()
    store = obj.store(config)
    try:
        found = store.ticket(ticket_id)
        if found is None:
            raise click.ClickException(f"ticket {ticket_id} does not exist")
        ticket, events = found
        device = store.device(ticket.root_device) if ticket.root_device else None
        site = next((s for s in store.sites() if s.id == ticket.site_id), None)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    contract = next((c for c in config.contracts if c.id == ticket.contract), None)
    zone, tz = (site.zone, site.timezone) if site else ("city", "UTC")
    ends = ContractWarranty(config).end(device) if device else None
    doc = ticket_record.document(
        ticket, events, contract, zone, tz, device, ends, _lang(lang, contract), _now()
    )
    _write(doc, fmt, output)


@report_group.command("log")
@click.option("--site", "site_id", default=None, help="One site.")
@click.option("--contract", "contract_id", default=None, help="Every site of a contract.")
@click.option("--from", "since", required=True, help="First day, YYYY-MM-DD (site time).")
@click.option("--to", "until", required=True, help="Last day, YYYY-MM-DD, included.")
@click.option("--format", "fmt", type=click.Choice(["csv", "md"]), default="csv",
              show_default=True)  # fmt: skip
@_LANG
@_OUTPUT
@click.pass_obj
def log_command(
    obj: _Obj,
    site_id: str | None,
    contract_id: str | None,
    since: str,
    until: str,
    fmt: str,
    lang: str | None,
    output: Path | None,
) -> None:
    """The customer's service log and the system operation log over some days (R3)."""
    if (site_id is None) == (contract_id is None):
        raise click.UsageError("give exactly one of --site or --contract")
    config = obj.config()
    store = obj.store(config)
    try:
        every = store.sites()
        sites = [s for s in every if s.id == site_id or (contract_id and s.contract == contract_id)]
        if not sites:
            what = f"--site {site_id}" if site_id else f"--contract {contract_id}"
            raise click.BadParameter(
                f"{what}: no such site in the store (run the daemon or `db upgrade` first?)"
            )
        contract_key = contract_id or sites[0].contract
        contract = next((c for c in config.contracts if c.id == contract_key), None)
        tz = monthly.report_timezone(contract, every) if contract else sites[0].timezone
        try:
            span = period.days(since, until, tz, _now())
        except period.PeriodError as exc:
            raise click.BadParameter(str(exc)) from None
        ids = {s.id for s in sites}
        rows = logs.entries(store, sites, span, service_entries(store, ids, span.start, span.end))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    chosen = _lang(lang, contract)
    scope = f"site {site_id}" if site_id else f"contract {contract_id}"
    if fmt == "csv":
        _emit(logs.to_csv(rows, tz, chosen), output)
    else:
        _emit(markdown.render(logs.document(rows, scope, span, chosen)), output)


def register(main: click.Group) -> None:
    main.add_command(report_group)


__all__ = ["register"]
