"""Turns one ICMP result into the state it shows, before any confirmation (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitord.checks.icmp.client import PingResult
from monitord.config.models import IcmpSettings
from monitord.health.states import State


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one check showed: UP, DEGRADED or DOWN, why, and the figures behind it."""

    state: State
    reason: str
    observation: dict[str, Any]


def evaluate(result: PingResult, settings: IcmpSettings) -> Outcome:
    observation: dict[str, Any] = {
        "sent": result.sent,
        "received": result.received,
        "loss_pct": round(result.loss * 100, 1),
    }
    if result.rtt_avg is not None:
        observation["rtt_ms"] = {
            "min": round((result.rtt_min or 0) * 1000, 3),
            "avg": round(result.rtt_avg * 1000, 3),
            "max": round((result.rtt_max or 0) * 1000, 3),
        }
    if result.error:
        observation["error"] = result.error
        return Outcome(State.DOWN, f"ICMP: {result.error}", observation)
    if not result.alive:
        return Outcome(State.DOWN, f"ICMP: no reply to {result.sent} echo requests", observation)
    loss_pct = result.loss * 100
    if loss_pct >= settings.degraded_loss_pct:
        return Outcome(
            State.DEGRADED,
            f"ICMP: {loss_pct:.0f}% loss (threshold {settings.degraded_loss_pct:g}%)",
            observation,
        )
    rtt_ms = (result.rtt_avg or 0.0) * 1000
    if rtt_ms >= settings.degraded_rtt_ms:
        return Outcome(
            State.DEGRADED,
            f"ICMP: RTT {rtt_ms:.0f} ms (threshold {settings.degraded_rtt_ms:g} ms)",
            observation,
        )
    return Outcome(State.UP, "ICMP: replies", observation)
