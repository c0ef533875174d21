"""The API's maintenance windows (P5): list them, start one now, end one early.

Engineers and managers start and end windows; everyone reads, a customer only the windows
scoped to its own sites or their devices. The daemon sees a window started here within
seconds. Without postponed annotations on purpose, like prevention_routes: FastAPI must see
the caller dependency when the route is defined.
"""

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import ConfigDict, Field

from monitord import log
from monitord.api.auth import Principal
from monitord.api.schemas import Body, Id
from monitord.clock import Clock
from monitord.config import Config
from monitord.config.durations import Duration
from monitord.config.models import ApiRole
from monitord.prevention.adhoc import BadWindow, configured_json, start_window, stored_json
from monitord.store import Store
from monitord.store.records import WindowRecord

_log = log.get("monitord.api")


class WindowIn(Body):
    model_config = ConfigDict(populate_by_name=True)

    device: str | None = None
    site: str | None = None
    kind: str | None = None
    length: Duration = Field(alias="for", description="How long: 30m, 2h, or seconds.")
    start: dt.datetime | None = Field(None, description="Default: now. With a UTC offset.")
    reason: Annotated[str, Field(min_length=1, max_length=10_000)]
    by: Annotated[str, Field(min_length=1, max_length=200)]


def maintenance_router(
    store: Store,
    config: Callable[[], Config],
    clock: Clock,
    caller: Callable[..., Principal],
) -> APIRouter:
    router = APIRouter(tags=["maintenance"])
    Caller = Annotated[Principal, Depends(caller)]

    def visible(who: Principal, current: Config, device: str | None, site: str | None) -> bool:
        if who.role != ApiRole.CUSTOMER:
            return True
        mine = {s.id for s in current.sites if s.contract == who.contract}
        if device is not None:
            site = next((d.site for d in current.devices if d.id == device), None)
        # Only windows scoped to its own sites: a kind-wide (fleet-wide) window is the
        # operator's planning, and its reason text is written for the whole fleet.
        return site is not None and site in mine

    @router.get("/api/v1/maintenance")
    async def list_windows(who: Caller, everything: bool = False) -> list[dict[str, Any]]:
        """Windows started by hand (running or ahead; `everything`: the last 30 days too),
        then the configured ones."""
        now, current = clock.now(), config()
        since = now - dt.timedelta(days=30) if everything else now
        stored = await asyncio.to_thread(store.windows.ending_after, since)
        out = [stored_json(current, w, now) for w in stored
               if visible(who, current, w.device_id, w.site_id)]  # fmt: skip
        out += [configured_json(current, w, now) for w in current.maintenance
                if visible(who, current, w.device, w.site)]  # fmt: skip
        return out

    @router.post("/api/v1/maintenance", status_code=status.HTTP_201_CREATED)
    async def start(who: Caller, body: WindowIn) -> dict[str, Any]:
        """Start a window ("I'm working on this switch for 30 min"): no tickets meanwhile."""
        who.require(ApiRole.ENGINEER, ApiRole.MANAGER)
        now, current = clock.now(), config()
        try:
            w = await asyncio.to_thread(
                lambda: start_window(
                    current, store, device=body.device, site=body.site, kind=body.kind,
                    start=body.start or now, length=body.length, reason=body.reason,
                    by=body.by, now=now,
                )
            )  # fmt: skip
        except BadWindow as exc:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                [{"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}],
            ) from None
        _log.info("maintenance window via api", window=w.id, client=who.name)
        return stored_json(current, w, now)

    @router.post("/api/v1/maintenance/{window_id}/end")
    async def end(who: Caller, window_id: Id) -> dict[str, Any]:
        """End a window started by hand now; a fault still there opens its ticket."""
        who.require(ApiRole.ENGINEER, ApiRole.MANAGER)
        now = clock.now()
        w: WindowRecord | None = await asyncio.to_thread(store.windows.end, window_id, now)
        if w is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"window {window_id} does not exist")
        _log.info("maintenance window ended via api", window=w.id, client=who.name)
        return stored_json(config(), w, now)

    return router
