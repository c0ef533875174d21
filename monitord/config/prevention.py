"""Preventive terms of a contract (P1, P3, P4): inspection plans, follow-up visits, warranty.

Per contract, in its configuration file: seed 004 §2.2 inspects "monthly or quarterly"
(每月或每季度), seed 000 §2(3) visits the customer monthly during the first year after
acceptance and every 3 months after, and gives a 3-year warranty (叁年的质量保证).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from monitord.config.durations import Duration

Every = Literal["month", "quarter"]
# The values of models.DeviceKind, spelled out: models imports this module's users.
KindName = Literal["camera", "nvr", "access_controller", "switch", "other"]
Slug = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_\-]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ChecklistItem(_Frozen):
    id: Slug
    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)


class InspectionPlan(_Frozen):
    """Every `every`, one inspection task per site of the contract and device kind."""

    name: Slug
    every: Every
    kinds: tuple[KindName, ...] = Field(min_length=1)
    sites: tuple[str, ...] = ()  # empty: every site of the contract


class FollowUpCadence(_Frozen):
    """At least one visit per window: `first_year` months long, then `after` months long."""

    first_year: Annotated[int, Field(ge=1, le=12)] = 1
    after: Annotated[int, Field(ge=1, le=12)] = 3


class PreventionTerms(_Frozen):
    inspections: tuple[InspectionPlan, ...] = ()
    # Replaces the built-in checklist of a kind (monitord/prevention/checklists.py).
    checklists: dict[KindName, tuple[ChecklistItem, ...]] = {}
    followups: FollowUpCadence | None = None  # None: the contract asks for no visits
    warranty_years: Annotated[int, Field(ge=1, le=20)] | None = None  # from acceptance

    @model_validator(mode="after")
    def _one_plan_per_kind(self) -> PreventionTerms:
        names = [p.name for p in self.inspections]
        if len(set(names)) != len(names):
            raise ValueError("inspection plan names must be unique")
        covered: dict[str, list[frozenset[str] | None]] = {}  # None: every site
        for plan in self.inspections:
            sites = frozenset(plan.sites) or None
            for kind in plan.kinds:
                for other in covered.get(kind, []):
                    if sites is None or other is None or sites & other:
                        raise ValueError(f"two inspection plans cover kind {kind!r} at a site")
                covered.setdefault(kind, []).append(sites)
        for kind, items in self.checklists.items():
            ids = [i.id for i in items]
            if not items or len(set(ids)) != len(ids):
                raise ValueError(f"checklist {kind!r}: needs items with unique ids")
        return self


class PreventionSettings(_Frozen):
    """How the daemon runs the preventive side (global, not per contract)."""

    check_every: Annotated[float, Field(gt=0, le=86_400)] = 600.0  # seconds between passes
    warranty_horizon: Duration = dt.timedelta(days=90)
    warranty_tickets: bool = True  # one class C ticket per site and month listing them
