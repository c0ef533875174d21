"""Service contracts as data: classification rules (C1-C5) and SLA clocks (T2-T4).

A contract never lives in code: the two seed contracts ship as configuration files in
config/contracts/. Rules are evaluated in order and the first that matches names the class;
its name is recorded on the ticket ("nvr-down -> A").
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitord.config.calendar import BusinessHours
from monitord.config.durations import Duration
from monitord.config.early import EarlyWarnings
from monitord.config.prevention import PreventionTerms


class TicketClass(StrEnum):
    """Seed 000 section 1: A stops the business ... D improves the system.

    Compare with `rank`, never by the letter: A is the most severe.
    """

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def rank(self) -> int:
        return {"A": 4, "B": 3, "C": 2, "D": 1}[self.value]


class FaultKind(StrEnum):
    DOWN = "down"
    DEGRADED = "degraded"
    FLAPPING = "flapping"
    HOTLINE = "hotline"
    WARNING = "warning"  # an early warning (P2): a trend, not an outage
    INSPECTION = "inspection"  # a failed inspection item (P1)
    FOLLOWUP = "followup"  # a quality problem named at a follow-up visit (P4)
    WARRANTY = "warranty"  # warranties ending soon at a site (P3)
    SITE_LINK_LOST = "site_link_lost"  # its poller is silent (D3): one ticket, not one per device


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class When(_Frozen):
    """Conditions of a rule; all given ones must hold (an empty `when` always matches)."""

    fault: tuple[FaultKind, ...] = ()
    kind: tuple[str, ...] = ()
    criticality: tuple[str, ...] = ()
    zone: tuple[Literal["city", "county"], ...] = ()
    impacted_gte: Annotated[int, Field(ge=0)] | None = None
    impacted_cameras_gte: Annotated[int, Field(ge=0)] | None = None
    camera_dark_share_gte: Annotated[float, Field(ge=0, le=1)] | None = None
    recording_affected: bool | None = None
    access_point_out: bool | None = None


class Rule(_Frozen):
    name: str
    ticket_class: TicketClass = Field(alias="class")
    when: When = When()


class ZoneDurations(_Frozen):
    city: Duration
    county: Duration


class Clock(_Frozen):
    """One deadline: `met_by` this ticket event, `within` this long of the clock's start."""

    milestone: str
    met_by: Literal["acknowledged", "on_site", "diagnosis", "plan", "resolved", "verified"]
    within: Duration | ZoneDurations
    pausable: bool = False


class CustomerContact(_Frozen):
    """Who accepts repairs for the customer (a property manager), without a console account:
    sent a one-time sign-off link when a ticket of theirs is resolved and a follow-up survey
    link when it is signed off (notify/customer.py), by email and/or SMS."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.\-]*$", max_length=64)]
    name: str
    language: Literal["zh", "en"] = "zh"
    email: str | None = None
    phone: str | None = None
    sites: tuple[str, ...] = ()  # empty: every site of the contract


class Contract(_Frozen):
    id: str
    name: str
    rules: tuple[Rule, ...]
    clocks: dict[TicketClass | Literal["hotline"], tuple[Clock, ...]] = {}
    warn_at: tuple[Annotated[float, Field(gt=0, lt=1)], ...] = (0.5, 0.8)
    reopen_within: Duration = dt.timedelta(hours=24)
    business_hours: BusinessHours | None = None  # None: every clock runs 24x7
    early_warnings: EarlyWarnings = EarlyWarnings()
    language: Literal["zh", "en"] = "zh"  # of the customer-facing reports
    prevention: PreventionTerms = PreventionTerms()  # inspections, follow-ups, warranty
    customer_contacts: tuple[CustomerContact, ...] = ()  # sign-off and survey links

    @model_validator(mode="after")
    def _has_fallback(self) -> Contract:
        if not self.rules or self.rules[-1].when != When():
            raise ValueError("the last rule must have no conditions (the fallback class)")
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError("rule names must be unique")
        return self
