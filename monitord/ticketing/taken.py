"""When an action was taken: the phone's time when it is plausible, else the server's.

An engineer in a basement presses "on site" without signal; the phone queues the action
and sends it when the signal returns (console/static/offline.js). The contract counts the
arrival, not the moment the phone found a network, so the event is dated when it was
taken, provided the claim fits what the server knows:

- not later than the server's now (a phone clock a little ahead, within SKEW, is read as
  now; further ahead is not believed);
- not older than OLDEST (a queue that old, or a wrong phone clock, is not believed);
- not before the ticket opened, beyond SKEW (impossible: the button was not there);
- not before the log's last event: the log stays in time order, so such a claim is moved
  up to that event's time (the closest the log can say truthfully) rather than to now.

Anything not believed falls back to the server's time. The event records both times and
which one it took (`time_from`), so a report can show the difference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

SKEW: Final = dt.timedelta(minutes=2)
OLDEST: Final = dt.timedelta(hours=24)

Source = Literal["client", "previous", "server"]


@dataclass(frozen=True, slots=True)
class Taken:
    at: dt.datetime  # the event's time
    source: Source

    def record(self, claimed: dt.datetime, received: dt.datetime) -> dict[str, str]:
        """What the event keeps about its time (its data)."""
        return {"taken_at": claimed.isoformat(), "received_at": received.isoformat(),
                "time_from": self.source}  # fmt: skip


def when_taken(
    claimed: dt.datetime | None,
    now: dt.datetime,
    opened: dt.datetime | None,
    last: dt.datetime | None,
) -> Taken:
    """The event's time for an action claimed at `claimed`, received at `now`, on a ticket
    opened at `opened` whose last event is at `last` (both None before a ticket exists)."""
    if claimed is None or claimed > now + SKEW or claimed < now - OLDEST:
        return Taken(now, "server")
    if opened is not None and claimed < opened - SKEW:
        return Taken(now, "server")
    at = min(claimed, now)
    if last is not None and at < last:
        return Taken(last, "previous")
    return Taken(at, "client")


def parse_claim(text: str) -> dt.datetime | None:
    """A form's `taken_at` (ISO 8601 with an offset, as the browser's toISOString writes),
    or None when absent or unreadable (the server's time is used)."""
    if not text or len(text) > 40:
        return None
    try:
        found = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return found if found.tzinfo is not None else None
