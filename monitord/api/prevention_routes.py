"""The API's preventive endpoints: inspections, follow-up visits, warranty (P1, P3, P4).

Engineers and managers read and record; a customer reads its own contract's sites only
(another site's task is "not found"). Without postponed annotations on purpose: the caller
dependency is handed in by `create_app`, and FastAPI must see it when the route is defined.
"""

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import Field

from monitord.api.auth import Principal
from monitord.api.schemas import Body, Id
from monitord.clock import Clock
from monitord.config import Config
from monitord.config.contracts import TicketClass
from monitord.config.models import ApiRole, Site
from monitord.notify.messages import Routing
from monitord.present import prevention as pv
from monitord.prevention import followups, inspections, warranty
from monitord.store import Store
from monitord.store.records import FollowUpVisit

Who = Annotated[str, Field(min_length=1, max_length=200)]
Rating = Annotated[int, Field(ge=1, le=5)]
Text = Annotated[str, Field(max_length=100_000)]


class ResultIn(Body):
    item: Annotated[str, Field(min_length=1)]
    result: Literal["pass", "fail"]
    by: Who
    note: Text = ""
    device: str | None = None
    open_ticket: bool = Field(False, description="A failure opens its ticket at once.")
    ticket_class: TicketClass = Field(TicketClass.C, alias="class")


class VisitIn(Body):
    site: Annotated[str, Field(min_length=1)]
    by: Who
    visited_at: dt.datetime | None = Field(None, description="Default: now. With a zone.")
    contact: Text = ""
    attitude: Rating | None = None
    responsibility: Rating | None = None
    effect: Rating | None = None
    score: Annotated[int, Field(ge=0, le=100)] | None = None
    problems: Text = ""
    suggestions: Text = ""
    quality_problem: bool = False
    open_ticket: bool = Field(False, description="A quality problem: open its ticket.")
    ticket_class: TicketClass = Field(TicketClass.C, alias="class")


def prevention_router(
    store: Store,
    config: Callable[[], Config],
    clock: Clock,
    caller: Callable[..., Principal],
) -> APIRouter:
    router = APIRouter(tags=["prevention"])
    Caller = Annotated[Principal, Depends(caller)]

    def visible_sites(who: Principal, current: Config) -> dict[str, Site]:
        return {s.id: s for s in current.sites if who.sees_contract(s.contract or "")}

    def writer(who: Principal) -> None:
        who.require(ApiRole.ENGINEER, ApiRole.MANAGER)

    @router.get("/api/v1/inspections")
    async def list_inspections(
        who: Caller,
        site: str | None = None,
        open_only: Annotated[bool, Query(alias="open")] = False,
    ) -> list[dict[str, Any]]:
        """Inspection tasks by due time (state: open, overdue, done)."""
        current, now = config(), clock.now()
        sites = visible_sites(who, current)
        found = await asyncio.to_thread(store.inspections.tasks, None, site, None, None, open_only)
        return [pv.task_dict(current, t, None, now) for t in found if t.site_id in sites]

    async def one_task(who: Principal, task_id: int) -> Any:
        found = await asyncio.to_thread(store.inspections.task, task_id)
        if found is None or found[0].site_id not in visible_sites(who, config()):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"inspection {task_id} does not exist")
        return found

    @router.get("/api/v1/inspections/{task_id}")
    async def get_inspection(who: Caller, task_id: Id) -> dict[str, Any]:
        """One task: its checklist (en, zh) and every recorded result."""
        task, results = await one_task(who, task_id)
        return pv.task_dict(config(), task, results, clock.now())

    @router.post("/api/v1/inspections/{task_id}/results", status_code=status.HTTP_201_CREATED)
    async def post_result(who: Caller, task_id: Id, body: ResultIn) -> dict[str, Any]:
        """Record one item's result; with `open_ticket` a failure opens its ticket."""
        writer(who)
        await one_task(who, task_id)
        current = config()
        try:
            task, results, ticket = await asyncio.to_thread(
                inspections.record, store, current, task_id, body.item, body.result, body.by,
                clock.now(), body.note, body.device, body.open_ticket, body.ticket_class,
                Routing.from_config(current),
            )  # fmt: skip
        except inspections.InspectionError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        return {**pv.task_dict(current, task, results, clock.now()), "ticket": ticket}

    @router.get("/api/v1/followups")
    async def list_followups(who: Caller, site: str | None = None) -> list[dict[str, Any]]:
        """Per site owing visits: its windows (done, due, overdue) and visits with surveys."""
        current = config()
        visits = await asyncio.to_thread(store.followups.visits, None, site)
        statuses = await asyncio.to_thread(followups.ticket_statuses, store, visits)
        sites = visible_sites(who, current)
        out = pv.followups_dicts(current, visits, clock.now(), site, statuses)
        return [s for s in out if s["site"] in sites]

    @router.post("/api/v1/followups", status_code=status.HTTP_201_CREATED)
    async def post_followup(who: Caller, body: VisitIn) -> dict[str, Any]:
        """Record a follow-up visit and its survey (用户回访反馈信息表)."""
        writer(who)
        current = config()
        site = next((s for s in current.sites if s.id == body.site), None)
        if site is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown site {body.site!r}"
            )
        at = body.visited_at or clock.now()
        if at.tzinfo is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "visited_at needs a time zone offset"
            )
        visit = FollowUpVisit(
            "", site.id, at.astimezone(dt.UTC), body.by, body.contact, body.attitude,
            body.responsibility, body.effect, body.score, body.problems, body.suggestions,
            body.quality_problem,
        )  # fmt: skip
        try:
            saved = await asyncio.to_thread(
                followups.record, store, current, visit, body.open_ticket, body.ticket_class,
                Routing.from_config(current),
            )  # fmt: skip
        except followups.FollowUpError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
        return pv.visit_dict(site, saved)

    @router.get("/api/v1/warranty")
    async def list_warranty(
        who: Caller,
        site: str | None = None,
        within_days: Annotated[int | None, Query(ge=0, le=36_500)] = None,
    ) -> list[dict[str, Any]]:
        """Devices whose warranty ends within the horizon (default: warranty_horizon)."""
        current = config()
        horizon = (
            dt.timedelta(days=within_days)
            if within_days is not None
            else current.prevention.warranty_horizon
        )
        sites = visible_sites(who, current)
        found = warranty.expiring(current, clock.now(), horizon, site)
        return [pv.coverage_dict(c) for c in found if c.site in sites]

    return router
