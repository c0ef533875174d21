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


@dataclass(frozen=True, slots=True)
class Latest:
    """A check's latest finding with its confirmed state: `hard` (None until a problem is
    confirmed or a first OK seen) and the SOFT `attempt` count towards confirming."""

    status: Status
    summary: str
    values: Mapping[str, FindingValue]
    hard: Status | None
    attempt: int


# Alike records are one object: at fleet size most cameras' checks read the same (ONVIF
# answers, clock 0 s ahead), so a device's checks cost a dict slot each, not two objects
# (~7.6 MB at 10 000 cameras). Keyed by the values' identity: the record keeps them alive,
# so an id is never reused while its key is here.
_LATEST: dict[tuple[Status, str, int, Status | None, int], Latest] = {}
_LATEST_MAX: Final = 4096


def _latest(f: Finding, hard: Status | None, attempt: int) -> Latest:
    if type(f.values) is not MappingProxyType:  # per-poll values (counters): never alike
        return Latest(f.status, f.summary, f.values, hard, attempt)
    key = (f.status, f.summary, id(f.values), hard, attempt)
    found = _LATEST.get(key)
    if found is None:
        if len(_LATEST) >= _LATEST_MAX:  # bounded: records in use stay with their checks
            _LATEST.clear()
        found = _LATEST[key] = Latest(f.status, f.summary, f.values, hard, attempt)
    return found


class FindingTracker:
    def __init__(self) -> None:
        self._checks: dict[str, dict[str, Latest]] = {}

    def observe(
        self, findings: Iterable[Finding], now: dt.datetime, max_attempts: int
    ) -> list[FindingChange]:
        out: list[FindingChange] = []
        for f in findings:
            checks = self._checks.get(f.device_id)
            if checks is None:
                checks = self._checks[f.device_id] = {}
            before = checks.get(f.check)
            hard, attempt = (before.hard, before.attempt) if before else (None, 0)
            if f.status == hard:
                attempt = 0
            elif f.status == Status.OK or hard not in (None, Status.OK):
                # A recovery, or a confirmed problem changing kind: news at once. A check
                # first seen OK is not news (nothing to tell about a healthy port).
                if not (hard is None and f.status == Status.OK):
                    out.append(_change(f, hard, now))
                hard, attempt = f.status, 0
            else:
                attempt += 1
                if attempt >= max_attempts:
                    out.append(_change(f, hard, now))
                    hard, attempt = f.status, 0
            checks[f.check] = _latest(f, hard, attempt)
        return out

    def soft(self, device_id: str) -> bool:
        """True while some check of the device awaits confirmation (poll again sooner)."""
        return any(s.attempt > 0 for s in self._checks.get(device_id, {}).values())

    def current(self, device_id: str) -> dict[str, Latest]:
        """The latest finding of each check (SOFT or HARD), for metrics and the CLI."""
        return dict(self._checks.get(device_id, {}))

    def hard(self, device_id: str) -> dict[str, Status]:
        return {c: s.hard for c, s in self._checks.get(device_id, {}).items() if s.hard}

    def retain(self, devices: Iterable[str]) -> None:
        """Forget devices that left the configuration (or lost their SNMP settings)."""
        for device in self._checks.keys() - set(devices):
            del self._checks[device]


def _change(f: Finding, previous: Status | None, now: dt.datetime) -> FindingChange:
    return FindingChange(f.device_id, f.check, now, previous, f.status, f.summary, f.values)
