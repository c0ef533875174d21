"""Turns one ICMP result into the state it shows, before any confirmation (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitord.checks.icmp.client import PingResult
from monitord.config.models import IcmpSettings
from monitord.health.states import State


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one check showed: UP, DEGRADED or DOWN, why, and the figures behind it.

    The tracker keeps each device's last one (10 000 at fleet size), so the figures are plain
    fields (~0.2 kB) and `observation`, the dict the operation record stores, is made when a
    state changes (a dict with a nested RTT dict per device was ~0.6 kB)."""

    state: State
    reason: str
    sent: int = 0
    received: int = 0
    loss_pct: float = 100.0
    rtt_min_ms: float | None = None  # all three, or none (no reply)
    rtt_avg_ms: float | None = None
    rtt_max_ms: float | None = None
    error: str | None = None

    @property
    def observation(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sent": self.sent, "received": self.received,
                               "loss_pct": self.loss_pct}  # fmt: skip
        if self.rtt_avg_ms is not None:
            out["rtt_ms"] = {"min": self.rtt_min_ms, "avg": self.rtt_avg_ms, "max": self.rtt_max_ms}
        if self.error:
            out["error"] = self.error
        return out


def evaluate(result: PingResult, settings: IcmpSettings) -> Outcome:
    state, reason = _verdict(result, settings)
    loss = round(result.loss * 100, 1)
    if result.rtt_avg is None:
        return Outcome(state, reason, result.sent, result.received, loss, error=result.error)
    low, avg, high = (
        round(x * 1000, 3) for x in (result.rtt_min or 0, result.rtt_avg, result.rtt_max or 0)
    )
    return Outcome(state, reason, result.sent, result.received, loss, low, avg, high, result.error)


def _verdict(result: PingResult, settings: IcmpSettings) -> tuple[State, str]:
    if result.error:
        return State.DOWN, f"ICMP: {result.error}"
    if not result.alive:
        return State.DOWN, f"ICMP: no reply to {result.sent} echo requests"
    loss_pct = result.loss * 100
    if loss_pct >= settings.degraded_loss_pct:
        return (
            State.DEGRADED,
            f"ICMP: {loss_pct:.0f}% loss (threshold {settings.degraded_loss_pct:g}%)",
        )
    rtt_ms = (result.rtt_avg or 0.0) * 1000
    if rtt_ms >= settings.degraded_rtt_ms:
        return (
            State.DEGRADED,
            f"ICMP: RTT {rtt_ms:.0f} ms (threshold {settings.degraded_rtt_ms:g} ms)",
        )
    return State.UP, "ICMP: replies"
