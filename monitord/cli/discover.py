"""The `discover` command: probe a site's configured ranges and print what it proposes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitord.cli.context import EXIT_FAILED, EXIT_USAGE, Context, fail
from monitord.present import i18n

if TYPE_CHECKING:
    from monitord.discovery.plan import Proposal
    from monitord.discovery.propose import Item
    from monitord.store import Store


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
@click.option(
    "--run",
    "run_id",
    help="With --apply: apply this kept run's change set as reviewed, without probing again.",
)
@click.pass_obj
def discover_command(
    obj: Context, site_id: str, ranges: tuple[str, ...], as_json: bool, write: Path | None,
    apply_: bool, run_id: str | None,
) -> None:  # fmt: skip
    """Find cameras, NVRs and switches in a site's configured ranges and propose inventory
    changes; never edits the configuration. Each run's change set is kept: apply it later,
    as reviewed, with --apply --run ID."""
    from monitord.cli.discover_view import live
    from monitord.discovery import kept
    from monitord.discovery.plan import PlanError, Proposal, plan, probe, proposal
    from monitord.discovery.propose import include_yaml
    from monitord.discovery.run import Status

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
    if run_id is not None:
        if not apply_ or ranges:
            fail(i18n.t("disc_run_apply_only", lang), EXIT_USAGE)
        store = obj.store(config)
        try:
            items = list(kept.reviewed(store, site.id, run_id))
        except kept.NotReviewable as exc:
            fail(f"{run_id}: {i18n.t(exc.key, lang)}", EXIT_USAGE)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # nothing to probe: one step, whole
        _show(items, (), lang, as_json, site.id, run_id)
        _apply(obj, store, site.id, items, as_json, run_id)
        return
    status, started = Status(), obj.now()
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
    store = obj.store(config)
    items = proposal(found, p, config, store)
    done = Proposal(tuple(items), found.sent, tuple(found.wsd.refused), found.wsd.refused_count)
    kept_as = kept.keep_done(store, site.id, _user(), started, obj.now(), done)
    _show(items, found.wsd.refused, lang, as_json, site.id, kept_as, done)
    if write is not None:
        from monitord.discovery.apply import write_atomic

        write_atomic(write, include_yaml(items).encode())
    if apply_:
        _apply(obj, store, site.id, items, as_json, kept_as)
    elif not as_json and sys.stderr.isatty():
        # For the person at the terminal, as the progress is; a script reads "run" in --json.
        said = i18n.t("disc_kept", lang).format(run=kept_as, site=site.id)
        click.echo(said, err=True)  # stdout keeps the change set


def _show(
    items: list[Item], refused: Sequence[str], lang: str, as_json: bool, site: str, run: str,
    done: Proposal | None = None,
) -> None:  # fmt: skip
    from monitord.discovery.plan import Proposal
    from monitord.present.evidence import evidence

    if as_json:
        out = (done or Proposal(tuple(items))).data(site, records=False)
        click.echo(json.dumps({**out, "run": run}, ensure_ascii=False, indent=2))
        return
    for i in items:
        notes = "".join(f" ({i18n.t(n, lang)})" for n in i.notes)
        click.echo(
            f"{i18n.t('change_' + i.change, lang)}\t{i.device}\t{i.address}\t{evidence(i, lang)}{notes}"
        )
    for why in refused:
        click.echo(f"{i18n.t('reply_refused', lang)}: {why}")
    if not items:
        click.echo(i18n.t("no_changes", lang))


def _apply(obj: Context, store: Store, site: str, items: list[Item], quiet: bool, run: str) -> None:
    from monitord.discovery import kept
    from monitord.discovery.apply import ApplyError, reload_daemon
    from monitord.discovery.plan import apply_items

    lang, config = obj.lang, obj.config()
    try:
        done, _ = apply_items(obj.config_path, config, site, items, {"cli_user": _user()})
    except ApplyError as exc:
        fail(str(exc), EXIT_FAILED)
    pid = reload_daemon(config.state_dir) if done.added or done.updated else None
    kept.mark_applied(store, run, done, None if pid is None else True)
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
