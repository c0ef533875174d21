"""`monitord run`, `monitord check`, `monitord db upgrade`: the daemon and its configuration."""

from __future__ import annotations

import click

from monitord.cli.context import Context, fail
from monitord.present import i18n


@click.command()
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    default="auto",
    help="auto: readable on a terminal, JSON lines otherwise.",
)
@click.pass_obj
def run(obj: Context, log_format: str) -> None:
    """Run the daemon in the foreground (systemd runs this)."""
    from monitord.config.offload import begin_first

    # A child loads the configuration (config/offload.py: loading in this process left
    # ~30 MB of its garbage's arenas resident) while this one imports the daemon's parts,
    # which `monitord check` needs not: the logs, SQLAlchemy (0.45 s), asyncio.
    first = begin_first(obj.config_path)
    import asyncio

    from monitord import log
    from monitord.app import Daemon
    from monitord.checks.icmp.client import IcmpUnavailable
    from monitord.checks.snmp.traps import TrapListenError
    from monitord.config.offload_child import LoaderFailed
    from monitord.store import StoreError

    try:
        config = obj.loaded(first)
    except LoaderFailed as exc:
        fail(str(exc))
    log.configure(config.log_level, None if log_format == "auto" else log_format == "json")
    try:
        asyncio.run(Daemon(obj.config_path, config).run())
    except (StoreError, TrapListenError, IcmpUnavailable) as exc:
        fail(str(exc))


@click.command()
@click.pass_obj
def check(obj: Context) -> None:
    """Validate the configuration: exit 0, or 2 listing every error as file:line: path: what."""
    from monitord.config.bulk import collector_paused

    # A one-shot command: the cyclic collector would only walk what the imports and the
    # load have just made, all of it alive until exit (0.05 s of 1 s at 10 000 devices).
    with collector_paused():
        _check(obj)


def _check(obj: Context) -> None:
    from monitord.config.weak import weaknesses

    config = obj.config(full=True)
    prefix = i18n.word(i18n.WEAK, "warning_prefix", obj.lang)
    for weak in weaknesses(config):  # unsafe but valid: said, and still exit 0
        text = i18n.word(i18n.WEAK, weak.key, obj.lang).format(**weak.values)
        click.echo(f"{obj.config_path}: {prefix}: {text}", err=True)
    click.echo(
        f"{obj.config_path}: {i18n.t('config_ok', obj.lang)}: "
        f"{len(config.devices)} {i18n.t('devices', obj.lang)}, "
        f"{len(config.sites)} {i18n.t('sites', obj.lang)}"
    )


@click.group()
def db() -> None:
    """The database (SQLite by default, PostgreSQL by URL)."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Context) -> None:
    """Apply pending schema migrations (the daemon also does this when it starts)."""
    from monitord.cli.progress import shown
    from monitord.store import Store, StoreError

    config = obj.config(devices=False)
    try:
        store = Store.open(config.database_url)
        total = store.pending_migrations()
        with shown(i18n.t("progress_upgrade", obj.lang), total) as step:
            done = iter(range(1, total + 1))
            store.upgrade(lambda: step(next(done, total)))
    except StoreError as exc:
        fail(str(exc))
    click.echo(f"{store.url_redacted}: {store.current_revision()}")
    store.close()


COMMANDS = (run, check, db)
