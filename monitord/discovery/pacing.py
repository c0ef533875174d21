"""Per-switch pacing: at most `rate` SNMP requests a second to any one address.

The sweep's global `Pacer` spaces walks across the whole run; a walk is many GETBULKs to
one agent, and a small access switch's CPU answers SNMP in the same process that ages its
forwarding table. So every request (not every walk) takes a token from its target's bucket.

The bucket holds one token and refills at `HEADROOM` of the cap: the cap is a promise about
what the switch receives, and our event loop may delay one datagram a little after its
grant and send the next on time; 5 % of the spacing covers that jitter, so no second seen
by the switch holds more than `rate` requests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Final

from monitord.clock import Clock, SystemClock

HEADROOM: Final = 0.95
DEFAULT_SWITCH_RATE: Final = 50.0


@dataclass(slots=True)
class _Bucket:
    next_free: float = float("-inf")  # when the next token is there (monotonic)


@dataclass(slots=True)
class TargetBuckets:
    """One token bucket per target address, on the injectable clock."""

    rate: float = DEFAULT_SWITCH_RATE
    clock: Clock = field(default_factory=SystemClock)
    _buckets: defaultdict[str, _Bucket] = field(default_factory=lambda: defaultdict(_Bucket))
    requests: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def spacing(self) -> float:
        return 1.0 / (self.rate * HEADROOM)

    async def take(self, address: str) -> None:
        # Spaced from the instant a request is actually let go (not from its planned slot),
        # so a late wake-up never lets the next request follow too closely. Concurrent
        # waiters on one address wake together and all but one wait again: bounded by them.
        bucket = self._buckets[address]
        while (wait := bucket.next_free - self.clock.monotonic()) > 0:
            await self.clock.sleep(wait)
        bucket.next_free = self.clock.monotonic() + self.spacing
        self.requests[address] += 1
