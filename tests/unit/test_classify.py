"""Classification by the seed contracts' rules (C1-C5)."""

from __future__ import annotations

import pytest

from monitord.config.contracts import FaultKind, TicketClass
from monitord.health.faults import Fault, Impact
from monitord.ticketing.classify import classify
from tests.support.contracts import SEED_000, SEED_004


def fault(
    kind: str = "camera",
    fault_kind: FaultKind = FaultKind.DOWN,
    criticality: str = "normal",
    **impact: object,
) -> Fault:
    return Fault("d1", "s1", fault_kind, kind, criticality, "city", Impact(**impact))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("the_fault", "expected"),
    [
        (fault("nvr"), (TicketClass.A, "nvr-down")),
        (fault("switch", criticality="critical"), (TicketClass.A, "core-switch-down")),
        (
            fault("switch", devices=("sw", "c1", "c2", "c3"), cameras_dark=3, cameras_at_site=10),
            (TicketClass.A, "cameras-dark-30pct"),
        ),
        (
            fault("switch", devices=("sw", "c1"), cameras_dark=1, cameras_at_site=10),
            (TicketClass.B, "switch-down"),
        ),
        (
            fault("access_controller", criticality="critical"),
            (TicketClass.A, "main-entrance-offline"),
        ),
        (fault("access_controller"), (TicketClass.B, "access-controller-down")),
        (fault("switch", recording_affected=True), (TicketClass.A, "recording-affected")),
        (fault("camera", cameras_dark=1, cameras_at_site=12), (TicketClass.B, "camera-down")),
        (fault("camera", FaultKind.DEGRADED), (TicketClass.B, "degraded-link")),
        (fault("camera", FaultKind.FLAPPING), (TicketClass.C, "flapping")),
    ],
)
def test_seed_000_rules(the_fault: Fault, expected: tuple[TicketClass, str]) -> None:
    assert classify(the_fault, SEED_000) == expected


def test_seed_004_general_fault_is_b() -> None:
    assert classify(fault("camera"), SEED_004) == (TicketClass.B, "general-fault")
    assert classify(fault("nvr"), SEED_004) == (TicketClass.A, "nvr-down")


def test_class_rank_orders_a_above_d() -> None:
    ranks = [c.rank for c in (TicketClass.A, TicketClass.B, TicketClass.C, TicketClass.D)]
    assert ranks == sorted(ranks, reverse=True)
