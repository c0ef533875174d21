"""`monitord devices [import]`, `monitord device ID`: the fleet, one device, the CSV import."""

from __future__ import annotations

from pathlib import Path

import click

from monitord.cli.context import EXIT_USAGE, Context, fail
from monitord.present import devices as views
from monitord.present import i18n


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def devices(ctx: click.Context, as_json: bool) -> None:
    """List devices with their state and since when."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    store = obj.reader()  # the archive and states are the store's
    records, states = store.devices(), store.states()
    sites = {s.id: s for s in store.sites()}
    store.close()
    if as_json:
        click.echo(views.devices_json(records, states))
    else:
        click.echo(views.devices_text(records, states, sites, obj.lang))


@devices.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the YAML here (include it from the configuration); default: stdout.",
)
@click.pass_obj
def devices_import(obj: Context, csv_file: Path, output: Path | None) -> None:
    """Turn an equipment-archive spreadsheet (CSV) into a devices file; exit 2 on errors."""
    from monitord.cli.progress import shown
    from monitord.inventory.csv_import import CsvImportError, devices_to_yaml, read_devices_csv

    config = obj.config()
    try:
        with shown(i18n.t("progress_csv", obj.lang)) as step:
            found = read_devices_csv(
                csv_file, {s.id for s in config.sites}, {d.id for d in config.devices}, step
            )
    except CsvImportError as exc:
        for issue in exc.issues:
            click.echo(issue, err=True)
        fail(f"{len(exc.issues)} {i18n.t('errors', obj.lang)}", EXIT_USAGE)
    text = devices_to_yaml(found)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {len(found)} {i18n.t('written', obj.lang)}", err=True)


@click.command()
@click.argument("device_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=50, show_default=True, help="Operation record entries.")
@click.pass_obj
def device(obj: Context, device_id: str, as_json: bool, limit: int) -> None:
    """One device: its equipment archive, state and operation record."""
    store = obj.store(obj.config(devices=False))
    record = store.devices.archive(device_id)
    if record is None:
        fail(f"{device_id}: {i18n.t('no_device', obj.lang)}")
    state = store.states.load().get(device_id)
    events = store.states.operation_record(device_id, limit)
    facts = store.facts.of(device_id)
    sites = {s.id: s for s in store.devices.sites()}
    store.close()
    if as_json:
        click.echo(views.device_json(record, state, events, facts))
    else:
        tz = sites[record.site_id].timezone if record.site_id in sites else "UTC"
        click.echo(views.device_text(record, state, events, tz, obj.lang, facts))


COMMANDS = (devices, device)
