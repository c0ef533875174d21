"""The daily digest: each contract's open C/D tickets, once a day at a set local hour.

Once per day even across restarts: each digest is an outbox row whose idempotency key names
the contract, the local date, the channel and the recipient, so writing it again (after a
restart, by a second daemon) inserts nothing. A contract's day is in its business-hours
time zone (Asia/Shanghai without one). Nothing open, no digest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from monitord import log
from monitord.clock import Clock
from monitord.config.contracts import Contract
from monitord.config.delivery import Digest
from monitord.config.notify import NotifyEvent
from monitord.notify.messages import Routing
from monitord.present.i18n import DIGEST, DIGEST_STATUS, word
from monitord.store import Store, StoreError
from monitord.store.records import OutboxRecord, TicketRecord
from monitord.supervise import repeat
from monitord.ticketing.lifecycle import Status

_log = log.get("monitord.notify")
_SHORT_CHANNELS = frozenset({"sms"})
OPEN = tuple(s.value for s in Status if s != Status.CLOSED)


def zone_of(contract: Contract) -> ZoneInfo:
    hours = contract.business_hours
    return ZoneInfo(hours.timezone if hours is not None else "Asia/Shanghai")


def day_due(now: dt.datetime, contract: Contract, hour: int) -> dt.date | None:
    """The local date whose digest is due at `now`, or None before the hour."""
    local = now.astimezone(zone_of(contract))
    return local.date() if local.hour >= hour else None


def digest_records(
    contract: Contract,
    day: dt.date,
    tickets: Sequence[TicketRecord],
    routing: Routing,
    settings: Digest,
) -> list[OutboxRecord]:
    """The digest rows of one contract for one day: one per recipient that wants it."""
    out = []
    recipients = (*routing.recipients.get(contract.id, ()), *routing.recipients.get("*", ()))
    for r in recipients:
        if NotifyEvent.DIGEST not in r.events:
            continue
        classes = [c for c in settings.classes if not r.classes or c in r.classes]
        listed = [t for t in tickets if t.ticket_class in classes]
        if not listed:
            continue
        short = routing.channel_types.get(r.channel) in _SHORT_CHANNELS
        subject, body = render(contract, day, listed, classes, routing, r.language, settings)
        key = f"digest/{contract.id}/{day.isoformat()}/{r.channel}/{r.to}"
        out.append(OutboxRecord(r.channel, r.to, subject, subject if short else body, key=key))
    return out


def render(
    contract: Contract,
    day: dt.date,
    tickets: Sequence[TicketRecord],
    classes: Sequence[str],
    routing: Routing,
    language: str,
    settings: Digest,
) -> tuple[str, str]:
    which = "/".join(classes)
    n = len(tickets)
    subject = word(DIGEST, "subject", language).format(
        contract=contract.name, which=which, n=n, day=day.isoformat()
    )
    lines = [subject, ""]
    for t in sorted(tickets, key=lambda t: (t.ticket_class or "", t.opened_at))[: settings.listed]:
        tz = ZoneInfo(routing.timezones.get(t.site_id, "Asia/Shanghai"))
        opened = t.opened_at.astimezone(tz).strftime("%m-%d %H:%M")
        status = word(DIGEST_STATUS, t.status, language)
        lines.append(f"#{t.id} [{t.ticket_class}] {t.site_id} {t.title} ({status}, {opened})")
    if n > settings.listed:
        lines.append(word(DIGEST, "more", language).format(more=n - settings.listed))
    if routing.base_url:
        lines.append(f"{routing.base_url.rstrip('/')}/api/v1/tickets")
    return subject, "\n".join(lines)


class DigestTask:
    """Looks every minute whether a contract's digest is due, and queues it once."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        routing: Callable[[], Routing],
        settings: Callable[[], Digest],
        every: float = 60.0,
    ) -> None:
        self._store, self._clock = store, clock
        self._routing, self._settings, self._every = routing, settings, every
        self._done: set[tuple[str, dt.date]] = set()  # saves the queries, not the guarantee

    async def run(self) -> None:
        await repeat(self.step, self._clock)

    async def step(self) -> float:
        """Queue what is due; returns the seconds until the next look."""
        try:
            await self.pass_once()
        except StoreError as exc:
            _log.error("cannot queue the daily digest; retrying", error=str(exc))
        return self._every

    async def pass_once(self) -> int:
        """Queue the digests due now; returns how many rows were offered to the outbox."""
        settings, routing = self._settings(), self._routing()
        if not settings.enabled:
            return 0
        now = self._clock.now()
        offered = 0
        for contract in routing.contracts.values():
            day = day_due(now, contract, settings.hour)
            if day is None or (contract.id, day) in self._done:
                continue
            tickets = await asyncio.to_thread(self._store.tickets.recent, OPEN, contract.id, 10_000)
            records = digest_records(contract, day, tickets, routing, settings)
            if records:
                await asyncio.to_thread(self._store.outbox.enqueue, records, now)
                _log.info("daily digest queued", contract=contract.id, day=day.isoformat())
            self._done.add((contract.id, day))
            offered += len(records)
        return offered
