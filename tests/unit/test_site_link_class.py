"""The seed contracts class a "site link lost" ticket by a rule of their own, not by the
fallback (issue 14, D3)."""

from __future__ import annotations

import pytest

from monitord.config.contracts import Contract, FaultKind, TicketClass
from monitord.health.faults import Fault, Impact
from monitord.ticketing.classify import classify
from tests.support.contracts import SEED_000, SEED_004


@pytest.mark.parametrize("contract", [SEED_000, SEED_004], ids=lambda c: c.id)
def test_site_link_lost_has_its_own_rule(contract: Contract) -> None:
    fault = Fault("p-north", "north", FaultKind.SITE_LINK_LOST, "poller", "normal", "city",
                  Impact(devices=("cam-1", "nvr-1", "sw-1")))  # fmt: skip
    ticket_class, rule = classify(fault, contract)
    assert rule == "site-link-lost"
    assert ticket_class == TicketClass.B
    assert rule != contract.rules[-1].name  # not the fallback
