"""`monitord pollers add|list|revoke` at the centre; `monitord poller enrol|run` at a site.

A site poller is the same package in a second mode: it polls its site's devices, confirms
their states as the centre does, and ships the HARD changes over its one outbound HTTPS
connection (monitord/sites/, docs/pollers.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from monitord.cli.context import EXIT_USAGE, Context, fail
from monitord.present.i18n import POLLERS, word

DEFAULT_STATE = Path("/var/lib/monitord-poller")


def _t(key: str, lang: str) -> str:
    return word(POLLERS, key, lang)


@click.group("pollers")
def pollers() -> None:
    """Site pollers at the centre: enrol one for a site, list them, revoke one."""


@pollers.command("add")
@click.argument("sites", nargs=-1, required=True)
@click.option("--name", default=None, help="The poller's id (default: the first site).")
@click.pass_obj
def add(obj: Context, sites: tuple[str, ...], name: str | None) -> None:
    """Print a one-time code (valid 24 h) that enrols a poller for SITES."""
    from monitord.sites.enrolment import CODE_VALID, new_code
    from monitord.sites.link import fingerprint

    config = obj.config()
    known = {s.id for s in config.sites}
    for site in sites:
        if site not in known:
            fail(f"{_t('unknown_site', obj.lang)}: {site}", EXIT_USAGE)
    store, code, now = obj.store(config), new_code(), obj.now()
    try:
        store.pollers.add_code(name or sites[0], sites, code, now, CODE_VALID)
    finally:
        store.close()
    click.echo(f"{_t('code', obj.lang)}: {code}")
    click.echo(f"{_t('valid_until', obj.lang)}: {(now + CODE_VALID).isoformat(timespec='seconds')}")
    cert = config.api.tls_cert
    if cert is None:
        click.echo(_t("no_tls", obj.lang), err=True)
    else:
        click.echo(f"{_t('fingerprint', obj.lang)}: {fingerprint(cert.read_text())}")


@pollers.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(obj: Context, as_json: bool) -> None:
    """Each poller: its sites, status, last heartbeat, journal backlog, clock offset (a
    finding past 60 s), acknowledged sequence and version."""
    from monitord.sites.skew import CLOCK_CHECK, skewed

    config = obj.config()
    store = obj.store(config)
    try:
        found = store.pollers.all()
    finally:
        store.close()
    rows: list[dict[str, Any]] = [
        {
            "poller": p.id,
            "sites": list(p.sites),
            "status": "revoked" if p.revoked_at else "waiting" if not p.enrolled_at
            else "silent" if p.silent else "active",
            "last_seen": p.last_seen.isoformat() if p.last_seen else None,
            "backlog": p.backlog,
            "clock_offset_s": None if p.clock_offset is None else round(p.clock_offset, 3),
            "findings": [{"check": CLOCK_CHECK, "status": "warning",
                          "offset_s": round(p.clock_offset or 0.0, 3)}]
            if skewed(p.clock_offset) else [],
            "acked": p.acked_seq,
            "version": p.version,
        }
        for p in found
    ]  # fmt: skip
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(_t("none", obj.lang))
        return
    from monitord.present.devices import table

    status = {"revoked": "revoked_status"}
    click.echo(
        table(
            [_t(k, obj.lang) for k in ("poller", "sites", "status", "last_seen", "backlog",
                                       "clock_offset", "acked", "version")],
            [
                [r["poller"], ",".join(r["sites"]), _t(status.get(r["status"], r["status"]), obj.lang),
                 r["last_seen"] or "-", _or_dash(r["backlog"]),
                 _offset(r["clock_offset_s"], obj.lang),
                 str(r["acked"]), r["version"] or "-"]
                for r in rows
            ],
        )
    )  # fmt: skip


def _offset(seconds: float | None, lang: str) -> str:
    from monitord.sites.skew import skewed

    if seconds is None:
        return "-"
    return f"{seconds:+.1f}s" + (f" ({_t('clock_skewed', lang)})" if skewed(seconds) else "")


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


@pollers.command("revoke")
@click.argument("poller")
@click.pass_obj
def revoke(obj: Context, poller: str) -> None:
    """Revoke a poller's credential at once (a stolen box); enrol it again with a new code."""
    config = obj.config()
    store = obj.store(config)
    try:
        done = store.pollers.revoke(poller, obj.now())
    finally:
        store.close()
    if not done:
        fail(f"{_t('no_poller', obj.lang)}: {poller}")
    click.echo(f"{_t('revoked', obj.lang)}: {poller}")


@click.group("poller")
def poller() -> None:
    """Run as a site poller: enrol with the centre once, then run (monitord-poller.service)."""


@poller.command("enrol")
@click.option("--centre", "centres", multiple=True, required=True,
              help="The centre's https:// URL; repeat for the centres to fail over between.")  # fmt: skip
@click.option("--code", required=True, help="The code `monitord pollers add` printed.")
@click.option("--fingerprint", default=None, help="The centre certificate it printed.")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE,
              show_default=True)  # fmt: skip
@click.pass_obj
def enrol(
    obj: Context, centres: tuple[str, ...], code: str, fingerprint: str | None, state_dir: Path
) -> None:
    """Exchange a one-time code for this poller's credential; pin the centres' certificates."""
    from monitord.sites.identity import EnrolFailed
    from monitord.sites.identity import enrol as do_enrol

    try:
        identity = do_enrol(list(centres), code, state_dir, fingerprint)
    except EnrolFailed as exc:
        fail(str(exc))
    click.echo(f"{_t('enrolled', obj.lang)}: {identity.poller} ({', '.join(identity.sites)})")
    for fp in identity.fingerprints:
        click.echo(f"{_t('fingerprint', obj.lang)}: {fp}")


@poller.command("run")
@click.option("--state-dir", type=click.Path(path_type=Path), default=DEFAULT_STATE,
              show_default=True)  # fmt: skip
@click.option("--heartbeat", type=float, default=5.0, show_default=True,
              help="Seconds between heartbeats.")  # fmt: skip
@click.option("--journal-cap", type=click.FloatRange(min=1), default=500.0, show_default=True,
              help="Megabytes the journal may hold; past it the oldest rollups go first, "
              "never a state change.")  # fmt: skip
@click.option("--log-format", type=click.Choice(["auto", "json", "console"]), default="auto",
              help="auto: readable on a terminal, JSON lines otherwise.")  # fmt: skip
def run(state_dir: Path, heartbeat: float, journal_cap: float, log_format: str) -> None:
    """Poll this site's devices and ship their confirmed changes to the centre."""
    import asyncio

    from monitord import log
    from monitord.sites.poller import PollerDaemon

    log.configure("info", {"auto": None, "json": True, "console": False}[log_format])
    cap = int(journal_cap * 1000 * 1000)
    asyncio.run(PollerDaemon(state_dir, heartbeat=heartbeat, journal_cap=cap).run())


COMMANDS = (pollers, poller)
