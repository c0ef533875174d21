"""The dispatcher: claims due outbox rows as groups, sends one message per group, records
each outcome on every row of the group.

1. Claim due rows, grouped by notify/grouping.py (a storm at one site is one message per
   recipient and channel), up to `batch` groups: one transaction with a lease per row.
2. Send them, at most `concurrency` at a time.
3. Sent -> `sent`. A permanent failure -> `failed`, with the channel's reason. A transient
   failure -> `pending` again after an exponential back-off (10 s, 20 s, … up to 15 min),
   until a row is older than the retry window (default 24 h) -> `failed`.
4. Nothing claimed: wait `idle` seconds and look again. Hourly, delivered rows older than the
   retention are deleted.

A crash anywhere leaves the rows `sending`; their lease expires and another pass sends the
same group again under the same key: at most one repeat per crash, never a loss.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram

from monitord import log
from monitord.clock import Clock
from monitord.config.notify import NotifySettings
from monitord.notify.channels import Channel, DeliveryError, build
from monitord.notify.grouping import Planner, compose
from monitord.notify.links import ContactMinter, Minter, fill, has_marks
from monitord.store import Store, StoreError
from monitord.store.records import OutboxMessage
from monitord.supervise import Backoff, repeat

_log = log.get("monitord.notify")
# From the ticket event to its message delivered: seconds (grouping waits) to a day (retries).
_LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600, 86_400)
_PRUNE_EVERY = dt.timedelta(hours=1)


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
        self.latency = Histogram(
            "monitord_notification_delivery_seconds",
            "From the ticket event to its message delivered (each grouped row counts)",
            labels,
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self.grouped = Counter(
            "monitord_notifications_grouped_rows",
            "Outbox rows delivered inside a message about several (storm grouping)",
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
        lease: dt.timedelta | None = None,
        first_backoff: float = 10.0,
        max_backoff: float = 900.0,
        contracts: Sequence[str] = (),
        candidates: int = 2000,
        signin: Minter | None = None,
        contact_links: ContactMinter | None = None,
    ) -> None:
        self._store, self._clock = store, clock
        self._signin = signin  # mints the console's one-time links (notify/links.py)
        self._contact_links = contact_links  # a customer contact's sign-off / survey links
        self._batch, self._idle, self._lease = batch, idle, lease
        self._candidates = candidates
        self._pruned: dt.datetime | None = None
        # Counted from the attempts the outbox stores, so a restart keeps the pace.
        self._backoff = Backoff(first_backoff, max_backoff)
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
        self._planner = Planner(settings.grouping, self._batch)
        self._short = {c.name for c in settings.channels if c.type == "sms"}
        self._seats = asyncio.Semaphore(settings.concurrency)
        # The lease must outlast a whole batch waiting for seats and timing out, or a slow
        # batch would be claimed (and sent) a second time while the first is still going.
        slowest = max((c.timeout for c in settings.channels), default=0.0)
        rounds = math.ceil(self._batch / settings.concurrency)
        lease = self._lease if self._lease is not None else settings.lease
        self.lease = max(lease, dt.timedelta(seconds=2 * rounds * slowest))

    async def run(self) -> None:
        await repeat(self.step, self._clock)

    async def step(self) -> float:
        """One pass over the outbox; returns the wait until the next (none while busy)."""
        try:
            done = await self.pass_once()
            await self.prune()
            self.summary = await asyncio.to_thread(self._store.outbox.summary)
        except StoreError as exc:
            _log.error("cannot read the outbox; retrying", error=str(exc))
            done = 0
        return self._idle if done == 0 else 0.0

    async def pass_once(self) -> int:
        """Claim what is due and send it; returns how many rows were claimed."""
        planner = self._planner
        groups = await asyncio.to_thread(
            self._store.outbox.claim_groups,
            self._clock.now(),
            self.lease,
            self._candidates,
            planner,
            planner.horizon,
        )
        results = await asyncio.gather(
            *(self._deliver(key, rows, planner) for key, rows in groups), return_exceptions=True
        )
        for (key, _), result in zip(groups, results, strict=True):
            if isinstance(result, BaseException):
                # The outcome could not be recorded (the database is away): the lease
                # expires and the message goes again, at most once more.
                _log.error("cannot record a delivery", key=key, error=str(result))
        return sum(len(rows) for _, rows in groups)

    async def prune(self) -> None:
        """Hourly: delete delivered rows older than the retention."""
        now = self._clock.now()
        if self._pruned is not None and now - self._pruned < _PRUNE_EVERY:
            return
        gone = await asyncio.to_thread(self._store.outbox.prune, now - self.settings.retention)
        self._pruned = now
        if gone:
            _log.info("delivered messages pruned", rows=gone)

    async def _deliver(self, key: str, rows: list[OutboxMessage], planner: Planner) -> None:
        message = compose(
            key,
            rows,
            planner.about.get(key),
            rows[0].channel in self._short,
            self.settings.grouping.listed,
        )
        if has_marks(message.body):  # a fresh token per attempt; an unused one just expires
            body = await asyncio.to_thread(fill, message.body, self._signin, self._contact_links)
            message = dataclasses.replace(message, body=body)
        channel = self.channels.get(message.channel)
        async with self._seats:
            try:
                if channel is None:
                    # Removed from the configuration: it may come back with a reload.
                    raise DeliveryError(f"no channel named {message.channel!r}")
                await channel.send(message)
            except DeliveryError as exc:
                await self._failed(message, rows, str(exc), exc.permanent)
                return
            except Exception as exc:  # noqa: BLE001 (a channel's bug must not stop the others)
                await self._failed(message, rows, f"unexpected {type(exc).__name__}", False)
                return
        now = self._clock.now()
        await asyncio.to_thread(self._store.outbox.mark_sent, [r.id for r in rows], now)
        self.counters.sent.labels(message.channel).inc()
        for r in rows:
            self.counters.latency.labels(message.channel).observe(
                max(0.0, (now - r.created_at).total_seconds())
            )
        if len(rows) > 1:
            self.counters.grouped.labels(message.channel).inc(len(rows))
        _log.info("message sent", key=key, rows=len(rows), attempts=message.attempts)

    async def _failed(
        self, message: OutboxMessage, rows: list[OutboxMessage], error: str, permanent: bool
    ) -> None:
        now = self._clock.now()
        window = self.settings.retry_window
        over = {r.id for r in rows if permanent or now - r.created_at >= window}
        if over:
            reason = error if permanent else f"gave up after {message.attempts} attempts: {error}"
            await asyncio.to_thread(self._store.outbox.mark_failed, sorted(over), reason)
            self.counters.failed.labels(message.channel).inc(len(over))
            _log.error("message failed", key=message.idempotency_key, rows=len(over), error=reason)
        waiting = [r.id for r in rows if r.id not in over]
        if not waiting:
            return
        delay = self._backoff.delay(message.attempts)
        until = now + dt.timedelta(seconds=delay)
        await asyncio.to_thread(self._store.outbox.mark_retry, waiting, until, error)
        self.counters.retried.labels(message.channel).inc()
        _log.warning(
            "message not delivered; will retry",
            key=message.idempotency_key,
            rows=len(waiting),
            error=error,
            retry_in=delay,
        )
