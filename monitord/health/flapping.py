"""Flapping by state-change rate with hysteresis (Icinga 2's model).

The last `window` outcomes are kept; each change between neighbours counts with a weight
rising linearly from 0.8 (oldest) to 1.2 (newest), so recent changes matter more. Flapping
starts above `high_pct` and stops only below `low_pct`, so a device near the threshold does
not flip in and out of FLAPPING.
"""

from __future__ import annotations

from typing import Final

from monitord.health.states import State

# One character per outcome: a detector per device and tracker (20 000 at 10 000 devices),
# and a deque(maxlen=20) plus an instance dict held ~380-880 B each; a short str ~70 B.
_CODE: Final = {state: chr(ord("a") + i) for i, state in enumerate(State)}


class FlapDetector:
    __slots__ = ("_history", "flapping", "high_pct", "low_pct", "window")

    def __init__(self, window: int = 20, high_pct: float = 30.0, low_pct: float = 25.0) -> None:
        self.window, self.high_pct, self.low_pct = window, high_pct, low_pct
        self._history = ""
        self.flapping = False

    def change_pct(self) -> float:
        states = self._history
        if len(states) < 2:
            return 0.0
        changes = 0.0
        for i in range(1, len(states)):
            if states[i] != states[i - 1]:
                changes += 0.8 + 0.4 * (i - 1) / max(1, self.window - 2)
        return 100.0 * changes / (self.window - 1)

    def add(self, state: State) -> bool | None:
        """Record an outcome; return True when flapping starts, False when it stops, else None."""
        self._history = (self._history + _CODE[state])[-self.window :]
        pct = self.change_pct()
        if not self.flapping and pct > self.high_pct:
            self.flapping = True
            return True
        if self.flapping and pct < self.low_pct:
            self.flapping = False
            return False
        return None
