"""Leadership of the centre's singleton work through the lease row (store/lease.py).

With `centre.ha.enabled`, every centre renews the lease every third of its length; the one
holding it runs the singleton steps (SLA clocks, dispatch, escalation, ...) inside
`fenced(token)`, so each of their writes checks the epoch in its own transaction. A standby's
gated steps do nothing and look again soon. The node believes it leads only until
`lease × 0.9` after the start of its last successful renewal (measured on its monotonic
clock), so a node cut off from the database stops its singleton work within one lease
period, before anyone else can have taken over; the fence in the database is the truth.

Not a session advisory lock: those are lost with the connection (pool recycling, failover)
while the process carries on, and leak with cancelled tasks (docs/operator-guide.md).
"""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

from prometheus_client import CollectorRegistry, Gauge

from monitord import log
from monitord.clock import Clock
from monitord.config.centre import HaSettings
from monitord.store import Store, StoreError
from monitord.store.fencing import Fenced, FenceToken, fenced
from monitord.supervise import Step

_log = log.get("monitord.centre")
LEASE = "centre"  # one lease for all the singleton work: it moves as a whole
_STANDBY = 1.0


class Leadership:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: HaSettings,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._store, self._clock = store, clock
        self.node = settings.node
        # Unique per process: a node restarted at once waits out its own old lease rather
        # than two processes with one name both leading.
        self.holder = f"{settings.node}/{secrets.token_hex(4)}"
        self._seconds = settings.lease.total_seconds()
        self._token: FenceToken | None = None
        # Its own thread: a renewal queued behind a busy default executor (every to_thread
        # of the daemon) would drop a healthy leader. Not the caller's context: unfenced.
        self._thread = ThreadPoolExecutor(1, "centre-lease")
        self._until = 0.0  # monotonic instant the belief in leading lapses
        self._leader = Gauge(
            "monitord_centre_leader",
            "1 while this centre holds the HA lease and runs the singleton work",
            registry=registry,
        )
        self._epoch = Gauge(
            "monitord_centre_lease_epoch", "The HA lease's epoch this centre last held",
            registry=registry,
        )  # fmt: skip

    @property
    def token(self) -> FenceToken | None:
        """The fencing token while this node believes it leads, else None."""
        if self._token is not None and self._clock.monotonic() >= self._until:
            self._lose("lease not renewed in time")
        return self._token

    async def step(self) -> float:
        """Renew (or try to take) the lease; returns the wait until the next try."""
        started = self._clock.monotonic()
        try:
            token = await asyncio.get_running_loop().run_in_executor(
                self._thread, self._store.leases.acquire, LEASE, self.holder, self._seconds
            )
        except StoreError as exc:
            _log.warning("cannot renew the centre lease", error=str(exc))
            self.token  # noqa: B018 - lapses the belief once it is due
            return self._seconds / 3
        if token is None:
            self._lose("another centre holds the lease")
            return self._seconds / 5  # a standby looks more often: takeover soon after expiry
        if self._token != token:
            _log.info("leading the centre's singleton work", node=self.node, epoch=token.epoch)
        self._token, self._until = token, started + self._seconds * 0.9
        self._leader.set(1)
        self._epoch.set(token.epoch)
        return self._seconds / 3

    def gated(self, step: Step) -> Step:
        """`step` run only while leading, with its writes fenced by the lease's epoch."""

        async def run() -> float:
            token = self.token
            if token is None:
                return _STANDBY  # only a look at memory: cheap, and quick to start on takeover
            try:
                with fenced(token):
                    return await step()
            except Fenced as exc:
                self._lose(str(exc))
                return _STANDBY

        return run

    async def release(self) -> None:
        """A clean stop: let the lease run out now, so a standby takes over at its next try."""
        token, self._token = self._token, None
        self._leader.set(0)
        try:
            if token is not None:
                await asyncio.get_running_loop().run_in_executor(
                    self._thread, self._store.leases.release, token
                )
        except StoreError as exc:
            _log.warning("cannot release the centre lease; it runs out", error=str(exc))
        finally:
            self._thread.shutdown(wait=False)

    def _lose(self, why: str) -> None:
        if self._token is not None:
            _log.warning("no longer leading the centre", node=self.node, why=why)
        self._token = None
        self._leader.set(0)
