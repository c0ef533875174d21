"""The `discover` command: probe a site's configured ranges and print what it proposes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click

from monitord.cli.context import EXIT_USAGE, Context, fail
from monitord.present import i18n


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
@click.pass_obj
def discover_command(
    obj: Context, site_id: str, ranges: tuple[str, ...], as_json: bool, write: Path | None
) -> None:
    """Find cameras, NVRs and switches in a site's configured ranges and propose inventory
    changes; never edits the configuration."""
    from monitord.discovery.propose import include_yaml, propose
    from monitord.discovery.run import discover
    from monitord.discovery.scope import Scope, ScopeError, networks

    config, lang = obj.config(), obj.lang
    site = next((s for s in config.sites if s.id == site_id), None)
    if site is None:
        fail(f"{site_id}: {i18n.t('no_site', lang)}", EXIT_USAGE)
    if site.discovery is None:
        fail(f"{site_id}: {i18n.t('no_discovery', lang)}", EXIT_USAGE)
    try:
        allowed = networks(site.discovery.ranges)
        scope = Scope(networks(ranges) if ranges else allowed)
    except ScopeError as exc:
        fail(str(exc), EXIT_USAGE)
    outside = scope.within(allowed)
    if outside:
        shown = ", ".join(str(n) for n in outside)
        fail(f"{shown}: {i18n.t('outside_ranges', lang)}", EXIT_USAGE)
    if write is not None and write.resolve() == obj.config_path.resolve():
        fail(i18n.t("not_main_config", lang), EXIT_USAGE)
    progress = (lambda m: None) if as_json else (lambda m: click.echo(m, err=True))
    found = asyncio.run(discover(site.discovery, scope, obj.now, progress))
    items = propose(found, site.id, config.devices)
    if as_json:
        out = {
            "site": site.id, "sent": found.sent,
            "refused": found.wsd.refused, "refused_count": found.wsd.refused_count,
            "changes": [{"change": i.change, "device": i.device, "address": i.address,
                         "detail": i.detail, "notes": list(i.notes)} for i in items],
        }  # fmt: skip
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for i in items:
            notes = "".join(f" ({i18n.t(n, lang)})" for n in i.notes)
            click.echo(
                f"{i18n.t('change_' + i.change, lang)}\t{i.device}\t{i.address}\t{i.detail}{notes}"
            )
        for why in found.wsd.refused:
            click.echo(f"{i18n.t('reply_refused', lang)}: {why}")
        if not items:
            click.echo(i18n.t("no_changes", lang))
    if write is not None:
        write.write_text(include_yaml(items), encoding="utf-8")


COMMANDS = (discover_command,)
