"""Escalation: which step of a ticket's policy is due, and whom it pages (pure functions).

A policy starts over at the ticket's last anchor: its opening, reopening or
reclassification. Step i is due at anchor + after (moved to the end of quiet hours for a
held class). Steps due at the anchor itself go out with the anchor event's messages; each
later step is an `escalated` event in the ticket's log, carrying its messages in the same
transaction. The lifecycle allows `escalated` only while the ticket is open, and the store
writes an event only against the version it was checked on, so once the acknowledgement
is written no later step can be: not after a restart, not when two daemons race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitord.config.models import Config
from monitord.config.oncall import Policy, QuietHours
from monitord.notify.oncall import Directory, address
from monitord.notify.quiet import release
from monitord.store.records import TicketRecord
from monitord.ticketing.lifecycle import EventKind, Status, TicketEvent, derive

ANCHORS = frozenset({EventKind.OPENED, EventKind.REOPENED, EventKind.RECLASSIFIED})


@dataclass(frozen=True, slots=True)
class Page:
    step: int  # 0-based
    person: str
    language: str
    channel: str
    address: str
    console_user: str | None = None  # their messages carry a one-time sign-in link


@dataclass(frozen=True, slots=True)
class Unreached:
    """A target a step could not page (nobody on call, no such role, no address)."""

    step: int
    target: str
    channel: str | None


@dataclass(frozen=True, slots=True)
class Paging:
    """Policies, people and quiet hours, resolved from the configuration."""

    policies: tuple[Policy, ...] = ()
    directory: Directory = field(default_factory=Directory)
    quiet: tuple[QuietHours, ...] = ()
    channel_types: Mapping[str, str] = field(default_factory=dict)
    timezones: Mapping[str, str] = field(default_factory=dict)  # site -> IANA zone
    sites: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # contract -> sites

    @classmethod
    def from_config(cls, config: Config) -> Paging:
        n = config.notify
        return cls(
            policies=n.escalation,
            directory=Directory.from_config(config),
            quiet=n.quiet_hours,
            channel_types={c.name: c.type for c in n.channels},
            timezones={s.id: s.timezone for s in config.sites},
            sites={
                c.id: tuple(s.id for s in config.sites if s.contract == c.id)
                for c in config.contracts
            },
        )

    def policy_for(self, ticket: TicketRecord) -> Policy | None:
        cls = ticket.ticket_class or "hotline"
        for p in self.policies:
            if cls in p.classes and (not p.contracts or ticket.contract in p.contracts):
                return p
        return None

    def release(self, ticket: TicketRecord, at: dt.datetime) -> dt.datetime:
        """When a message about `ticket` written at `at` may go (quiet hours)."""
        zone = self.timezones.get(ticket.site_id, "Asia/Shanghai")
        cls = ticket.ticket_class or "hotline"
        return release(self.quiet, ticket.contract, ticket.site_id, zone, cls, at)


def told_at(event: TicketEvent) -> dt.datetime:
    """When people could first be told of `event`. A ticket opened late (a fault replayed
    from a site's gap, sites/gap.py) keeps its SLA clocks from the fault (`event.at`) but
    escalates and keeps quiet hours from when it was told, so a long gap does not fire
    every step of the policy at once."""
    late = event.data.get("delayed")
    if isinstance(late, Mapping):
        try:
            until = dt.datetime.fromisoformat(str(late.get("until")))
        except ValueError:
            return event.at
        if until.tzinfo is not None:
            return max(until, event.at)
    return event.at


def anchor(events: Sequence[TicketEvent]) -> int | None:
    """The index of the event the policy runs from (its seq is index + 1)."""
    for i in range(len(events) - 1, -1, -1):
        if events[i].kind in ANCHORS:
            return i
    return None


def due_at(
    paging: Paging, ticket: TicketRecord, policy: Policy, at: dt.datetime
) -> list[dt.datetime]:
    """When each step of `policy` is due, for an anchor at `at`."""
    return [paging.release(ticket, at + step.after) for step in policy.steps]


def with_anchor(paging: Paging, ticket: TicketRecord, at: dt.datetime) -> list[int]:
    """The steps that go out with the anchor event itself (due at once, not held)."""
    policy = paging.policy_for(ticket)
    if policy is None:
        return []
    return [i for i, due in enumerate(due_at(paging, ticket, policy, at)) if due <= at]


@dataclass(frozen=True, slots=True)
class Due:
    policy: str
    step: int
    anchor_seq: int
    at: dt.datetime


def due_steps(
    paging: Paging, ticket: TicketRecord, events: Sequence[TicketEvent], now: dt.datetime
) -> tuple[list[Due], dt.datetime | None]:
    """The steps due by `now` and not yet fired, and when the next one falls due."""
    policy = paging.policy_for(ticket)
    i = anchor(events)
    if policy is None or i is None or derive(events).status != Status.OPEN:
        return [], None
    start = told_at(events[i])
    fired = {
        int(e.data.get("step", -1))
        for e in events[i + 1 :]
        if e.kind == EventKind.ESCALATED and e.data.get("anchor") == i + 1
    }
    due: list[Due] = []
    upcoming: dt.datetime | None = None
    for step, at in enumerate(due_at(paging, ticket, policy, start)):
        if at <= start or step in fired:
            continue  # went out with the anchor, or already fired
        if at <= now:
            due.append(Due(policy.id, step, i + 1, at))
        elif upcoming is None or at < upcoming:
            upcoming = at
    return due, upcoming


def pages(
    paging: Paging, ticket: TicketRecord, step: int, at: dt.datetime
) -> tuple[list[Page], list[Unreached]]:
    """Whom step `step` of the ticket's policy pages at `at`, on which channels."""
    policy = paging.policy_for(ticket)
    if policy is None or step >= len(policy.steps):
        return [], []
    d = paging.directory
    out: list[Page] = []
    missed: list[Unreached] = []
    s = policy.steps[step]
    for target in s.targets:
        kind, _, name = target.partition(":")
        if kind == "oncall":
            person = d.on_call(ticket.contract, ticket.site_id, at)
        elif kind == "role":
            person = d.in_role(ticket.contract, name)
        else:
            person = d.people.get(name)
        if person is None:
            missed.append(Unreached(step, target, None))
            continue
        for channel in s.channels:
            to = address(person, channel, paging.channel_types.get(channel, ""))
            if to is None:
                missed.append(Unreached(step, target, channel))
                continue
            out.append(Page(step, person.id, person.language, channel, to, person.console_user))
    return out, missed


def unreachable(paging: Paging) -> list[str]:
    """Policy targets that name nobody for some contract or site, as readable lines."""
    problems = []
    d = paging.directory
    for policy in paging.policies:
        covered = [c for c in paging.sites if not policy.contracts or c in policy.contracts]
        for number, step in enumerate(policy.steps, start=1):
            for target in step.targets:
                kind, _, name = target.partition(":")
                for contract in covered:
                    where = f"policy {policy.id} step {number} ({target}), contract {contract}"
                    if kind == "role" and d.in_role(contract, name) is None:
                        problems.append(f"{where}: nobody has the role")
                    if kind == "person" and name not in d.people:
                        problems.append(f"{where}: no such person")
                    if kind != "oncall":
                        continue
                    bare = [s for s in paging.sites[contract] if not d.rotation_for(contract, s)]
                    if bare:
                        problems.append(f"{where}: no rotation covers {', '.join(bare)}")
    return problems
