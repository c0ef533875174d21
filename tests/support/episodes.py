"""A simulated fleet on an injected clock: real tracker, real desk, real store, echoes cut.

Each check sends `count` echoes `echo_interval` apart; an echo sent while its device is cut
is lost. The real `evaluate()` turns the answers into an outcome, the real tracker confirms
it, the real desk writes tickets. Nothing sleeps: the simulation jumps from check to check.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field

from monitord.checks.icmp.client import PingResult
from monitord.checks.icmp.evaluate import evaluate
from monitord.config.models import IcmpSettings
from monitord.health.states import State
from tests.support.ticketlab import T0, Lab


@dataclass
class Cut:
    """Devices whose echoes are dropped from `start` until `heal` (None: not yet healed)."""

    devices: frozenset[str]
    start: float
    heal: float | None = None

    def drops(self, device: str, at: float) -> bool:
        return device in self.devices and at >= self.start and (self.heal is None or at < self.heal)


@dataclass
class Fleet:
    """Runs checks in time order; `at` is seconds since T0."""

    lab: Lab
    at: float = 0.0
    cut: Cut | None = None
    # Of a cut device, only these many echoes per check are dropped (partial loss).
    lossy: dict[str, int] = field(default_factory=dict)
    due: list[tuple[float, int, str]] = field(default_factory=list)
    _seq: int = 0
    _latest: dict[str, int] = field(default_factory=dict)  # one pending check per device

    def __post_init__(self) -> None:
        for device in sorted(self.lab.tracker.devices):
            self.schedule(device, 0.0)

    def schedule(self, device: str, at: float) -> None:
        self._seq += 1
        self._latest[device] = self._seq
        heapq.heappush(self.due, (at, self._seq, device))

    def settings(self, device: str) -> IcmpSettings:
        return self.lab.tracker.settings[device]

    def next_start(self, device: str) -> float:
        """When `device`'s next check starts (its earliest pending one)."""
        return next(at for at, seq, d in self.due if self._latest[d] == seq and d == device)

    async def run_until(self, until: float) -> None:
        while self.due and self.due[0][0] <= until:
            start, seq, device = heapq.heappop(self.due)
            if self._latest[device] != seq:
                continue  # replaced by a recheck (the scheduler moves a device's turn)
            s = self.settings(device)
            sent_at = [start + i * s.echo_interval for i in range(s.count)]
            dropped = [t for t in sent_at if self.cut and self.cut.drops(device, t)]
            dropped = dropped[: self.lossy.get(device, len(dropped))]
            answered = [t for t in sent_at if t not in dropped]
            result = PingResult(device, s.count, len(answered), tuple(0.001 for _ in answered))
            done = start + (s.count - 1) * s.echo_interval + (s.timeout if not answered else 0.01)
            self.at = max(self.at, done)
            now = T0 + dt.timedelta(seconds=self.at)
            verdict = self.lab.tracker.observe(device, evaluate(result, s), now)
            for t in verdict.transitions:
                await self.lab.desk.on_transition(t, self.lab.tracker)
            for other in verdict.recheck:
                self.schedule(other, self.at)
            self.schedule(device, self.at + verdict.next_check_in)
        self.at = max(self.at, until)

    async def run_while(self, busy: float, condition: object) -> None:
        """Run in steps of `busy` seconds while `condition()` holds (bounded: 1000 steps)."""
        assert callable(condition)
        for _ in range(1000):
            if not condition():
                return
            await self.run_until(self.at + busy)
        raise AssertionError("the simulation did not settle")

    def state(self, device: str) -> State:
        return self.lab.tracker.devices[device].state
