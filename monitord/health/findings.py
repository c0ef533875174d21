"""Findings: what a device's own agent says is wrong (a port down, a PoE fault, a full disk),
each with its own SOFT/HARD state, confirmed the way ICMP states are.

`FindingTracker.observe()` takes one poll's findings and returns only HARD changes. A
problem is confirmed after `max_attempts` consecutive polls showing a problem; a recovery
to OK, or a change between problem kinds once confirmed, is news at once (Icinga's model).
State lives in memory: after a restart every check starts unknown again and a problem that
persists is reported once more when it is confirmed.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


FindingValue = int | float | str
_NO_VALUES: Final[Mapping[str, FindingValue]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Finding:
    """One check of one device: `check` is stable ("port:3", "poe:1.2", "storage:31")."""

    device_id: str
    check: str
    status: Status
    summary: str
    values: Mapping[str, FindingValue] = field(default_factory=lambda: _NO_VALUES)


@functools.lru_cache(maxsize=1024)
def shared(**values: FindingValue) -> Mapping[str, FindingValue]:
    """One read-only object for equal values of many devices: the latest finding of every
    check is kept, and at fleet size most cameras' are alike (~0.2 kB each)."""
    return MappingProxyType(values)


@dataclass(frozen=True, slots=True)
class FindingChange:
    """A HARD change of one check; `from_status` is None the first time a problem is seen."""

    device_id: str
    check: str
    at: dt.datetime
    from_status: Status | None
    to_status: Status
    summary: str
    values: Mapping[str, FindingValue]


@dataclass(slots=True)
class _CheckState:
    hard: Status | None = None
    attempt: int = 0
    last: Finding | None = None


class FindingTracker:
    def __init__(self) -> None:
        self._checks: dict[str, dict[str, _CheckState]] = {}

    def observe(
        self, findings: Iterable[Finding], now: dt.datetime, max_attempts: int
    ) -> list[FindingChange]:
        out: list[FindingChange] = []
        for f in findings:
            state = self._checks.setdefault(f.device_id, {}).setdefault(f.check, _CheckState())
            state.last = f
            if f.status == state.hard:
                state.attempt = 0
                continue
            problem_confirmed = state.hard not in (None, Status.OK)
            if f.status == Status.OK or problem_confirmed:
                # A recovery, or a confirmed problem changing kind: news at once. A check
                # first seen OK is not news (nothing to tell about a healthy port).
                if not (state.hard is None and f.status == Status.OK):
                    out.append(_change(f, state.hard, now))
                state.hard, state.attempt = f.status, 0
                continue
            state.attempt += 1
            if state.attempt >= max_attempts:
                out.append(_change(f, state.hard, now))
                state.hard, state.attempt = f.status, 0
        return out

    def soft(self, device_id: str) -> bool:
        """True while some check of the device awaits confirmation (poll again sooner)."""
        return any(s.attempt > 0 for s in self._checks.get(device_id, {}).values())

    def current(self, device_id: str) -> dict[str, Finding]:
        """The latest finding of each check (SOFT or HARD), for metrics and the CLI."""
        return {c: s.last for c, s in self._checks.get(device_id, {}).items() if s.last}

    def hard(self, device_id: str) -> dict[str, Status]:
        return {c: s.hard for c, s in self._checks.get(device_id, {}).items() if s.hard}

    def retain(self, devices: Iterable[str]) -> None:
        """Forget devices that left the configuration (or lost their SNMP settings)."""
        for device in self._checks.keys() - set(devices):
            del self._checks[device]


def _change(f: Finding, previous: Status | None, now: dt.datetime) -> FindingChange:
    return FindingChange(f.device_id, f.check, now, previous, f.status, f.summary, f.values)
