"""The vocabulary of device health: states and whether they are confirmed."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """What monitord believes about a device.

    PENDING: never checked yet. UNREACHABLE: every parent is down, so the device's own
    state is unknown and its outage belongs to the root device. FLAPPING: the state changes
    too often to act on each change. UNKNOWN: the site poller that watches the device has
    gone silent, so nothing is known; never a stale green, never a fault of the device.
    """

    PENDING = "pending"
    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    UNREACHABLE = "unreachable"
    FLAPPING = "flapping"
    UNKNOWN = "unknown"


class StateType(StrEnum):
    """SOFT until confirmed by retries, HARD after (the Nagios/Icinga model)."""

    SOFT = "soft"
    HARD = "hard"
