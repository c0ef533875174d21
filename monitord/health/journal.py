"""A device's operation record as probes add to it: confirmed finding changes, one-off
events (a reboot, a trap) and what the device says about itself (firmware, vendor), each
written before it is logged, retried while the store is away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Final, Protocol, TypeVar

from monitord import log
from monitord.clock import Clock
from monitord.config.models import Device
from monitord.health.findings import FindingChange, Status
from monitord.health.writer import WriterThreads
from monitord.store.records import OperationEvent
from monitord.supervise import Backoff, retry

_STORE_TRIES: Final = 5
_STORE_RETRY: Final = Backoff(1.0, 30.0)
_T = TypeVar("_T")
# One thread for every probe's journal (SNMP, ONVIF, TCP): a fleet's polls wrote one
# transaction each through the default executor, and with SQLite serialising writers they
# held all of its workers waiting on the lock, so the ticket desk's and the API's calls
# queued behind them. Writes are serialised by the store anyway.
_WRITER: Final = WriterThreads(1, "probe-journal")


class EventLog(Protocol):
    """`store.states`, as far as a journal writes to it."""

    def record_event(self, event: OperationEvent) -> None: ...


class FactLog(Protocol):
    """`store.facts`, as far as a journal writes to it."""

    def learn(
        self, device_id: str, source: str, facts: Mapping[str, str], at: dt.datetime
    ) -> dict[str, tuple[str, str]]: ...


class EventStore(Protocol):
    @property
    def states(self) -> EventLog: ...

    @property
    def facts(self) -> FactLog: ...


class Journal:
    def __init__(self, store: EventStore, clock: Clock, source: str) -> None:
        self._store, self._clock = store, clock
        self._log = log.get(f"monitord.{source}")

    async def event(
        self, device: Device, kind: str, reason: str, values: Mapping[str, Any]
    ) -> None:
        await self.record(device, kind, reason, None, None, values)
        self._log.warning(
            "device event", device=device.id, site=device.site, kind=kind, reason=reason
        )

    async def changes(self, device: Device, changes: Iterable[FindingChange]) -> None:
        for c in changes:
            await self.record(
                device,
                "finding",
                f"{c.check}: {c.summary}",
                c.from_status.value if c.from_status else None,
                c.to_status.value,
                {"check": c.check, **c.values},
            )
            say = self._log.info if c.to_status == Status.OK else self._log.warning
            say(
                "finding changed",
                device=device.id,
                site=device.site,
                check=c.check,
                from_status=c.from_status.value if c.from_status else None,
                to_status=c.to_status.value,
                summary=c.summary,
            )

    async def learn(self, device: Device, source: str, facts: Mapping[str, str]) -> None:
        """Keep what the device says about itself; the store records what changed."""
        at = self._clock.now()
        changed = await self._retried(
            device, "facts", lambda: self._store.facts.learn(device.id, source, facts, at)
        )
        for name, (old, new) in (changed or {}).items():
            self._log.warning(
                "device event",
                device=device.id,
                site=device.site,
                kind="firmware" if name == "firmware" else "archive",
                reason=f"{name} changed: {old[:120]} -> {new[:120]}",
            )

    async def record(
        self,
        device: Device,
        kind: str,
        reason: str,
        from_state: str | None,
        to_state: str | None,
        values: Mapping[str, Any],
    ) -> None:
        event = OperationEvent(
            device.id, self._clock.now(), kind, from_state, to_state, reason, dict(values)
        )
        await self._retried(
            device, f"{kind}: {reason}", lambda: self._store.states.record_event(event)
        )

    async def _retried(self, device: Device, what: str, write: Callable[[], _T]) -> _T | None:
        """The write's result; None when the store stayed away through every try."""

        def failed(exc: Exception) -> None:
            self._log.error("cannot write to the store; retrying", device=device.id, error=str(exc))

        try:
            return await retry(
                partial(_WRITER.run, write),
                self._clock,
                _STORE_RETRY,
                Exception,  # the store may come back
                failed,
                tries=_STORE_TRIES,
            )
        except Exception:  # noqa: BLE001 - reported above, each time
            self._log.error("not recorded", device=device.id, what=what)
            return None
