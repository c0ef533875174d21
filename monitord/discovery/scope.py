"""The one rule of discovery traffic: only configured ranges, and never faster than the rate.

Every prober asks `Scope.allows()` before it sends and drops any reply from outside the
ranges; `Pacer` spaces sends so that a sweep never floods a camera VLAN or a switch.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from monitord.clock import Clock, SystemClock
from monitord.config.addresses import Network

MAX_ADDRESSES: Final = 65_536  # a /16 at most per run: bounded loops, bounded memory


class ScopeError(ValueError):
    """A range that may not be swept (malformed, or too large); the message names it."""


def networks(texts: Iterable[str]) -> tuple[Network, ...]:
    out: list[Network] = []
    for text in texts:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ScopeError(f"{text!r} is not a CIDR range") from None
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Scope:
    ranges: tuple[Network, ...]

    def __post_init__(self) -> None:
        total = sum(n.num_addresses for n in self.ranges)
        if total > MAX_ADDRESSES:
            raise ScopeError(f"the ranges hold {total} addresses; at most {MAX_ADDRESSES}")

    def allows(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        return any(ip.version == n.version and ip in n for n in self.ranges)

    def hosts(self) -> Iterator[str]:
        """Every host address once, in order (network and broadcast left out for IPv4 > /31)."""
        seen: set[str] = set()
        for net in self.ranges:
            for ip in net.hosts() if net.num_addresses > 2 else net:
                text = str(ip)
                if text not in seen:
                    seen.add(text)
                    yield text

    def within(self, other: Sequence[Network]) -> list[Network]:
        """Ranges of ours outside every one of `other` (what --ranges may not add)."""
        return [n for n in self.ranges if not any(_inside(n, o) for o in other)]


def _inside(net: Network, outer: Network) -> bool:
    return net.version == outer.version and net.subnet_of(outer)  # type: ignore[arg-type]


@dataclass(slots=True)
class Pacer:
    """At most `rate` sends per second, evenly spaced, on the injectable clock."""

    rate: float
    clock: Clock = field(default_factory=SystemClock)
    _next: float | None = None
    sent: int = 0

    async def wait(self) -> None:
        # The slot is taken before sleeping, so concurrent senders queue up, never overlap.
        now = self.clock.monotonic()
        slot = now if self._next is None else max(now, self._next)
        self._next = slot + 1.0 / self.rate
        self.sent += 1
        if slot > now:
            await self.clock.sleep(slot - now)
