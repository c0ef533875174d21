"""A poller's clock, as the centre sees it: the offset, and event times corrected by it.

Each push of a 1.1 poller carries the four times of its previous exchange (wire.Clock), so
the centre measures the offset as NTP does: ((t1 - t0) + (t2 - t3)) / 2, which cancels a
symmetric network delay (an exchange slower than MAX_ROUND_TRIP is not used). Without them
(the first push, a 1.0 poller) the centre takes the arrival minus `sent_at`, off by the
one-way delay. Entry times are moved by the offset when it is larger than what its
measurement's error could explain, and an entry still dated in the future beyond
FUTURE_BOUND is re-dated to its arrival (Icinga #6797: future-dated results that pin a
state until the clock catches up); its poller's own time stays in the observation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from monitord.sites.wire import Entry, FactsEntry, PushIn
from monitord.store.records import OperationEvent

CORRECT_ABOVE: Final = 1.0  # seconds: below, noise; the poller's times are kept as written
# Without the four times, the offset is arrival minus `sent_at`, which also holds however
# long the push took to arrive (a request sent as the line was cut arrives when it heals,
# up to the link's timeout later): only an offset no delay can explain is corrected.
COARSE_ABOVE: Final = 30.0
MAX_ROUND_TRIP: Final = 2.0  # seconds: an exchange slower than this is no measurement
SKEWED: Final = 60.0  # seconds: a clock this far off is worth a warning (and an alert)
FUTURE_BOUND: Final = 5.0  # seconds past the arrival a corrected entry may still be dated


CLOCK_CHECK: Final = "poller_clock"  # the finding's check, in each device's operation record


def skewed(seconds: float | None) -> bool:
    """A clock this far off is a finding on the poller (its times are corrected, but a
    box whose NTP is broken is worth a visit)."""
    return seconds is not None and abs(seconds) > SKEWED


def clock_findings(
    poller: str, devices: Sequence[str], seconds: float, at: dt.datetime, on: bool
) -> list[OperationEvent]:
    """The finding's lines in the operation record of each device of the poller's sites:
    ok -> warning when its clock passes SKEWED, back to ok when it returns."""
    frm, to = ("ok", "warning") if on else ("warning", "ok")
    reason = (f"site poller {poller}'s clock is off by {seconds:+.0f} s; times corrected"
              if on else f"site poller {poller}'s clock is right again ({seconds:+.1f} s)")  # fmt: skip
    seen = {"check": CLOCK_CHECK, "poller": poller, "offset_s": round(seconds, 3)}
    return [OperationEvent(d, at, "finding", frm, to, reason, dict(seen)) for d in devices]


def offset(body: PushIn, received: dt.datetime) -> tuple[float, float]:
    """Centre clock minus poller clock, in seconds, and the offset below which it is
    noise (CORRECT_ABOVE from the four times, COARSE_ABOVE from `sent_at` alone)."""
    c = body.clock
    if c is not None:
        trip = ((c.t3 - c.t0) - (c.t2 - c.t1)).total_seconds()
        if 0 <= trip <= MAX_ROUND_TRIP:
            return ((c.t1 - c.t0) + (c.t2 - c.t3)).total_seconds() / 2, CORRECT_ABOVE
    return (received - body.sent_at).total_seconds(), COARSE_ABOVE


def corrected(
    entry: Entry, seconds: float, received: dt.datetime, above: float = CORRECT_ABOVE
) -> tuple[Entry, bool]:
    """The entry on the centre's clock; True if it was dated in the future even so."""
    at = entry.at
    if abs(seconds) > above:
        at = at + dt.timedelta(seconds=seconds)
    future = at > received + dt.timedelta(seconds=FUTURE_BOUND)
    if future:
        at = received
    if at == entry.at:
        return entry, False
    if isinstance(entry, FactsEntry):
        return entry.model_copy(update={"at": at}), future
    noted = {**entry.observation, "poller_at": entry.at.isoformat()}
    return entry.model_copy(update={"at": at, "observation": noted}), future
