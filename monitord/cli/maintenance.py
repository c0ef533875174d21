"""`monitord maintenance start|list|end`: maintenance windows started by hand (P5).

A window started here is stored; the running daemon sees it within seconds (its window
book re-reads stored windows at most every 2 s) and opens no ticket for what it covers.
"""

from __future__ import annotations

import datetime as dt
import json

import click

from monitord.cli.context import ID, Context, fail
from monitord.config.durations import format_duration, parse_duration
from monitord.present.i18n import MAINTENANCE, word
from monitord.prevention.adhoc import (
    BadWindow,
    configured_json,
    local,
    start_window,
    stored_json,
    zone_of,
)


def _t(key: str, lang: str) -> str:
    return word(MAINTENANCE, key, lang)


def _scope(device: str | None, site: str | None, kind: str | None) -> str:
    parts = [f"device={device}" if device else "", f"site={site}" if site else "",
             f"kind={kind}" if kind else ""]  # fmt: skip
    return " ".join(p for p in parts if p)


@click.group("maintenance")
def maintenance() -> None:
    """Maintenance windows: planned work that opens no tickets (P5)."""


@maintenance.command("start")
@click.argument("device", required=False)
@click.option("--site", default=None, help="Every device of this site (or the device's site).")
@click.option("--kind", default=None, help="Only devices of this kind (nvr, camera, ...).")
@click.option("--for", "length", required=True, help="How long: 30m, 2h, 1h30m.")
@click.option("--reason", required=True, help="What is being done.")
@click.option("--by", "by", default="cli", show_default=True, help="Who does it.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def start(
    obj: Context,
    device: str | None,
    site: str | None,
    kind: str | None,
    length: str,
    reason: str,
    by: str,
    as_json: bool,
) -> None:
    """Start a window now: `monitord maintenance start sw-1 --for 30m --reason "..."`."""
    config = obj.config()
    try:
        duration = parse_duration(length)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--for") from None
    store = obj.store(config)
    now = obj.now()
    try:
        w = start_window(config, store, device=device, site=site, kind=kind, start=now,
                         length=duration, reason=reason, by=by, now=now)  # fmt: skip
    except BadWindow as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(stored_json(config, w, now), ensure_ascii=False, indent=2))
        return
    zone = zone_of(config, w.device_id, w.site_id)
    click.echo(
        f"#{w.id} {_t('started', obj.lang)}: {_scope(device, site, kind)} "
        f"{local(w.starts_at, zone)} -> {local(w.ends_at, zone)} ({zone}, "
        f"{format_duration(duration)})"
    )


@maintenance.command("list")
@click.option("--all", "everything", is_flag=True, help="Also windows over in the last 30 days.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_windows(obj: Context, everything: bool, as_json: bool) -> None:
    """Windows started by hand (running or ahead) and the configured ones."""
    config = obj.config()
    store = obj.store(config)
    now = obj.now()
    since = now - dt.timedelta(days=30) if everything else now
    stored = store.windows.ending_after(since)
    store.close()
    if as_json:
        out = [stored_json(config, w, now) for w in stored]
        out += [configured_json(config, w, now) for w in config.maintenance]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    lang = obj.lang
    if not stored and not config.maintenance:
        click.echo(_t("none", lang))
    for w in stored:
        zone = zone_of(config, w.device_id, w.site_id)
        state = (
            "active" if w.starts_at <= now < w.ends_at else "ahead" if now < w.starts_at else "over"
        )
        click.echo(
            f"#{w.id}  [{_t(state, lang)}]  {_scope(w.device_id, w.site_id, w.kind)}  "
            f"{local(w.starts_at, zone)} -> {local(w.ends_at, zone)} ({zone})  "
            f"{_t('by', lang)}: {w.created_by}  {_t('reason', lang)}: {w.reason}"
        )
    for c in config.maintenance:
        shown = configured_json(config, c, now)
        when = f"cron '{c.cron}'" if c.cron else f"{c.start} -> {c.end or ''}"
        length = f" {format_duration(c.duration)}" if c.duration else ""
        upcoming = ""
        if shown["next_start_local"]:
            upcoming = (f"  {_t('next', lang)}: {shown['next_start_local']} -> "
                        f"{shown['next_end_local']} ({shown['timezone']})")  # fmt: skip
        click.echo(
            f"config:{c.id}  [{_t('configured', lang)}]  {_scope(c.device, c.site, c.kind)}  "
            f"{when}{length}{upcoming}  {_t('reason', lang)}: {c.reason}"
        )


@maintenance.command("end")
@click.argument("window_id", type=ID)
@click.pass_obj
def end(obj: Context, window_id: int) -> None:
    """End a window started by hand now (configured windows change in the configuration)."""
    config = obj.config()
    store = obj.store(config)
    w = store.windows.end(window_id, obj.now())
    store.close()
    if w is None:
        fail(f"#{window_id}: {_t('no_window', obj.lang)}")
    zone = zone_of(config, w.device_id, w.site_id)
    click.echo(f"#{w.id} {_t('ended', obj.lang)}: {local(w.ends_at, zone)} ({zone})")


COMMANDS = (maintenance,)
