"""`monitord oncall`: who is on call now (or at --at TIME), and the next hand-over."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import click

from monitord.cli.context import EXIT_USAGE, Context, fail
from monitord.config import Config
from monitord.notify.oncall import Directory, Override, Rotation, Shift, shift
from monitord.present import i18n


@click.command("oncall")
@click.option("--at", "at", default=None, help="ISO time (without an offset: the rotation's zone).")
@click.option("--contract", default=None, help="Only this contract's rotations.")
@click.option("--site", default=None, help="Only the rotation covering this site.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
def oncall(
    obj: Context, at: str | None, contract: str | None, site: str | None, as_json: bool
) -> None:
    """Who is on call for each rotation, since when, and who takes over next."""
    if contract and site:
        fail("--contract and --site exclude each other", EXIT_USAGE)
    config = obj.config()
    directory = Directory.from_config(config)
    rotations = _chosen(config, directory, contract, site)
    rows = [(r, o, shift(r, o, _instant(at, r.timezone, obj.now()))) for r, o in rotations]
    if as_json:
        out = [_as_dict(directory, r, s) for r, _, s in rows]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(i18n.t("no_rotation", obj.lang))
        return
    for r, _, s in rows:
        click.echo(as_text(directory, r, s, obj.lang))


COMMANDS = (oncall,)


def _chosen(
    config: Config, directory: Directory, contract: str | None, site: str | None
) -> list[tuple[Rotation, tuple[Override, ...]]]:
    if site is not None:
        found = next((s for s in config.sites if s.id == site), None)
        if found is None:
            fail(f"no site {site!r}", EXIT_USAGE)
        rotation = directory.rotation_for(found.contract or "", site)
        return [] if rotation is None else [rotation]
    if contract is not None:
        if contract not in {c.id for c in config.contracts}:
            fail(f"no contract {contract!r}", EXIT_USAGE)
        sites = {s.id for s in config.sites if s.contract == contract}
        return [
            (r, o)
            for r, o in directory.rotations
            if contract in r.contracts or sites.intersection(r.sites)
        ]
    return list(directory.rotations)


def _instant(at: str | None, zone: str, now: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    try:
        parsed = dt.datetime.fromisoformat(at)
    except ValueError:
        fail(
            f"--at {at!r}: not an ISO time such as 2026-03-02T08:30 or 2026-03-02T00:30Z",
            EXIT_USAGE,
        )
    return parsed.replace(tzinfo=ZoneInfo(zone)) if parsed.tzinfo is None else parsed


def _person(directory: Directory, person_id: str | None) -> dict[str, object] | None:
    if person_id is None:
        return None
    p = directory.people.get(person_id)
    if p is None:
        return {"id": person_id}
    return {"id": p.id, "name": p.name, "email": p.email, "phone": p.phone, "chat": p.chat}


def _as_dict(directory: Directory, r: Rotation, s: Shift) -> dict[str, object]:
    def iso(at: dt.datetime | None) -> str | None:
        return None if at is None else at.astimezone(ZoneInfo(r.timezone)).isoformat()

    return {
        "rotation": r.id,
        "timezone": r.timezone,
        "contracts": list(r.contracts),
        "sites": list(r.sites),
        "on_call": _person(directory, s.person),
        "covering": s.covering,
        "since": iso(s.start),
        "next_handover": iso(s.end),
        "next": _person(directory, s.next_person),
    }


def as_text(directory: Directory, r: Rotation, s: Shift, lang: str) -> str:
    tz = ZoneInfo(r.timezone)

    def say(key: str, **values: object) -> str:
        return i18n.word(i18n.ONCALL, key, lang).format(**values)

    def name(person_id: str | None) -> str:
        p = directory.people.get(person_id or "")
        shown = p.name if p is not None else person_id or "?"
        return say("person", name=shown, id=person_id)

    def when(at: dt.datetime | None) -> str:
        if at is None:
            return "—"
        return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    contact = directory.people.get(s.person)
    phone = contact.phone if contact is not None and contact.phone else None
    head = say("head", id=r.id, zone=r.timezone, person=name(s.person))
    head += say("phone", phone=phone) if phone else ""
    head += say("covering", person=name(s.covering)) if s.covering else ""
    after = name(s.next_person) if s.next_person else say("nobody")
    return say("shift", head=head, start=when(s.start), end=when(s.end), next=after)
