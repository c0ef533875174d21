"""One ICMP result to its outcome: the state, the reason, and the figures the operation
record stores (the same dict as before the figures became plain fields)."""

from __future__ import annotations

import sys

from monitord.checks.icmp.client import PingResult
from monitord.checks.icmp.evaluate import evaluate
from monitord.config.models import IcmpSettings
from monitord.health.states import State

SETTINGS = IcmpSettings(degraded_loss_pct=20.0, degraded_rtt_ms=200.0)


def test_replies_keep_their_figures_and_record_them_as_the_operation_record_did() -> None:
    out = evaluate(PingResult("10.0.0.1", 3, 3, (0.0012, 0.0020, 0.0031)), SETTINGS)
    assert (out.state, out.reason) == (State.UP, "ICMP: replies")
    assert (out.loss_pct, out.rtt_min_ms, out.rtt_avg_ms, out.rtt_max_ms) == (0.0, 1.2, 2.1, 3.1)
    assert out.observation == {
        "sent": 3, "received": 3, "loss_pct": 0.0,
        "rtt_ms": {"min": 1.2, "avg": 2.1, "max": 3.1},
    }  # fmt: skip


def test_loss_degrades_and_no_reply_is_down_without_rtt() -> None:
    lossy = evaluate(PingResult("10.0.0.1", 3, 2, (0.010, 0.030)), SETTINGS)
    assert (lossy.state, lossy.loss_pct) == (State.DEGRADED, 33.3)
    assert lossy.reason == "ICMP: 33% loss (threshold 20%)"
    dead = evaluate(PingResult("10.0.0.1", 3, 0, ()), SETTINGS)
    assert (dead.state, dead.rtt_avg_ms) == (State.DOWN, None)
    assert dead.observation == {"sent": 3, "received": 0, "loss_pct": 100.0}


def test_an_error_is_down_and_named() -> None:
    out = evaluate(PingResult("10.0.0.1", 3, 0, (), error="no route to host"), SETTINGS)
    assert (out.state, out.reason) == (State.DOWN, "ICMP: no route to host")
    assert out.observation["error"] == "no route to host"


def test_an_outcome_kept_per_device_is_small() -> None:
    # The tracker keeps one per device: the figures as fields, not dicts (was ~0.6 kB).
    out = evaluate(PingResult("10.0.0.1", 3, 3, (0.0012, 0.0020, 0.0031)), SETTINGS)
    floats = sum(sys.getsizeof(getattr(out, f)) for f in ("loss_pct", "rtt_min_ms",
                                                        "rtt_avg_ms", "rtt_max_ms"))  # fmt: skip
    assert sys.getsizeof(out) + floats <= 250
    assert not hasattr(out, "__dict__")
