"""On-call rotations, escalation policies and quiet hours (the `notify:` section's part).

Times of day (hand-over, quiet hours) are wall-clock times in the site's time zone. An
override's `from`/`until` without an offset is read in its rotation's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from monitord.config.durations import Duration
from monitord.config.zones import TimeZone

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.\-]*$")]
# "oncall" (whoever the ticket's rotation names), "role:NAME" (per contract), "person:ID".
Target = Annotated[str, Field(pattern=r"^(oncall|role:[A-Za-z0-9][\w.\-]*|person:[\w.\-]+)$")]
TicketClassName = Literal["A", "B", "C", "D", "hotline"]


def _time_of_day(value: object) -> object:
    # YAML 1.1 reads an unquoted 22:00 as the base-60 integer 1320; pydantic would take
    # that for seconds (00:22). Read it back as the hours and minutes that were written.
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 24 * 60:
            written = f"{value // 60}:{value % 60:02d}"  # as YAML saw it: 25:00 is 1500
            raise ValueError(f'{written} is not a time of day (write it as "HH:MM")')
        return dt.time(value // 60, value % 60)
    if isinstance(value, dt.time) and value.tzinfo is not None:
        raise ValueError("a time of day is local to the site: no UTC offset")
    if isinstance(value, str) and not _HHMM.fullmatch(value.strip()):
        raise ValueError(f'{value!r} is not a time of day (write it as "HH:MM")')
    return value


_HHMM = re.compile(r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
TimeOfDay = Annotated[dt.time, BeforeValidator(_time_of_day)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Person(_Frozen):
    """Someone who can be paged; an address per channel kind, or per channel name."""

    id: Name
    name: str
    language: Literal["zh", "en"] = "zh"
    email: str | None = None  # for email channels
    phone: str | None = None  # for SMS channels
    chat: str | None = None  # a chat user id / mention, for webhook (bot) channels
    addresses: dict[Name, str] = {}  # channel name -> address; wins over the three above
    # The web console user this person is: their pages then carry a one-time sign-in link
    # to the ticket (console/links.py). Explicit, so no name clash signs in the wrong person.
    console_user: Name | None = None


class Override(_Frozen):
    """Leave or a swap: `person` is on call from..until (instead of `replaces` only, if set)."""

    start: dt.datetime = Field(alias="from")
    until: dt.datetime
    person: Name
    replaces: Name | None = None
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if (self.start.tzinfo is None) != (self.until.tzinfo is None):
            raise ValueError("from and until: both with a UTC offset, or both without")
        if self.until <= self.start:
            raise ValueError("until must be after from")
        return self


class Rotation(_Frozen):
    """People take turns; the first person's first shift starts on `start` at `handover_at`.

    Weekly hand-overs fall on `start`'s weekday. The rotation covers the tickets of its
    `sites`, or of every site of its `contracts` (a site's own rotation wins).
    """

    id: Name
    contracts: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    timezone: TimeZone | None = None  # None: the first covered site's time zone
    handover: Literal["daily", "weekly"] = "weekly"
    handover_at: TimeOfDay = dt.time(9, 0)
    start: dt.date
    people: Annotated[tuple[Name, ...], Field(min_length=1)]
    overrides: tuple[Override, ...] = ()

    @model_validator(mode="after")
    def _covers_something(self) -> Rotation:
        if not self.contracts and not self.sites:
            raise ValueError("a rotation needs contracts or sites")
        return self


class OnCall(_Frozen):
    people: tuple[Person, ...] = ()
    # Contract id (or "*" for every contract) -> role name -> person id.
    roles: dict[str, dict[Name, Name]] = {}
    rotations: tuple[Rotation, ...] = ()


class Step(_Frozen):
    after: Duration = dt.timedelta(0)  # since the ticket opened (or reopened, reclassified)
    targets: Annotated[tuple[Target, ...], Field(min_length=1)]
    channels: Annotated[tuple[Name, ...], Field(min_length=1)]


class Policy(_Frozen):
    """Steps paged one after another until the ticket is acknowledged."""

    id: Name
    classes: Annotated[tuple[TicketClassName, ...], Field(min_length=1)]
    contracts: tuple[str, ...] = ()  # empty: every contract
    steps: Annotated[tuple[Step, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _in_order(self) -> Policy:
        delays = [s.after for s in self.steps]
        if delays != sorted(delays):
            raise ValueError("steps must be in order of their `after`")
        return self


class QuietHours(_Frozen):
    """C and D messages written between from and until wait until `until` (not dropped)."""

    start: TimeOfDay = Field(alias="from")
    until: TimeOfDay
    contracts: tuple[str, ...] = ()  # both empty: everywhere
    sites: tuple[str, ...] = ()
    classes: tuple[Literal["C", "D"], ...] = ("C", "D")  # A and B always go out
    timezone: TimeZone | None = None  # None: the ticket's site's time zone

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.until:
            raise ValueError("from and until must differ")
        return self


def problems(oncall: OnCall, policies: Iterable[Policy], channels: set[str]) -> Iterator[str]:
    """References inside the notify section that name nothing."""
    people = [p.id for p in oncall.people]
    if len(set(people)) != len(people):
        yield "oncall.people: ids must be unique"
    known = set(people)
    for p in oncall.people:
        for channel in p.addresses:
            if channel not in channels:
                yield f"oncall.people.{p.id}.addresses: no channel named {channel!r}"
    for contract, roles in oncall.roles.items():
        for role, person in roles.items():
            if person not in known:
                yield f"oncall.roles.{contract}.{role}: no person {person!r}"
    rotations = [r.id for r in oncall.rotations]
    if len(set(rotations)) != len(rotations):
        yield "oncall.rotations: ids must be unique"
    for r in oncall.rotations:
        for who in (*r.people, *(o.person for o in r.overrides)):
            if who not in known:
                yield f"oncall.rotations.{r.id}: no person {who!r}"
    role_names = {role for named in oncall.roles.values() for role in named}
    for policy in policies:
        for i, step in enumerate(policy.steps):
            where = f"escalation.{policy.id}.steps.{i}"
            for channel in step.channels:
                if channel not in channels:
                    yield f"{where}: no channel named {channel!r}"
            for target in step.targets:
                kind, _, name = target.partition(":")
                if kind == "person" and name not in known:
                    yield f"{where}: no person {name!r}"
                if kind == "role" and name not in role_names:
                    yield f"{where}: no role {name!r} in oncall.roles"


def unknown_places(
    oncall: OnCall,
    policies: Iterable[Policy],
    quiet: Iterable[QuietHours],
    contracts: set[str],
    sites: set[str],
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Contracts and sites named in the notify section that the configuration lacks."""
    for i, r in enumerate(oncall.rotations):
        path: tuple[str | int, ...] = ("notify", "oncall", "rotations", i)
        yield from _unknown(path, r.contracts, r.sites, contracts, sites)
    for i, p in enumerate(policies):
        yield from _unknown(("notify", "escalation", i), p.contracts, (), contracts, sites)
    for i, q in enumerate(quiet):
        yield from _unknown(("notify", "quiet_hours", i), q.contracts, q.sites, contracts, sites)
    for contract in oncall.roles:
        if contract != "*" and contract not in contracts:
            yield ("notify", "oncall", "roles", contract), f"unknown contract {contract!r}"


def _unknown(
    path: tuple[str | int, ...],
    named_contracts: Iterable[str],
    named_sites: Iterable[str],
    contracts: set[str],
    sites: set[str],
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for c in named_contracts:
        if c not in contracts:
            yield (*path, "contracts"), f"unknown contract {c!r}"
    for s in named_sites:
        if s not in sites:
            yield (*path, "sites"), f"unknown site {s!r}"
