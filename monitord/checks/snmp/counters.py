"""Counters and uptimes from SNMP agents: reboots, wraps and resets (pure arithmetic)."""

from __future__ import annotations

from typing import Final

TICKS_PER_SECOND: Final = 100
TICKS_WRAP: Final = 2**32  # sysUpTime is TimeTicks (32 bits): it wraps after ~497 days


def _tolerance(elapsed: float) -> float:
    # Agents' tick clocks drift and a poll takes time: allow 10 s or 10 %.
    return max(10.0, 0.1 * elapsed)


def rebooted(previous_ticks: int, ticks: int, elapsed: float) -> bool:
    """Did the agent restart between two polls `elapsed` seconds apart?

    Uptime should have grown by about `elapsed`. Less than that means a restart, even when
    the new uptime is above the old one (it rebooted early in a long interval); a drop that
    a 32-bit wrap explains is not one.
    """
    expected = previous_ticks + elapsed * TICKS_PER_SECOND
    slack = _tolerance(elapsed) * TICKS_PER_SECOND
    if ticks < previous_ticks:
        # An agent's ticks never go back, except at a restart or the 32-bit wrap.
        return not (expected >= TICKS_WRAP and abs(expected - TICKS_WRAP - ticks) <= slack)
    return ticks < expected - slack


def rate(previous: int, value: int, bits: int, elapsed: float) -> float | None:
    """Per-second rate of a counter, or None when it cannot be told.

    A 32-bit counter that went down wrapped if the wrapped delta is plausible (under half its
    range); a 64-bit one practically never wraps, so going down means it was reset
    (agent restart, counter cleared), and the interval has no rate.
    """
    if elapsed <= 0:
        return None
    delta = value - previous
    if delta < 0:
        if bits >= 64:
            return None
        delta += 2**bits
        if delta >= 2 ** (bits - 1):
            return None
    return delta / elapsed
