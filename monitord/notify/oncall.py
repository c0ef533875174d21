"""Who is on call at an instant: a rotation's turn, changed by overrides (pure functions).

Hand-overs happen at a wall-clock time in the rotation's time zone, so a shift is counted
in local calendar days: a daylight-saving change makes one shift an hour shorter or
longer, never moves the hand-over. An override's `replaces` names the person the rotation
schedules (not whoever an earlier override put there), so a swap is simply two overrides;
without `replaces` it covers whoever is scheduled. Of the overrides that match, the last
listed wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from monitord.config.models import Config
from monitord.config.oncall import Person

DEFAULT_ZONE = "Asia/Shanghai"
# How far `shift` looks for the previous/next change before saying "no change in sight".
_HORIZON = 400
_TICK = dt.timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Rotation:
    id: str
    timezone: str
    daily: bool
    handover_at: dt.time
    start: dt.date
    people: tuple[str, ...]
    contracts: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Override:
    start: dt.datetime  # aware
    until: dt.datetime  # aware, exclusive
    person: str
    replaces: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    """Who is on call at an instant, since when, until when, and who comes next."""

    person: str
    start: dt.datetime | None  # None: no change within the horizon
    end: dt.datetime | None
    next_person: str | None
    covering: str | None  # the scheduled person this one replaces, if an override applies


def handover_at(rotation: Rotation, day: dt.date) -> dt.datetime:
    """The instant (UTC) of the hand-over on local `day`."""
    local = dt.datetime.combine(day, rotation.handover_at, tzinfo=ZoneInfo(rotation.timezone))
    return local.astimezone(dt.UTC)


def _turn(rotation: Rotation, instant: dt.datetime) -> tuple[int, dt.date]:
    """The shift's number (0 = the first, negative before it) and its first local day."""
    day = instant.astimezone(ZoneInfo(rotation.timezone)).date()
    if instant < handover_at(rotation, day):
        day -= dt.timedelta(days=1)
    period = 1 if rotation.daily else 7
    n = (day - rotation.start).days // period
    return n, rotation.start + dt.timedelta(days=n * period)


def scheduled(rotation: Rotation, instant: dt.datetime) -> str:
    """Who the turn names, before overrides."""
    n, _ = _turn(rotation, instant)
    return rotation.people[n % len(rotation.people)]


def who_is_on_call(rotation: Rotation, overrides: Sequence[Override], instant: dt.datetime) -> str:
    planned = person = scheduled(rotation, instant)
    for o in overrides:
        if o.start <= instant < o.until and (o.replaces is None or o.replaces == planned):
            person = o.person
    return person


def next_handover(rotation: Rotation, instant: dt.datetime) -> dt.datetime:
    """The first rotation hand-over strictly after `instant`."""
    _, first = _turn(rotation, instant)
    return handover_at(rotation, first + dt.timedelta(days=1 if rotation.daily else 7))


def shift(rotation: Rotation, overrides: Sequence[Override], instant: dt.datetime) -> Shift:
    person = who_is_on_call(rotation, overrides, instant)
    edges = sorted({b for o in overrides for b in (o.start, o.until)})
    end: dt.datetime | None = None
    t = instant
    for _ in range(_HORIZON):
        candidates = [next_handover(rotation, t), *(b for b in edges if b > t)]
        t = min(candidates)
        if who_is_on_call(rotation, overrides, t) != person:
            end = t
            break
    start: dt.datetime | None = None
    t = instant
    for _ in range(_HORIZON):
        _, first = _turn(rotation, t)
        t = max([handover_at(rotation, first), *(b for b in edges if b <= t)])
        if who_is_on_call(rotation, overrides, t - _TICK) != person:
            start = t
            break
        t -= _TICK
    plan = scheduled(rotation, instant)
    return Shift(
        person=person,
        start=start,
        end=end,
        next_person=None if end is None else who_is_on_call(rotation, overrides, end),
        covering=plan if plan != person else None,
    )


@dataclass(frozen=True, slots=True)
class Directory:
    """People, their roles per contract and the rotations, resolved from the configuration."""

    people: Mapping[str, Person] = field(default_factory=dict)
    roles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    rotations: tuple[tuple[Rotation, tuple[Override, ...]], ...] = ()

    @classmethod
    def from_config(cls, config: Config) -> Directory:
        settings = config.notify.oncall
        zones = {s.id: s.timezone for s in config.sites}
        first_site: dict[str, str] = {}
        for s in config.sites:
            if s.contract is not None:
                first_site.setdefault(s.contract, s.timezone)
        rotations = []
        for r in settings.rotations:
            zone = r.timezone or next(
                (zones[s] for s in r.sites if s in zones),
                next((first_site[c] for c in r.contracts if c in first_site), DEFAULT_ZONE),
            )
            rotation = Rotation(
                r.id, zone, r.handover == "daily", r.handover_at, r.start, r.people,
                r.contracts, r.sites,
            )  # fmt: skip
            tz = ZoneInfo(zone)
            overrides = tuple(
                Override(_aware(o.start, tz), _aware(o.until, tz), o.person, o.replaces, o.note)
                for o in r.overrides
            )
            rotations.append((rotation, overrides))
        return cls(
            people={p.id: p for p in settings.people},
            roles=settings.roles,
            rotations=tuple(rotations),
        )

    def rotation_for(
        self, contract: str, site: str
    ) -> tuple[Rotation, tuple[Override, ...]] | None:
        """The site's own rotation, else its contract's."""
        for rotation, overrides in self.rotations:
            if site in rotation.sites:
                return rotation, overrides
        for rotation, overrides in self.rotations:
            if contract in rotation.contracts:
                return rotation, overrides
        return None

    def on_call(self, contract: str, site: str, instant: dt.datetime) -> Person | None:
        found = self.rotation_for(contract, site)
        if found is None:
            return None
        return self.people.get(who_is_on_call(found[0], found[1], instant))

    def in_role(self, contract: str, role: str) -> Person | None:
        named = self.roles.get(contract, {}).get(role) or self.roles.get("*", {}).get(role)
        return None if named is None else self.people.get(named)


def _aware(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    return at.replace(tzinfo=tz).astimezone(dt.UTC) if at.tzinfo is None else at


def address(person: Person, channel: str, channel_type: str) -> str | None:
    """The person's address on a channel: by the channel's name, else by its kind."""
    if channel in person.addresses:
        return person.addresses[channel]
    if channel_type == "webhook":
        return person.chat or ""  # a group bot reaches the group; a mention is optional
    return {"email": person.email, "sms": person.phone}.get(channel_type)
