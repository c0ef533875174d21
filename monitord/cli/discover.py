"""The `discover` command: probe a site's configured ranges and print what it proposes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitord.cli.context import EXIT_FAILED, EXIT_USAGE, Context, fail
from monitord.present import i18n

if TYPE_CHECKING:
    from monitord.discovery.propose import Item


@click.command("discover")
@click.option("--site", "site_id", required=True, help="The site whose ranges to probe.")
@click.option("--ranges", "ranges", multiple=True, help="Only these CIDRs (inside the site's).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--write",
    "write",
    type=click.Path(path_type=Path),
    help="Write new devices as a YAML include file.",
)
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Write the change set into devices.d/<site>.yaml and reload the daemon.",
)
@click.pass_obj
def discover_command(
    obj: Context, site_id: str, ranges: tuple[str, ...], as_json: bool, write: Path | None,
    apply_: bool,
) -> None:  # fmt: skip
    """Find cameras, NVRs and switches in a site's configured ranges and propose inventory
    changes; never edits the configuration."""
    from monitord.cli.discover_view import live
    from monitord.discovery.plan import PlanError, Proposal, plan, probe, proposal
    from monitord.discovery.propose import include_yaml
    from monitord.discovery.run import Status
    from monitord.present.evidence import evidence

    config, lang = obj.config(), obj.lang
    try:
        p = plan(config, site_id, ranges)
    except PlanError as exc:
        fail(f"{exc.subject}: {i18n.t(exc.key, lang)}" if exc.key else exc.subject, EXIT_USAGE)
    site = p.site
    if site.poller != "local":
        # From here the probes would leave the centre, which has no route into a site behind
        # its poller's NAT: every device would come back "missing".
        fail(f"{site.id}: {i18n.t('disc_cli_at_poller', lang).format(poller=site.poller)}",
             EXIT_USAGE)  # fmt: skip
    if write is not None and write.resolve() == obj.config_path.resolve():
        fail(i18n.t("not_main_config", lang), EXIT_USAGE)
    if write is not None and apply_:
        fail(i18n.t("disc_apply_write", lang), EXIT_USAGE)
    status = Status()
    try:
        with live(status, lang, quiet=as_json):
            found = asyncio.run(probe(p, obj.now, status))
    except KeyboardInterrupt:
        # Ctrl-C: asyncio.run cancelled the run (its sockets closed in their finally
        # blocks); nothing has been proposed or written yet. 130 = 128 + SIGINT.
        click.echo(i18n.t("disc_interrupted", lang), err=True)
        sys.exit(128 + signal.SIGINT)
    # From here on the run is done: what remains (propose, write) finishes as one step.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    items = proposal(found, p, config, obj.store(config))
    if as_json:
        done = Proposal(tuple(items), found.sent, tuple(found.wsd.refused),
                        found.wsd.refused_count)  # fmt: skip
        out = done.data(site.id, records=False)
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for i in items:
            notes = "".join(f" ({i18n.t(n, lang)})" for n in i.notes)
            click.echo(
                f"{i18n.t('change_' + i.change, lang)}\t{i.device}\t{i.address}\t{evidence(i, lang)}{notes}"
            )
        for why in found.wsd.refused:
            click.echo(f"{i18n.t('reply_refused', lang)}: {why}")
        if not items:
            click.echo(i18n.t("no_changes", lang))
    if write is not None:
        from monitord.discovery.apply import write_atomic

        write_atomic(write, include_yaml(items).encode())
    if apply_:
        _apply(obj, site.id, items, as_json)


def _apply(obj: Context, site: str, items: list[Item], quiet: bool) -> None:
    from monitord.discovery.apply import ApplyError, reload_daemon
    from monitord.discovery.plan import apply_items

    lang, config = obj.lang, obj.config()
    try:
        done, _ = apply_items(obj.config_path, config, site, items, {"cli_user": _user()})
    except ApplyError as exc:
        fail(str(exc), EXIT_FAILED)
    pid = reload_daemon(config.state_dir) if done.added or done.updated else None
    if quiet:
        return  # --json: the change set above is the whole answer

    def out(message: str) -> None:
        click.echo(message, err=True)  # stdout keeps the change set

    out(f"{i18n.t('disc_applied', lang)}: {done.path} ({i18n.t('disc_added', lang)} "
        f"{len(done.added)}, {i18n.t('disc_updated', lang)} {len(done.updated)})")  # fmt: skip
    for device in done.elsewhere:
        out(f"{device}: {i18n.t('disc_elsewhere', lang)}")
    if done.added or done.updated:
        out(i18n.t("disc_reloaded" if pid else "disc_no_daemon", lang))


def _user() -> str:
    """Who ran the command, for the apply ledger (the sudo caller rather than root)."""
    import getpass
    import os

    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


COMMANDS = (discover_command,)
