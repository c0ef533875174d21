"""The command line: run the daemon, check the configuration, look at devices, try the demo."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import NoReturn

import click

from monitord import __version__, log
from monitord.cli import notify as cli_notify
from monitord.cli import oncall as cli_oncall
from monitord.cli import report as cli_report
from monitord.cli import tickets as cli_tickets
from monitord.cli.maintenance import register as register_maintenance
from monitord.cli.prevention import register as register_prevention
from monitord.cli.probe import register as register_probe
from monitord.config import Config, ConfigError, load
from monitord.present import devices as views
from monitord.present import i18n
from monitord.store import Store, StoreError

DEFAULT_CONFIG = "/etc/monitord/monitord.yaml"
EXIT_CONFIG = 2


class Context:
    def __init__(self, config_path: Path, lang: str) -> None:
        self.config_path, self.lang = config_path, lang

    def config(self) -> Config:
        try:
            return load(self.config_path)
        except ConfigError as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            fail(f"{len(exc.issues)} {i18n.t('errors', self.lang)}", EXIT_CONFIG)

    def store(self, config: Config) -> Store:
        try:
            store = Store.open(config.database_url)
            store.upgrade()
        except StoreError as exc:
            fail(str(exc))
        return store


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"monitord: {message}", err=True)
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="monitord")
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    envvar="MONITORD_CONFIG",
    default=DEFAULT_CONFIG,
    show_default=True,
    help="Configuration file (or set MONITORD_CONFIG).",
)
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default=None,
    help="Language of the output (default: MONITORD_LANG, then LANG).",
)
@click.pass_context
def main(ctx: click.Context, config_path: Path, lang: str | None) -> None:
    """monitord watches cameras, NVRs, access controllers and switches, and confirms outages."""
    ctx.obj = Context(config_path, i18n.detect(lang))


@main.command()
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    help="auto: readable on a terminal, JSON lines otherwise.",
)
@click.pass_obj
def run(obj: Context, log_format: str) -> None:
    """Run the daemon in the foreground (systemd runs this)."""
    config = obj.config()
    log.configure(config.log_level, None if log_format == "auto" else log_format == "json")
    from monitord.app import Daemon
    from monitord.checks.icmp.client import IcmpUnavailable
    from monitord.checks.snmp.traps import TrapListenError

    try:
        asyncio.run(Daemon(obj.config_path, config).run())
    except (StoreError, TrapListenError, IcmpUnavailable) as exc:
        fail(str(exc))


@main.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate the configuration: exit 0, or 2 listing every error as file:line: path: what."""
    config = obj.config()
    click.echo(
        f"{obj.config_path}: {i18n.t('config_ok', obj.lang)}: "
        f"{len(config.devices)} {i18n.t('devices', obj.lang)}, "
        f"{len(config.sites)} {i18n.t('sites', obj.lang)}"
    )


@main.group()
def db() -> None:
    """The database (SQLite by default, PostgreSQL by URL)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Apply pending schema migrations (the daemon also does this when it starts)."""
    store = obj.store(obj.config())
    click.echo(f"{store.url_redacted}: {store.current_revision()}")
    store.close()


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def devices(ctx: click.Context, as_json: bool) -> None:
    """List devices with their state and since when."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    store = obj.store(obj.config())
    records, states = store.devices(), store.load_states()
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
    from monitord.inventory.csv_import import CsvImportError, devices_to_yaml, read_devices_csv

    config = obj.config()
    try:
        found = read_devices_csv(
            csv_file, {s.id for s in config.sites}, {d.id for d in config.devices}
        )
    except CsvImportError as exc:
        for issue in exc.issues:
            click.echo(issue, err=True)
        fail(f"{len(exc.issues)} {i18n.t('errors', obj.lang)}", EXIT_CONFIG)
    text = devices_to_yaml(found)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {len(found)} {i18n.t('written', obj.lang)}", err=True)


@main.command()
@click.argument("device_id")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--limit", default=50, show_default=True, help="Operation record entries.")
@click.pass_obj
def device(obj: Context, device_id: str, as_json: bool, limit: int) -> None:
    """One device: its equipment archive, state and operation record."""
    store = obj.store(obj.config())
    record = store.archive(device_id)
    if record is None:
        fail(f"{device_id}: {i18n.t('no_device', obj.lang)}")
    state = store.load_states().get(device_id)
    events = store.operation_record(device_id, limit)
    facts = store.facts(device_id)
    sites = {s.id: s for s in store.sites()}
    store.close()
    if as_json:
        click.echo(views.device_json(record, state, events, facts))
    else:
        tz = sites[record.site_id].timezone if record.site_id in sites else "UTC"
        click.echo(views.device_text(record, state, events, tz, obj.lang, facts))


@main.command()
@click.option(
    "--duration",
    type=float,
    default=None,
    help="Stop after this many seconds (default: until Ctrl-C).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the demo keeps its SQLite database (default: a temporary directory).",
)
@click.pass_obj
def demo(obj: Context, duration: float | None, state_dir: Path | None) -> None:
    """Run the daemon on a built-in demo site: watch a camera fail and recover."""
    from monitord.cli.demo import run_demo

    sys.exit(run_demo(duration, state_dir, obj.lang))


cli_tickets.register(main)


register_probe(main)
cli_notify.register(main)
cli_oncall.register(main)
cli_report.register(main)
register_prevention(main)
register_maintenance(main)
