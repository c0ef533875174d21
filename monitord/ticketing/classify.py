"""Classification (C1-C5): a pure function of the fault, its impact and the contract's rules."""

from __future__ import annotations

from monitord.config.contracts import Contract, TicketClass, When
from monitord.health.faults import Fault


def classify(fault: Fault, contract: Contract) -> tuple[TicketClass, str]:
    """The class and the name of the first rule that matches (the last rule always does)."""
    for rule in contract.rules:
        if _matches(rule.when, fault):
            return rule.ticket_class, rule.name
    raise AssertionError("a contract's last rule has no conditions")  # validated at load


def _matches(when: When, fault: Fault) -> bool:
    impact = fault.impact
    checks = [
        not when.fault or fault.kind in when.fault,
        not when.kind or fault.device_kind in when.kind,
        not when.criticality or fault.criticality in when.criticality,
        not when.zone or fault.zone in when.zone,
        when.impacted_gte is None or len(impact.devices) >= when.impacted_gte,
        when.impacted_cameras_gte is None
        or impact.by_kind.get("camera", 0) >= when.impacted_cameras_gte,
        when.camera_dark_share_gte is None
        or impact.camera_dark_share >= when.camera_dark_share_gte,
        when.recording_affected is None or impact.recording_affected == when.recording_affected,
        when.access_point_out is None or impact.access_point_out == when.access_point_out,
    ]
    return all(checks)
