"""`monitord tickets`, `monitord ticket show|open|ack|onsite|…`: the engineer's ticket commands."""

from __future__ import annotations

from pathlib import Path

import click

from monitord.cli.context import ID, Context, fail
from monitord.config.contracts import TicketClass
from monitord.present.actions import ACTIONS
from monitord.present.i18n import REPAIR
from monitord.present.signature import ON_BEHALF_OF, PRINCIPAL, cli_principal
from monitord.ticketing.lifecycle import EventKind

# The store, the ticketing engine and the notifications are imported by the command that
# runs: `monitord ticket --help` took 2.2 s importing them all (issue 15).


@click.command("tickets")
@click.option("--status", "statuses", multiple=True, help="Only these statuses (repeatable).")
@click.option("--contract", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tickets_command(
    obj: Context, statuses: tuple[str, ...], contract: str | None, as_json: bool
) -> None:
    """List tickets, newest first."""
    from monitord.present import tickets as ticket_views

    store = obj.reader()  # tickets are the store's; of the configuration, sites (contracts)
    found = store.recent(list(statuses) or None, contract)
    places = obj.site_places()
    if as_json:
        contracts = {c.id: c for c in obj.config(devices=False).contracts}
        out = []
        for t in found:
            zone = places.get(t.site_id, ("UTC", "city"))[1]
            events = store.events(t.id)
            out.append(
                ticket_views.ticket_dict(t, events, contracts.get(t.contract), zone, obj.now())
            )
        click.echo(ticket_views.to_json(out))
    else:
        click.echo(ticket_views.tickets_text(found, {k: tz for k, (tz, _) in places.items()}))
    store.close()


@click.group("ticket")
def ticket_group() -> None:
    """Show one ticket or act on it (each action is an event in its log)."""


@ticket_group.command("show")
@click.argument("ticket_id", type=ID)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def show(obj: Context, ticket_id: int, as_json: bool) -> None:
    """A ticket with its deadlines (due, met, breached) and its whole log."""
    from monitord.present import tickets as ticket_views
    from monitord.prevention.warranty import repair_terms

    store = obj.reader()
    found = store.ticket(ticket_id)
    store.close()
    if found is None:
        fail(f"ticket {ticket_id} does not exist")
    ticket, events = found
    # Of the devices, only the ticket's own: its warranty decides the repair terms.
    config = obj.config(devices={ticket.root_device} if ticket.root_device else False)
    contract = next((c for c in config.contracts if c.id == ticket.contract), None)
    site = next((s for s in config.sites if s.id == ticket.site_id), None)
    zone, tz = (site.zone.value, site.timezone) if site else ("city", "UTC")
    repair = repair_terms(config, ticket.root_device, ticket.opened_at)
    if as_json:
        data = ticket_views.ticket_dict(ticket, events, contract, zone, obj.now())
        click.echo(ticket_views.to_json({**data, "repair": repair} if ticket.root_device else data))
    else:
        click.echo(ticket_views.ticket_text(ticket, events, contract, zone, tz, obj.now()))
        if ticket.root_device:  # P3: free under warranty, at cost after (as of the fault)
            key = str(repair["terms"])
            terms = _both(key) if key in ("free", "at_cost") else "?"
            end = repair.get("warranty_end")
            click.echo(f"{_both('repair')}: {terms} ({_both('warranty_end')} {end})")


def _both(key: str) -> str:
    """A repair term in both languages at once ("free 免费"): the customer and the desk."""
    en, zh = REPAIR[key]
    return f"{en} {zh}"


def _text(text: str | None, file: Path | None) -> str:
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise click.BadParameter(f"{file}: not UTF-8 text", param_hint="--file") from None
    return text or ""


def _action(name: str, kind: EventKind, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("ticket_id", type=ID)
    @click.argument("text", required=False)
    @click.option("--by", required=True, help="Who does this (engineer, customer contact).")
    @click.option(
        "--file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Take the text (a report) from this file.",
    )
    @click.pass_obj
    def command(obj: Context, ticket_id: int, text: str | None, by: str, file: Path | None) -> None:
        from monitord.notify.messages import Routing
        from monitord.store import StoreError
        from monitord.ticketing import tickets
        from monitord.ticketing.lifecycle import InvalidTransition

        config = obj.config()
        store = obj.store(config)
        messages = Routing.from_config(config)  # its messages go out with the event
        # The console's user is trusted like a manager: a verification typed here is the
        # customer's acceptance taken on its behalf, and recorded as such.
        signature = {PRINCIPAL: cli_principal()}
        if kind == EventKind.VERIFIED:
            signature[ON_BEHALF_OF] = by
        try:
            ticket = tickets.append(
                store, ticket_id, kind, by, obj.now(), _text(text, file), signature, messages
            )
        except (InvalidTransition, tickets.NoSuchTicket, StoreError) as exc:
            fail(f"ticket {ticket_id}: {exc}")
        finally:
            store.close()
        click.echo(f"#{ticket.id}: {kind.value} -> status {ticket.status}")

    return command


@ticket_group.command("open")
@click.option("--site", required=True)
@click.option("--by", required=True, help="Who took the call.")
@click.option("--device", default=None, help="The device the caller is talking about.")
@click.option(
    "--class",
    "ticket_class",
    type=click.Choice([c.value for c in TicketClass]),
    default=None,
    help="Class, if already known.",
)
@click.argument("text")
@click.pass_obj
def open_hotline(
    obj: Context, site: str, by: str, device: str | None, ticket_class: str | None, text: str
) -> None:
    """Open a hotline ticket for a customer's call (first reply due in 30 min, seed 000)."""
    from monitord.inventory.archive import device_record, site_records
    from monitord.notify.messages import Routing
    from monitord.ticketing import tickets

    config = obj.config()
    found = next((s for s in config.sites if s.id == site), None)
    contract = next((c for c in config.contracts if found and c.id == found.contract), None)
    if found is None or contract is None:
        fail(f"site {site!r} is unknown or has no contract")
    store = obj.store(config)
    if site not in {s.id for s in store.devices.sites()}:
        # A call can come before the daemon ever ran: the archive starts from the config.
        records = [device_record(d) for d in config.devices]
        store.devices.sync(site_records(config), records, obj.now())
    ticket = tickets.open_hotline(
        store,
        contract,
        site,
        by,
        text,
        obj.now(),
        device,
        TicketClass(ticket_class) if ticket_class else None,
        Routing.from_config(config),
        {PRINCIPAL: cli_principal()},
    )
    store.close()
    click.echo(f"#{ticket.id}: opened")


for _name, (_kind, _help) in ACTIONS.items():
    ticket_group.add_command(_action(_name, _kind, _help))

COMMANDS = (tickets_command, ticket_group)
