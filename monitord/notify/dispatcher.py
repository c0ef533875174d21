"""The dispatcher: claims due outbox rows, sends them, records each outcome.

1. Claim up to `batch` due rows (a conditional UPDATE with a lease: see store/outbox.py).
2. Send them, at most `concurrency` at a time.
3. Sent -> `sent`. A permanent failure -> `failed`, with the channel's reason. A transient
   failure -> `pending` again after an exponential back-off (10 s, 20 s, … up to 15 min),
   until the message is older than the retry window (default 24 h) -> `failed`.
4. Nothing due: wait `idle` seconds and look again.

A crash anywhere leaves the row `sending`; its lease expires and another pass sends it
again: at most one repeat per crash, never a loss.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter

from monitord import log
from monitord.clock import Clock
from monitord.config.notify import NotifySettings
from monitord.notify.channels import Channel, DeliveryError, build
from monitord.store import Store, StoreError
from monitord.store.records import OutboxMessage

_log = log.get("monitord.notify")


class NotifyCounters:
    def __init__(self, registry: CollectorRegistry | None) -> None:
        labels = ["channel"]
        self.sent = Counter(
            "monitord_notifications_sent", "Messages delivered", labels, registry=registry
        )
        self.failed = Counter(
            "monitord_notifications_failed",
            "Messages given up on (permanent failure or retry window over)",
            labels,
            registry=registry,
        )
        self.retried = Counter(
            "monitord_notifications_retries",
            "Transient failures, to be retried",
            labels,
            registry=registry,
        )


class Dispatcher:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        settings: NotifySettings,
        registry: CollectorRegistry | None = None,
        channels: Mapping[str, Channel] | None = None,
        batch: int = 50,
        idle: float = 1.0,
        lease: dt.timedelta = dt.timedelta(minutes=5),
        first_backoff: float = 10.0,
        max_backoff: float = 900.0,
        contracts: Sequence[str] = (),
    ) -> None:
        self._store, self._clock = store, clock
        self._batch, self._idle, self._lease = batch, idle, lease
        self._first_backoff, self._max_backoff = first_backoff, max_backoff
        self._fixed = channels
        self.counters = NotifyCounters(registry)
        # Refreshed every pass, read by /metrics: a scrape never waits for the database.
        self.summary: tuple[dict[tuple[str, str], int], dt.datetime | None] = ({}, None)
        self.apply(settings, contracts)

    def apply(self, settings: NotifySettings, contracts: Sequence[str] = ()) -> None:
        """A reloaded configuration: new channels and limits for the next messages."""
        self.settings = settings
        # A contract whose tickets reach nobody is an alert in itself (log and /metrics).
        self.unrouted = sorted(
            c
            for c in contracts
            if not (settings.recipients.get(c) or settings.recipients.get("*"))
            and not any(not p.contracts or c in p.contracts for p in settings.escalation)
        )
        if self.unrouted:
            _log.warning("tickets of these contracts notify nobody", contracts=self.unrouted)
        self.channels: Mapping[str, Channel] = (
            self._fixed
            if self._fixed is not None
            else {c.name: build(c) for c in settings.channels}
        )
        self._seats = asyncio.Semaphore(settings.concurrency)
        # The lease must outlast a whole batch waiting for seats and timing out, or a slow
        # batch would be claimed (and sent) a second time while the first is still going.
        slowest = max((c.timeout for c in settings.channels), default=0.0)
        rounds = math.ceil(self._batch / settings.concurrency)
        self.lease = max(self._lease, dt.timedelta(seconds=2 * rounds * slowest))

    async def run(self) -> None:
        while True:
            try:
                done = await self.pass_once()
                self.summary = await asyncio.to_thread(self._store.outbox_summary)
            except StoreError as exc:
                _log.error("cannot read the outbox; retrying", error=str(exc))
                done = 0
            if done < self._batch:
                await self._clock.sleep(self._idle)

    async def pass_once(self) -> int:
        """Claim what is due and send it; returns how many rows were claimed."""
        claimed = await asyncio.to_thread(
            self._store.claim_outbox, self._clock.now(), self._batch, self.lease
        )
        results = await asyncio.gather(*(self._deliver(m) for m in claimed), return_exceptions=True)
        for message, result in zip(claimed, results, strict=True):
            if isinstance(result, BaseException):
                # The outcome could not be recorded (the database is away): the lease
                # expires and the message goes again, at most once more.
                _log.error(
                    "cannot record a delivery", key=message.idempotency_key, error=str(result)
                )
        return len(claimed)

    async def _deliver(self, message: OutboxMessage) -> None:
        channel = self.channels.get(message.channel)
        async with self._seats:
            try:
                if channel is None:
                    # Removed from the configuration: it may come back with a reload.
                    raise DeliveryError(f"no channel named {message.channel!r}")
                await channel.send(message)
            except DeliveryError as exc:
                await self._failed(message, str(exc), exc.permanent)
                return
            except Exception as exc:  # noqa: BLE001 (a channel's bug must not stop the others)
                await self._failed(message, f"unexpected {type(exc).__name__}", False)
                return
        now = self._clock.now()
        await asyncio.to_thread(self._store.mark_sent, message.id, now)
        self.counters.sent.labels(message.channel).inc()
        _log.info("message sent", key=message.idempotency_key, attempts=message.attempts)

    async def _failed(self, message: OutboxMessage, error: str, permanent: bool) -> None:
        now = self._clock.now()
        expired = now - message.created_at >= self.settings.retry_window
        if permanent or expired:
            reason = error if permanent else f"gave up after {message.attempts} attempts: {error}"
            await asyncio.to_thread(self._store.mark_failed, message.id, reason)
            self.counters.failed.labels(message.channel).inc()
            _log.error("message failed", key=message.idempotency_key, error=reason)
            return
        delay = min(self._max_backoff, self._first_backoff * 2 ** max(0, message.attempts - 1))
        until = now + dt.timedelta(seconds=delay)
        await asyncio.to_thread(self._store.mark_retry, message.id, until, error)
        self.counters.retried.labels(message.channel).inc()
        _log.warning(
            "message not delivered; will retry",
            key=message.idempotency_key,
            error=error,
            retry_in=delay,
        )
